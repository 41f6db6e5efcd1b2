/**
 * Kite frame parser (live and replay). Frames:
 * - binary Ticker messages (a Uint8Array live; `{"kite":"bin","b64":…}` in recordings) → per packet:
 *   a derived trade from the cumulative-volume increase (derive.ts, "quote rule on snapshots"), then the
 *   5-level depth (the first full packet of an instrument as a BookSnapshot, later ones as the BookDelta against the
 *   previous 5 levels, seq NaN: the book is always exactly the last packet's 5 levels) and its best bid/ask as a
 *   Quote. ltp and index packets update the per-instrument snapshot state only (no volume, no depth).
 * - `{"kite":"instruments","rows":[KiteInstrument…],"holidays":[YYYY-MM-DD…]}`: the instruments dump the feed
 *   loaded, the configured exchange holidays and the PCR chain (`pcr`, pcr-state.ts), written first to a recording
 *   so a replay maps tokens to the same instruments with the same session calendar and computes the same PCR.
 * - Kite text messages (`{"type":"order"|"error"|"message",…}`) carry no market event and are ignored here
 *   (the feed logs them).
 * Malformed packets are counted in the parser state and the frame is reported as BadRow after its good
 * packets were delivered.
 */
import type { BookDelta, BookSnapshot, Level } from '../../core/events.js';
import type { Instrument } from '../../core/instruments.js';
import { BadRow, type EventSink } from '../../replay/types.js';
import { checkTs } from '../../replay/time.js';
import type { FeedContext } from '../../replay/context.js';
import { decodeKiteMessage, rawPrice, type KitePacket, type KiteDepthRow } from './packets.js';
import { deriveTrade, type SnapState } from './derive.js';
import { kiteSpec, type KiteInstrument } from './instruments.js';
import { kitePcrSpecProblem, setKitePcr, updateKitePcr, type KitePcrState, type KitePcrSpec } from './pcr-state.js';
import './meta.js';

/** Latest values of an instrument's snapshots (OI and volume feed the options-chain PCR). */
export interface KiteQuoteState extends SnapState {
  instrument: string;
  token: number;
  oi: number;
  ts: number;
  /** the 5-level book of the last full packet (ticks, lots) */
  book: { bids: Level[]; asks: Level[] } | null;
}

export interface KiteParserState {
  tokens: Map<number, Instrument>;
  dump: Map<number, KiteInstrument>;
  snaps: Map<number, KiteQuoteState>;
  stats: { messages: number; heartbeats: number; packets: number; malformedPackets: number; derivedTrades: number };
  /** the options-chain PCR of the recorded `kite.pcr` chain (pcr-state.ts) */
  pcr?: KitePcrState;
}

/** The Kite parser state of a context (created on first use). */
export function kiteState(ctx: FeedContext): KiteParserState {
  let s = ctx.venueState.get('kite') as KiteParserState | undefined;
  if (!s) {
    s = { tokens: new Map(), dump: new Map(), snaps: new Map(), stats: { messages: 0, heartbeats: 0, packets: 0, malformedPackets: 0, derivedTrades: 0 } };
    ctx.venueState.set('kite', s);
  }
  return s;
}

/** Register the instruments dump with a context (exact tick/lot per token; the exchange holidays close their sessions). */
export function registerKiteInstruments(ctx: FeedContext, rows: readonly KiteInstrument[], holidays: readonly string[] = []): void {
  const st = kiteState(ctx);
  for (const k of rows) {
    st.dump.set(k.token, k);
    const spec = kiteSpec(k, 0, holidays);
    st.tokens.set(k.token, ctx.registry.has(spec.id) ? ctx.registry.get(spec.id) : ctx.registry.add(spec));
  }
}

function instrumentOf(ctx: FeedContext, st: KiteParserState, p: KitePacket): Instrument {
  const known = st.tokens.get(p.token);
  if (known) return known;
  const inst = ctx.resolve('kite', String(p.token), () => [[rawPrice(p.last, p.decimals)], ['1']]);
  st.tokens.set(p.token, inst);
  return inst;
}

function bytesOf(frame: unknown): Uint8Array | undefined {
  if (frame instanceof Uint8Array) return frame;
  if (frame && typeof frame === 'object' && (frame as Record<string, unknown>).kite === 'bin') {
    const b64 = (frame as Record<string, unknown>).b64;
    if (typeof b64 !== 'string') throw new BadRow('kite bin frame without b64');
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  return undefined;
}

function levels(inst: Instrument, rows: KiteDepthRow[], decimals: number): Level[] {
  const out: Level[] = [];
  for (const [q, p] of rows) if (q > 0 && p > 0) out.push([inst.price.parse(rawPrice(p, decimals)), inst.qty.parse(String(q))]);
  return out;
}

function diff(prev: Level[], next: Level[]): Level[] {
  const out: Level[] = [];
  const now = new Map(next.map(([p, q]) => [p, q]));
  for (const [p] of prev) if (!now.has(p)) out.push([p, 0]);
  const before = new Map(prev.map(([p, q]) => [p, q]));
  for (const [p, q] of next) if (before.get(p) !== q) out.push([p, q]);
  return out;
}

export function parseKiteFrame(frame: unknown, recvTs: number, ctx: FeedContext, sink: EventSink): void {
  const bytes = bytesOf(frame);
  if (!bytes) {
    const o = typeof frame === 'string' ? (() => { try { return JSON.parse(frame) as unknown; } catch { throw new BadRow('kite text frame is not JSON'); } })() : frame;
    if (o && typeof o === 'object' && (o as Record<string, unknown>).kite === 'instruments') {
      const rows = (o as Record<string, unknown>).rows;
      if (!Array.isArray(rows)) throw new BadRow('kite instruments frame without rows');
      const hol = (o as Record<string, unknown>).holidays ?? [];
      if (!Array.isArray(hol) || hol.some((h) => typeof h !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(h))) throw new BadRow('kite instruments frame: holidays must be a list of YYYY-MM-DD');
      registerKiteInstruments(ctx, rows as KiteInstrument[], hol as string[]);
      const pcr = (o as Record<string, unknown>).pcr;
      if (pcr !== undefined) {
        const why = kitePcrSpecProblem(pcr);
        if (why) throw new BadRow(`kite instruments frame: ${why}`);
        setKitePcr(kiteState(ctx), pcr as KitePcrSpec);
      }
    }
    return;
  }
  const st = kiteState(ctx);
  st.stats.messages++;
  const msg = decodeKiteMessage(bytes);
  if (msg.heartbeat) { st.stats.heartbeats++; return; }
  for (const p of msg.packets) {
    st.stats.packets++;
    const inst = instrumentOf(ctx, st, p);
    const ts = checkTs(p.exchangeTime ? p.exchangeTime * 1000 : recvTs, 'kite exchange timestamp');
    let s = st.snaps.get(p.token);
    if (p.volume !== undefined) {
      const d = deriveTrade(s, p.volume, p.last);
      if (d) {
        const t = ctx.trade;
        t.instrument = inst.id; t.ts = ts; t.id = p.volume; t.price = inst.price.parse(rawPrice(d.price, p.decimals));
        t.size = inst.qty.parse(String(d.size)); t.side = d.side; t.sideSource = d.sideSource;
        st.stats.derivedTrades++;
        sink(t);
      }
    }
    if (!s) { s = { instrument: inst.id, token: p.token, volume: 0, bid: NaN, ask: NaN, last: p.last, sign: 0, oi: 0, ts, book: null }; st.snaps.set(p.token, s); }
    if (p.volume !== undefined) s.volume = p.volume;
    s.last = p.last;
    s.ts = ts;
    if (p.oi !== undefined) s.oi = p.oi;
    if (p.bids && p.asks) {
      const bids = levels(inst, p.bids, p.decimals), asks = levels(inst, p.asks, p.decimals);
      s.bid = p.bids[0]![0] > 0 ? p.bids[0]![1] : NaN;
      s.ask = p.asks[0]![0] > 0 ? p.asks[0]![1] : NaN;
      const q = ctx.quote;
      q.instrument = inst.id; q.ts = ts;
      q.bid = bids.length ? bids[0]![0] : NaN; q.ask = asks.length ? asks[0]![0] : NaN;
      q.bidSize = bids.length ? bids[0]![1] : 0; q.askSize = asks.length ? asks[0]![1] : 0;
      sink(q);
      if (!s.book) {
        const ev: BookSnapshot = { type: 'book_snapshot', instrument: inst.id, ts, seq: NaN, bids, asks };
        sink(ev);
      } else {
        // later packets: the change against the previous 5 levels as a delta, so level hooks (institutional
        // ratio, icebergs, sweeps) see each level's size change; a level leaving the 5 is removed (size 0)
        const ev: BookDelta = { type: 'book_delta', instrument: inst.id, ts, firstSeq: NaN, seq: NaN, prevSeq: NaN, bids: diff(s.book.bids, bids), asks: diff(s.book.asks, asks) };
        if (ev.bids.length || ev.asks.length) sink(ev);
      }
      s.book = { bids, asks };
    }
  }
  if (st.pcr) updateKitePcr(st, msg.packets.map((p) => p.token), recvTs);
  if (msg.malformed.length) {
    st.stats.malformedPackets += msg.malformed.length;
    throw new BadRow(`kite: ${msg.malformed.length} malformed packet(s) skipped: ${msg.malformed.join('; ')}`);
  }
}

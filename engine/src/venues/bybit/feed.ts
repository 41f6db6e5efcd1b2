/**
 * Bybit v5 public feed, linear (venue `bybit`) or spot (venue `bybit-spot`).
 *
 * - `wss://stream.bybit.com/v5/public/{linear|spot}`; `{"op":"subscribe","args":[…]}` with at most 10 args per
 *   request (the spot limit), topics `orderbook.{depth}.{S}` (depth 1/50/200/500 linear, 1/50/200 spot;
 *   default 200) and `publicTrade.{S}`; `{"op":"ping"}` every 20 s as Bybit asks.
 * - Books: the venue pushes a snapshot on subscribe and then deltas with contiguous `u` (the engine's
 *   BybitSync checks them; a snapshot — also after a reconnect — resets the book). A resync request
 *   unsubscribes and resubscribes the symbol's orderbook topic, which makes Bybit send a fresh snapshot.
 * - Trades: ids (`i`) are UUIDs (linear) or 19-digit numbers (spot), not contiguous. A bounded seen-set
 *   drops duplicates; after a reconnect `/v5/market/recent-trade` (≤ 1000 linear, ≤ 60 spot, newest
 *   first) backfills the unseen trades at or after the last trade time while live trades are held.
 * - Spot instruments are `BYBIT_SPOT:<S>` (venue `bybit` for the book rules); linear are `BYBIT:<S>`.
 *   A replay of a recorded spot stream attributes it to `BYBIT:<S>` unless `--instrument` is given.
 */
import type { InstrumentSpec } from '../../core/instruments.js';
import { SESSION_TEMPLATES } from '../../core/sessions.js';
import { normalizeDecimal } from '../../core/decimal.js';
import { canonicalStep } from '../../feeds/util.js';
import { FeedContext } from '../../replay/context.js';
import { BaseFeed, type ConnPlan } from '../../feeds/base.js';
import type { WsConn } from '../../feeds/ws.js';
import type { FeedOptions } from '../../feeds/types.js';
import { parseBybitFrame } from './parse.js';

type Obj = Record<string, unknown>;

export class BybitFeed extends BaseFeed {
  readonly category: 'linear' | 'spot';
  private readonly lastTs = new Map<string, number>();
  private readonly pendingBook = new Set<string>();
  private readonly spotCtx = new Map<string, FeedContext>();
  private req = 0;

  constructor(o: FeedOptions) {
    const category = o.venue === 'bybit-spot' ? 'spot' : 'linear';
    if (o.venue !== 'bybit' && o.venue !== 'bybit-spot') throw new Error(`not a Bybit venue: ${o.venue}`);
    super(o, {
      wsUrl: `wss://stream.bybit.com/v5/public/${category}`, restUrl: 'https://api.bybit.com', weightPerMinute: 600 * 12, parserVenue: 'bybit', parse: parseBybitFrame,
      appPing: { intervalMs: o.appPingMs ?? 20_000, message: () => JSON.stringify({ op: 'ping', req_id: `p${++this.req}` }) },
      // the answer to the application ping is liveness, not data
      isHeartbeat: (t) => t.includes('"op":"ping"') || t.includes('"op":"pong"'),
    });
    this.category = category;
  }

  private get depth(): number { return this.o.depthLimit ?? 200; }

  override instrumentId(symbol: string): string {
    if (this.category === 'linear') return super.instrumentId(symbol);
    return `BYBIT_SPOT:${symbol.toUpperCase()}`;
  }

  protected override async prepare(): Promise<void> {
    const missing = this.symbols.filter((s) => (this.category === 'spot' ? !this.o.registry.has(this.instrumentId(s)) : !this.lookup(s)));
    if (missing.length) {
      const body = await this.retry('instruments-info', () => this.rest.getJson(`/v5/market/instruments-info?category=${this.category}`, 1, this.abort.signal), 3);
      const list = ((body as { result?: { list?: Obj[] } } | undefined)?.result?.list ?? []) as Obj[];
      for (const s of missing) {
        const it = list.find((x) => x.symbol === s);
        if (!it) { this.log.warn(`${this.name}: no instrument info for ${s}${body === undefined ? ' (REST unreachable)' : ''}; tick size will be inferred from the data`); continue; }
        const pf = it.priceFilter as Obj | undefined;
        const lf = it.lotSizeFilter as Obj | undefined;
        const tick = canonicalStep(String(pf?.tickSize ?? '0.01'));
        const lot = canonicalStep(String(lf?.qtyStep ?? lf?.basePrecision ?? '0.001'));
        const spec: InstrumentSpec = {
          id: this.category === 'spot' ? `BYBIT_SPOT:${s}` : `BYBIT:${s}`, symbol: s, venue: 'bybit', assetClass: 'crypto',
          description: `${s} on Bybit ${this.category} (tick ${tick}, lot ${lot} from instruments-info)`,
          tickSize: tick, lotStep: lot, profileRow: normalizeDecimal((Number(tick) * 10).toFixed(12)), contractSize: 1,
          session: SESSION_TEMPLATES.crypto_24x7, thresholds: { absorptionMinVolume: 0, initiativeMinDelta: 0, auto: true }, flow: 'orderflow',
        };
        try {
          this.o.registry.add(spec);
          this.log.warn(`${this.name}: ${spec.id} is not in the instrument registry: tick and lot from instruments-info, detector thresholds auto (derived from the data; nothing fires before 10 bars); add an instruments[] entry with id "${spec.id}" to set them`);
        } catch (e) { this.log.warn(`${this.name}: cannot register ${s}: ${(e as Error).message}`); }
      }
    }
  }

  protected override contextFor(frame: unknown): FeedContext {
    if (this.category === 'linear') return this.ctx;
    const topic = (frame as Obj)?.topic;
    if (typeof topic !== 'string') return this.ctx;
    const sym = topic.slice(topic.lastIndexOf('.') + 1);
    let c = this.spotCtx.get(sym);
    if (!c) {
      const id = this.instrumentId(sym);
      // never fall back to the shared context: it would attribute spot frames to the linear BYBIT:<S>
      // (the default registry has some), which the feed neither reports nor resyncs
      if (!this.o.registry.has(id) && !this.registerSpotFromFrame(sym, frame as Obj)) return this.ctx;
      c = new FeedContext(this.o.registry, { instrument: id });
      this.spotCtx.set(sym, c);
    }
    return c;
  }

  /** Register BYBIT_SPOT:<S> with tick/lot inferred from a frame (instruments-info was unreachable). */
  private registerSpotFromFrame(sym: string, frame: Obj): boolean {
    const d = frame.data;
    const prices: string[] = [];
    const sizes: string[] = [];
    if (Array.isArray(d)) for (const t of d as Obj[]) { prices.push(String(t?.p)); sizes.push(String(t?.v)); }
    else if (d && typeof d === 'object') {
      for (const k of ['b', 'a']) for (const l of ((d as Obj)[k] ?? []) as unknown[][]) if (Array.isArray(l)) { prices.push(String(l[0])); sizes.push(String(l[1])); }
    }
    const dec = (xs: string[]): number => xs.reduce((m, x) => (/^\d+(\.\d+)?$/.test(x) ? Math.max(m, x.includes('.') ? x.length - x.indexOf('.') - 1 : 0) : m), 0);
    if (!prices.length) return false;
    const step = (n: number): string => (n === 0 ? '1' : '0.' + '0'.repeat(n - 1) + '1');
    const pd = Math.min(dec(prices), 12), qd = Math.min(dec(sizes), 12);
    const tick = step(pd), lot = step(qd);
    const spec: InstrumentSpec = {
      id: `BYBIT_SPOT:${sym}`, symbol: sym, venue: 'bybit', assetClass: 'crypto',
      description: `${sym} on Bybit spot (tick ${tick} and lot ${lot} inferred from the data: instruments-info unavailable)`,
      tickSize: tick, lotStep: lot, profileRow: pd === 0 ? '10' : step(pd - 1), contractSize: 1,
      session: SESSION_TEMPLATES.crypto_24x7, thresholds: { absorptionMinVolume: 0, initiativeMinDelta: 0, auto: true }, flow: 'orderflow',
    };
    try { this.o.registry.add(spec); } catch (e) { this.log.warn(`${this.name}: cannot register ${spec.id}: ${(e as Error).message}`); return false; }
    this.log.warn(`${this.name}: registered ${spec.id} with tick ${tick}, lot ${lot} inferred from the data`);
    return true;
  }

  protected plan(): ConnPlan[] {
    const per = this.o.perConnection ?? 50;
    const out: ConnPlan[] = [];
    for (let i = 0; i < this.symbols.length; i += per) out.push({ symbols: this.symbols.slice(i, i + per), url: () => this.wsUrl });
    return out;
  }

  private subscribe(conn: WsConn, args: string[], op: 'subscribe' | 'unsubscribe' = 'subscribe'): void {
    for (let i = 0; i < args.length; i += 10) conn.send(JSON.stringify({ op, req_id: `r${++this.req}`, args: args.slice(i, i + 10) }));
  }

  protected onOpen(conn: WsConn, symbols: string[], reconnect: boolean): void {
    const args: string[] = [];
    for (const s of symbols) {
      if (this.o.depth !== false) { args.push(`orderbook.${this.depth}.${s}`); this.pendingBook.add(s); }
      args.push(`publicTrade.${s}`);
    }
    this.subscribe(conn, args);
    // after a reconnect, or on the first connection after a restart: recent trades since the last one
    for (const s of symbols) if ((reconnect || this.resuming.delete(s)) && this.lastTs.has(s)) { this.hold(s); void this.backfill(s); }
  }

  /** A restart: trades after the stored last one (its own ms excluded: it is stored, and ids here are not contiguous). */
  protected override resumeFrom(symbol: string, last: { id: number; ts: number }): void { this.lastTs.set(symbol, last.ts + 1); }

  private connOf(symbol: string): WsConn | undefined {
    return this.conns.find((c) => c.symbols.includes(symbol))?.conn;
  }

  protected onText(text: string, recv: number): void {
    const o = this.parseText(text, recv);
    if (!o) return;
    const topic = o.topic;
    if (typeof topic !== 'string') {
      if (o.success === false) this.log.warn(`${this.name}: request failed: ${String(o.ret_msg ?? JSON.stringify(o))}`);
      return; // op acks and pongs
    }
    if (topic.startsWith('publicTrade.')) { this.tradeFrame(o, recv); return; }
    this.ingest(o, recv);
  }

  private tradeFrame = (frame: unknown, recv: number): void => {
    const o = frame as Obj;
    const topic = o.topic as string;
    const sym = topic.slice(topic.lastIndexOf('.') + 1);
    if (this.isHeld(sym)) { this.queueHeld(sym, recv, frame); return; }
    const data = o.data;
    if (!Array.isArray(data)) { this.ingest(frame, recv); return; }
    const seen = this.seenOf(sym);
    const keep: Obj[] = [];
    for (const t of data as Obj[]) {
      const id = t?.i === undefined ? undefined : String(t.i);
      if (id !== undefined && seen.has(id)) { this.counters.duplicates++; continue; }
      keep.push(t);
    }
    if (keep.length === 0) return;
    for (const t of keep) {
      if (t?.i !== undefined) seen.add(String(t.i));
      const ts = Number(t?.T);
      if (ts > (this.lastTs.get(sym) ?? -Infinity)) this.lastTs.set(sym, ts);
    }
    this.ingest(keep.length === data.length ? frame : { ...o, data: keep }, recv);
  };

  private async backfill(sym: string): Promise<void> {
    const inst = this.instrumentId(sym);
    const since = this.lastTs.get(sym) ?? 0;
    this.gap(inst, 'trades', 'trades may be missing while disconnected: backfilling from recent-trade');
    const limit = this.category === 'spot' ? 60 : 1000;
    const body = await this.retry(`recent-trade ${sym}`, () => this.rest.getJson(`/v5/market/recent-trade?category=${this.category}&symbol=${sym}&limit=${limit}`, 1, this.abort.signal), 5);
    if (this.stopped) return;
    const list = ((body as { result?: { list?: Obj[] } } | undefined)?.result?.list ?? []) as Obj[];
    const seen = this.seenOf(sym);
    const rows = list.slice().reverse()
      .filter((r) => Number(r.time) >= since && !seen.has(String(r.execId)))
      .sort((a, b) => Number(a.time) - Number(b.time));
    // complete when the oldest returned trade is not newer than what we had (the window covers the outage)
    const oldest = list.length ? Math.min(...list.map((r) => Number(r.time))) : Infinity;
    const complete = body !== undefined && (list.length < limit || oldest <= since);
    if (rows.length) {
      const frame = { topic: `publicTrade.${sym}`, type: 'snapshot', ts: this.now(), data: rows.map((r) => ({ T: Number(r.time), s: sym, S: r.side, v: r.size, p: r.price, i: String(r.execId), BT: r.isBlockTrade ?? false })), _backfill: true };
      for (const r of rows) seen.add(String(r.execId));
      this.lastTs.set(sym, Math.max(since, Number(rows[rows.length - 1]!.time)));
      this.ingest(frame, this.now());
    }
    this.counters.backfilled += rows.length;
    this.completeness.close(inst, 'trades', { recovered: rows.length, complete });
    this.release(sym, this.tradeFrame);
    this.emit('backfill', { symbol: sym, recovered: rows.length, complete });
  }

  protected override onSnapshotEvent(instrument: string): void {
    const sym = this.symbolOf(instrument) ?? instrument.replace(/^BYBIT(_SPOT)?:/, '');
    this.pendingBook.delete(sym);
  }

  protected override symbolOf(instrument: string): string | undefined {
    for (const s of this.symbols) if (this.instrumentId(s) === instrument) return s;
    return undefined;
  }

  protected resyncBook(symbol: string): void {
    if (this.pendingBook.has(symbol)) return; // a snapshot is already on its way
    const conn = this.connOf(symbol);
    if (!conn) return;
    this.pendingBook.add(symbol);
    this.counters.resyncs++;
    const topic = `orderbook.${this.depth}.${symbol}`;
    this.subscribe(conn, [topic], 'unsubscribe');
    this.subscribe(conn, [topic]);
  }
}

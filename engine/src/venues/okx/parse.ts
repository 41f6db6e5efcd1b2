/**
 * OKX v5 public WebSocket frame parser (live and replay).
 *
 * - `trades` / `trades-all` → Trade per row: `side` is the taker side, ts = `ts` (ms string), id = `tradeId`.
 * - `books`, `books-l2-tbt`, `books50-l2-tbt`: `action: snapshot` → BookSnapshot, `update` → BookDelta with
 *   seq = `seqId`, prevSeq = `prevSeqId` (the OkxSync rule chains them). Levels are `[px, sz, "0", orders]`.
 *   The parser mirrors each book in OKX's own strings and checks `checksum` (CRC-32 of the top 25 levels)
 *   after every message; a mismatch marks the delta `invalid` (or follows a snapshot with an empty invalid
 *   delta), which makes the synchronizer break and resubscribe. `checksum: 0` (deprecated field, always 0
 *   on production since 2026-06-23) is not checked. `books5` pushes are full 5-level snapshots.
 * - `bbo-tbt` → Quote (best bid/ask of `bids[0]`/`asks[0]`).
 * - Event frames (`subscribe`, `error`), `tickers` and the rest carry no market event and are ignored.
 */
import type { BookDelta, BookSnapshot } from '../../core/events.js';
import { BadRow, type EventSink } from '../../replay/types.js';
import { checkTs } from '../../replay/time.js';
import { asObject, levelSamples, levels, num, type FeedContext } from '../../replay/context.js';
import { StringBook } from './checksum.js';
import './meta.js';

type Obj = Record<string, unknown>;

const BOOK_CHANNELS = new Set(['books', 'books-l2-tbt', 'books50-l2-tbt', 'books5']);

function tsOf(v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return checkTs(n);
}

function tradeId(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return 0;
}

function mirrorOf(ctx: FeedContext, instrument: string): StringBook {
  const k = `okx:${instrument}`;
  let b = ctx.venueState.get(k) as StringBook | undefined;
  if (!b) { b = new StringBook(); ctx.venueState.set(k, b); }
  return b;
}

function applyStrings(book: StringBook, d: Obj): void {
  for (const [side, key] of [[book.bids, 'bids'], [book.asks, 'asks']] as const) {
    for (const l of (Array.isArray(d[key]) ? d[key] : []) as unknown[][]) if (Array.isArray(l)) side.set(String(l[0]), String(l[1]));
  }
}

export function parseOkxFrame(frame: unknown, recvTs: number, ctx: FeedContext, sink: EventSink): void {
  const o = asObject(frame);
  if (typeof o.event === 'string') return; // subscribe acks, errors, notices
  const arg = o.arg as Obj | undefined;
  const ch = arg?.channel;
  if (typeof ch !== 'string') return;
  const data = o.data;
  if (!Array.isArray(data)) throw new BadRow(`${ch} frame without a data array`);
  if (ch === 'trades' || ch === 'trades-all') {
    for (const r of data as Obj[]) {
      const sym = typeof r.instId === 'string' ? r.instId : arg?.instId;
      if (typeof sym !== 'string') throw new BadRow('trade without instId');
      const inst = ctx.resolve('okx', sym, () => [[String(r.px)], [String(r.sz)]]);
      const price = num(inst.price, r.px, 'px');
      const size = num(inst.qty, r.sz, 'sz');
      if (price <= 0 || size < 0) throw new BadRow(`non-positive price or negative size (${String(r.px)} x ${String(r.sz)})`);
      if (r.side !== 'buy' && r.side !== 'sell') throw new BadRow(`invalid side ${JSON.stringify(r.side)}`);
      const t = ctx.trade;
      t.instrument = inst.id; t.ts = tsOf(r.ts); t.id = tradeId(r.tradeId); t.price = price; t.size = size;
      t.side = r.side; t.sideSource = 'flag';
      sink(t);
    }
    return;
  }
  const sym = arg?.instId;
  if (typeof sym !== 'string') throw new BadRow(`${ch} frame without instId`);
  if (BOOK_CHANNELS.has(ch)) {
    for (const d of data as Obj[]) {
      const inst = ctx.resolve('okx', sym, () => levelSamples(d.bids, d.asks));
      const ts = typeof d.ts === 'string' || typeof d.ts === 'number' ? tsOf(d.ts) : checkTs(recvTs);
      const bids = levels(inst, d.bids ?? [], 'bids');
      const asks = levels(inst, d.asks ?? [], 'asks');
      const seq = d.seqId === undefined ? NaN : Number(d.seqId);
      const prev = d.prevSeqId === undefined ? NaN : Number(d.prevSeqId);
      const snapshot = o.action === 'snapshot' || ch === 'books5';
      const mirror = mirrorOf(ctx, inst.id);
      if (snapshot) { mirror.bids.clear(); mirror.asks.clear(); }
      applyStrings(mirror, d);
      const sum = typeof d.checksum === 'number' ? d.checksum : Number(d.checksum ?? 0);
      const bad = sum !== 0 && Number.isFinite(sum) && (snapshot || ctx.venueState.get(`okx-synced:${inst.id}`) === true) && mirror.checksum() !== sum
        ? `checksum ${mirror.checksum()} != ${sum} after seqId ${seq}` : undefined;
      if (snapshot) ctx.venueState.set(`okx-synced:${inst.id}`, true);
      if (snapshot) {
        sink({ type: 'book_snapshot', instrument: inst.id, ts, seq, bids, asks } satisfies BookSnapshot);
        if (bad) sink({ type: 'book_delta', instrument: inst.id, ts, firstSeq: seq, seq, prevSeq: seq, bids: [], asks: [], invalid: bad } satisfies BookDelta);
      } else {
        const ev: BookDelta = { type: 'book_delta', instrument: inst.id, ts, firstSeq: seq, seq, prevSeq: prev, bids, asks };
        if (bad) ev.invalid = bad;
        sink(ev);
      }
    }
    return;
  }
  if (ch === 'bbo-tbt') {
    for (const d of data as Obj[]) {
      const b = (Array.isArray(d.bids) ? d.bids[0] : undefined) as unknown[] | undefined;
      const a = (Array.isArray(d.asks) ? d.asks[0] : undefined) as unknown[] | undefined;
      if (!b && !a) continue;
      const inst = ctx.resolve('okx', sym, () => [[String(b?.[0] ?? a?.[0]), String(a?.[0] ?? b?.[0])], [String(b?.[1] ?? '0'), String(a?.[1] ?? '0')]]);
      const q = ctx.quote;
      q.instrument = inst.id; q.ts = typeof d.ts === 'string' || typeof d.ts === 'number' ? tsOf(d.ts) : checkTs(recvTs);
      q.bid = b ? num(inst.price, b[0], 'bid') : NaN;
      q.ask = a ? num(inst.price, a[0], 'ask') : NaN;
      q.bidSize = b ? num(inst.qty, b[1], 'bid size') : 0;
      q.askSize = a ? num(inst.qty, a[1], 'ask size') : 0;
      sink(q);
    }
  }
}

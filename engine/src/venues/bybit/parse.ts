/**
 * Bybit frame parser, reusable by replay and live feeds.
 *
 * v5 (`orderbook.N.SYMBOL`, `publicTrade.SYMBOL`):
 *   - orderbook snapshot → BookSnapshot (seq = `u`); delta → BookDelta (firstSeq = seq = `u`, prevSeq NaN;
 *     `u` is contiguous per stream, `seq` is the cross sequence and is not used). ts = frame `ts`.
 *   - publicTrade → Trade per entry (`S` = taker side, ts = `T`; id = `i` when numeric and < 2^53, else 0).
 * v2 legacy inverse (`orderBookL2_25.SYMBOL`, `orderBook_200.100ms.SYMBOL`, `trade.SYMBOL`):
 *   - levels are keyed by `id`; an id→price map per instrument converts deletes that carry only an id.
 *     snapshot → BookSnapshot (seq = cross_seq); delta (delete/update/insert) → BookDelta (seq = cross_seq),
 *     ts = `timestamp_e6` (µs).
 *   - trade → Trade (`side` = taker, ts = `trade_time_ms`).
 * Instruments: venue 'bybit', id `BYBIT:<SYMBOL>` (registered on the fly when unknown).
 */
import type { BookDelta, BookSnapshot, Level } from '../../core/events.js';
import type { Instrument } from '../../core/instruments.js';
import { BadRow, type EventSink } from '../../replay/types.js';
import { checkTs, epochNumberMs } from '../../replay/time.js';
import { asObject, levelSamples, levels, num, type FeedContext } from '../../replay/context.js';
import './meta.js';

type Obj = Record<string, unknown>;

function takerSide(s: unknown): 'buy' | 'sell' {
  if (s === 'Buy' || s === 'buy') return 'buy';
  if (s === 'Sell' || s === 'sell') return 'sell';
  throw new BadRow(`invalid side ${JSON.stringify(s)}`);
}

function numericId(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return 0;
}

export function parseBybitFrame(frame: unknown, recvTs: number, ctx: FeedContext, sink: EventSink): void {
  const o = asObject(frame);
  const topic = o.topic;
  if (typeof topic !== 'string') return; // op acks, pongs, success messages
  if (topic.startsWith('orderbook.')) return v5Book(o, ctx, sink);
  if (topic.startsWith('publicTrade.')) return v5Trades(o, ctx, sink);
  if (topic.startsWith('orderBookL2_25.') || topic.startsWith('orderBook_200.') || topic.startsWith('orderBookL2_200.')) return v2Book(o, topic, recvTs, ctx, sink);
  if (topic.startsWith('trade.')) return v2Trades(o, ctx, sink);
}

function v5Book(o: Obj, ctx: FeedContext, sink: EventSink): void {
  const d = o.data as Obj;
  if (!d || typeof d !== 'object') throw new BadRow('orderbook frame without data');
  const sym = d.s;
  if (typeof sym !== 'string') throw new BadRow('orderbook frame without symbol');
  const inst = ctx.resolve('bybit', sym, () => levelSamples(d.b, d.a));
  const ts = checkTs(typeof o.ts === 'number' ? o.ts : typeof o.cts === 'number' ? o.cts : NaN);
  const u = Number(d.u);
  if (!Number.isFinite(u)) throw new BadRow('orderbook frame without u');
  const bids = levels(inst, d.b ?? [], 'b');
  const asks = levels(inst, d.a ?? [], 'a');
  if (o.type === 'snapshot') sink({ type: 'book_snapshot', instrument: inst.id, ts, seq: u, bids, asks } satisfies BookSnapshot);
  else if (o.type === 'delta') sink({ type: 'book_delta', instrument: inst.id, ts, firstSeq: u, seq: u, prevSeq: NaN, bids, asks } satisfies BookDelta);
  else throw new BadRow(`unknown orderbook type ${JSON.stringify(o.type)}`);
}

function v5Trades(o: Obj, ctx: FeedContext, sink: EventSink): void {
  const data = o.data;
  if (!Array.isArray(data)) throw new BadRow('publicTrade frame without data array');
  for (const e of data as Obj[]) {
    const sym = e.s;
    if (typeof sym !== 'string') throw new BadRow('trade without symbol');
    const inst = ctx.resolve('bybit', sym, () => [data.map((x) => String((x as Obj).p)), data.map((x) => String((x as Obj).v))]);
    const ts = checkTs(typeof e.T === 'number' ? e.T : NaN);
    const price = num(inst.price, e.p, 'price');
    const size = num(inst.qty, e.v, 'size');
    if (price <= 0 || size < 0) throw new BadRow(`non-positive price or negative size (${String(e.p)} x ${String(e.v)})`);
    const t = ctx.trade;
    t.instrument = inst.id; t.ts = ts; t.id = numericId(e.i); t.price = price; t.size = size;
    t.side = takerSide(e.S); t.sideSource = 'flag';
    sink(t);
  }
}

function v2Ts(o: Obj, recvTs: number): number {
  const t = typeof o.timestamp_e6 === 'number' ? epochNumberMs(o.timestamp_e6) : typeof o.timestamp_e6 === 'string' ? epochNumberMs(Number(o.timestamp_e6)) : recvTs;
  return checkTs(t);
}

function v2Book(o: Obj, topic: string, recvTs: number, ctx: FeedContext, sink: EventSink): void {
  const sym = topic.slice(topic.lastIndexOf('.') + 1);
  const data = o.data as unknown;
  const ts = v2Ts(o, recvTs);
  const seq = typeof o.cross_seq === 'number' ? o.cross_seq : NaN;
  if (o.type === 'snapshot') {
    const rows = (Array.isArray(data) ? data : (data as Obj)?.order_book) as Obj[] | undefined;
    if (!Array.isArray(rows)) throw new BadRow('snapshot without levels');
    const inst = ctx.resolve('bybit', sym, () => [rows.map((r) => r.price as string), rows.map((r) => r.size as number)]);
    const ids = new Map<number | string, number>();
    ctx.bybitLevelIds.set(inst.id, ids);
    const bids: Level[] = [];
    const asks: Level[] = [];
    for (const r of rows) {
      const p = num(inst.price, r.price, 'price');
      const q = num(inst.qty, r.size, 'size');
      ids.set(r.id as number, p);
      (takerSide(r.side) === 'buy' ? bids : asks).push([p, q]);
    }
    bids.sort((a, b) => b[0] - a[0]);
    asks.sort((a, b) => a[0] - b[0]);
    sink({ type: 'book_snapshot', instrument: inst.id, ts, seq, bids, asks } satisfies BookSnapshot);
    return;
  }
  if (o.type !== 'delta') throw new BadRow(`unknown orderBookL2 type ${JSON.stringify(o.type)}`);
  const d = data as Obj;
  if (!d || typeof d !== 'object') throw new BadRow('delta without data');
  const inst: Instrument = ctx.resolve('bybit', sym, () => {
    const all = [...((d.insert as Obj[]) ?? []), ...((d.update as Obj[]) ?? [])];
    return [all.map((r) => r.price as string), all.map((r) => r.size as number)];
  });
  let ids = ctx.bybitLevelIds.get(inst.id);
  if (!ids) { ids = new Map(); ctx.bybitLevelIds.set(inst.id, ids); }
  const bids: Level[] = [];
  const asks: Level[] = [];
  const del = (d.delete as Obj[]) ?? [];
  for (const r of del) {
    let p: number;
    if (r.price !== undefined) p = num(inst.price, r.price, 'price');
    else {
      const known = ids.get(r.id as number);
      if (known === undefined) throw new BadRow(`delete of unknown level id ${String(r.id)}`);
      p = known;
    }
    ids.delete(r.id as number);
    (takerSide(r.side) === 'buy' ? bids : asks).push([p, 0]);
  }
  for (const key of ['update', 'insert'] as const) {
    const arr = (d[key] as Obj[]) ?? [];
    for (const r of arr) {
      let p: number;
      if (r.price !== undefined) { p = num(inst.price, r.price, 'price'); ids.set(r.id as number, p); } else {
        const known = ids.get(r.id as number);
        if (known === undefined) throw new BadRow(`${key} of unknown level id ${String(r.id)}`);
        p = known;
      }
      const q = num(inst.qty, r.size, 'size');
      if (q < 0) throw new BadRow('negative size');
      (takerSide(r.side) === 'buy' ? bids : asks).push([p, q]);
    }
  }
  sink({ type: 'book_delta', instrument: inst.id, ts, firstSeq: seq, seq, prevSeq: NaN, bids, asks } satisfies BookDelta);
}

function v2Trades(o: Obj, ctx: FeedContext, sink: EventSink): void {
  const data = o.data;
  if (!Array.isArray(data)) throw new BadRow('trade frame without data array');
  for (const e of data as Obj[]) {
    const sym = e.symbol;
    if (typeof sym !== 'string') throw new BadRow('trade without symbol');
    const inst = ctx.resolve('bybit', sym, () => [data.map((x) => (x as Obj).price as number), data.map((x) => (x as Obj).size as number)]);
    const ts = checkTs(typeof e.trade_time_ms === 'number' ? e.trade_time_ms : NaN);
    const price = num(inst.price, e.price, 'price');
    const size = num(inst.qty, e.size, 'size');
    if (price <= 0 || size < 0) throw new BadRow('non-positive price or negative size');
    const t = ctx.trade;
    t.instrument = inst.id; t.ts = ts; t.id = numericId(e.trade_id); t.price = price; t.size = size;
    t.side = takerSide(e.side); t.sideSource = 'flag';
    sink(t);
  }
}

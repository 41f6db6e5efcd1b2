/**
 * Coinbase frame parser: legacy Exchange/Pro WebSocket (`snapshot`, `l2update`, `match`, `ticker`) and
 * Advanced Trade (`channel`: `market_trades`, `l2_data`, `ticker`). Reusable by replay and live feeds.
 *
 * - `match` / `market_trades`: the frame's `side` is the MAKER side; the aggressor is the opposite.
 *   `last_match` (the replay of the previous trade sent on subscribe) is NOT emitted: it would double count.
 * - Legacy l2 frames carry no sequence: snapshot seq and delta seqs are NaN. Advanced Trade l2_data uses
 *   the channel `sequence_num` (snapshot seq, delta firstSeq = seq).
 * - A legacy snapshot has no time: it takes the receive time, else the time of the previous message.
 * - Rows with malformed decimals (e.g. "0.-10000") or implausible times (year 0001) are rejected as bad rows.
 */
import type { BookDelta, BookSnapshot, Level } from '../../core/events.js';
import type { Instrument } from '../../core/instruments.js';
import { BadRow, type EventSink } from '../../replay/types.js';
import { checkTs, parseIsoMs } from '../../replay/time.js';
import { asObject, levelSamples, levels, num, type FeedContext, type SampleValues } from '../../replay/context.js';
import './meta.js';

type Obj = Record<string, unknown>;

function timeOf(v: unknown, what = 'time'): number {
  if (typeof v !== 'string') throw new BadRow(`missing ${what}`);
  return checkTs(parseIsoMs(v), what);
}

function product(o: Obj): string {
  const p = o.product_id;
  if (typeof p !== 'string' || p === '') throw new BadRow('missing product_id');
  return p;
}

function makerToAggressor(side: unknown): 'buy' | 'sell' {
  const s = typeof side === 'string' ? side.toLowerCase() : '';
  if (s === 'buy') return 'sell';
  if (s === 'sell') return 'buy';
  throw new BadRow(`invalid side ${JSON.stringify(side)}`);
}

function resolve(ctx: FeedContext, sym: string, samples: () => [SampleValues, SampleValues]): Instrument {
  return ctx.resolve('coinbase', sym, samples);
}

export function parseCoinbaseFrame(frame: unknown, recvTs: number, ctx: FeedContext, sink: EventSink): void {
  const o = asObject(frame);
  if (typeof o.channel === 'string') { parseAdvanced(o, ctx, sink); return; }
  switch (o.type) {
    case 'match': {
      const sym = product(o);
      const inst = resolve(ctx, sym, () => [[String(o.price)], [String(o.size)]]);
      const ts = timeOf(o.time);
      const price = num(inst.price, o.price, 'price');
      const size = num(inst.qty, o.size, 'size');
      if (price <= 0 || size < 0) throw new BadRow(`non-positive price or negative size (${String(o.price)} x ${String(o.size)})`);
      const side = makerToAggressor(o.side);
      const t = ctx.trade;
      t.instrument = inst.id; t.ts = ts; t.id = typeof o.trade_id === 'number' ? o.trade_id : 0;
      t.price = price; t.size = size; t.side = side; t.sideSource = 'flag';
      ctx.lastTs = ts;
      sink(t);
      return;
    }
    case 'snapshot': {
      const sym = product(o);
      const inst = resolve(ctx, sym, () => levelSamples(o.bids, o.asks));
      const bids = levels(inst, o.bids ?? [], 'bids');
      const asks = levels(inst, o.asks ?? [], 'asks');
      const ts = typeof o.time === 'string' ? timeOf(o.time) : recvTs === recvTs ? checkTs(recvTs) : ctx.lastTs;
      const ev: BookSnapshot = { type: 'book_snapshot', instrument: inst.id, ts, seq: NaN, bids, asks };
      sink(ev);
      return;
    }
    case 'l2update':
    case 'level2_batch': {
      const sym = product(o);
      const ch = o.changes;
      if (!Array.isArray(ch)) throw new BadRow('l2update without changes');
      const inst = resolve(ctx, sym, () => [ch.map((c) => String((c as unknown[])[1])), ch.map((c) => String((c as unknown[])[2]))]);
      const ts = timeOf(o.time);
      const bids: Level[] = [];
      const asks: Level[] = [];
      for (const c of ch as unknown[][]) {
        if (!Array.isArray(c) || c.length < 3) throw new BadRow('malformed change entry');
        const p = num(inst.price, c[1], 'price');
        const q = num(inst.qty, c[2], 'size');
        if (p < 0 || q < 0) throw new BadRow(`negative level ${JSON.stringify(c)}`);
        if (c[0] === 'buy') bids.push([p, q]);
        else if (c[0] === 'sell') asks.push([p, q]);
        else throw new BadRow(`invalid change side ${JSON.stringify(c[0])}`);
      }
      ctx.lastTs = ts;
      const ev: BookDelta = { type: 'book_delta', instrument: inst.id, ts, firstSeq: NaN, seq: NaN, prevSeq: NaN, bids, asks };
      sink(ev);
      return;
    }
    case 'ticker': {
      if (o.best_bid === undefined && o.best_ask === undefined) return;
      const sym = product(o);
      const inst = resolve(ctx, sym, () => [[String(o.best_bid ?? o.price), String(o.best_ask ?? o.price)], [String(o.last_size ?? '0')]]);
      const ts = timeOf(o.time);
      const q = ctx.quote;
      q.localTime = undefined;
      q.instrument = inst.id; q.ts = ts;
      q.bid = o.best_bid === undefined ? NaN : num(inst.price, o.best_bid, 'best_bid');
      q.ask = o.best_ask === undefined ? NaN : num(inst.price, o.best_ask, 'best_ask');
      q.bidSize = o.best_bid_size === undefined ? 0 : num(inst.qty, o.best_bid_size, 'best_bid_size');
      q.askSize = o.best_ask_size === undefined ? 0 : num(inst.qty, o.best_ask_size, 'best_ask_size');
      ctx.lastTs = ts;
      sink(q);
      return;
    }
    default:
      // subscriptions, heartbeat, last_match, full-channel order messages, errors: ignored
  }
}

function parseAdvanced(o: Obj, ctx: FeedContext, sink: EventSink): void {
  const events = o.events;
  if (!Array.isArray(events)) return;
  const ch = o.channel;
  if (ch === 'market_trades') {
    for (const ev of events as Obj[]) {
      const trades = ev?.trades;
      if (!Array.isArray(trades)) continue;
      for (const tr of trades as Obj[]) {
        const sym = product(tr);
        const inst = resolve(ctx, sym, () => [[String(tr.price)], [String(tr.size)]]);
        const t = ctx.trade;
        const ts = timeOf(tr.time);
        const price = num(inst.price, tr.price, 'price');
        const size = num(inst.qty, tr.size, 'size');
        if (price <= 0 || size < 0) throw new BadRow(`non-positive price or negative size (${String(tr.price)} x ${String(tr.size)})`);
        t.instrument = inst.id; t.ts = ts; t.price = price; t.size = size;
        const id = tr.trade_id;
        t.id = typeof id === 'number' ? id : typeof id === 'string' && /^\d{1,15}$/.test(id) ? Number(id) : 0;
        t.side = makerToAggressor(tr.side); t.sideSource = 'flag';
        sink(t);
      }
    }
    return;
  }
  if (ch === 'l2_data' || ch === 'level2') {
    const ts = timeOf(o.timestamp, 'timestamp');
    const seq = typeof o.sequence_num === 'number' ? o.sequence_num : NaN;
    for (const ev of events as Obj[]) {
      const ups = ev?.updates;
      if (!Array.isArray(ups)) continue;
      const sym = product(ev);
      const inst = resolve(ctx, sym, () => [ups.map((u) => String((u as Obj).price_level)), ups.map((u) => String((u as Obj).new_quantity))]);
      const bids: Level[] = [];
      const asks: Level[] = [];
      for (const u of ups as Obj[]) {
        const p = num(inst.price, u.price_level, 'price_level');
        const q = num(inst.qty, u.new_quantity, 'new_quantity');
        if (p < 0 || q < 0) throw new BadRow('negative level');
        if (u.side === 'bid') bids.push([p, q]);
        else if (u.side === 'offer' || u.side === 'ask') asks.push([p, q]);
        else throw new BadRow(`invalid update side ${JSON.stringify(u.side)}`);
      }
      if (ev.type === 'snapshot') sink({ type: 'book_snapshot', instrument: inst.id, ts, seq, bids, asks } satisfies BookSnapshot);
      else sink({ type: 'book_delta', instrument: inst.id, ts, firstSeq: seq, seq, prevSeq: NaN, bids, asks } satisfies BookDelta);
    }
    return;
  }
  if (ch === 'ticker' || ch === 'ticker_batch') {
    const ts = timeOf(o.timestamp, 'timestamp');
    for (const ev of events as Obj[]) {
      const tickers = ev?.tickers;
      if (!Array.isArray(tickers)) continue;
      for (const tk of tickers as Obj[]) {
        if (tk.best_bid === undefined && tk.best_ask === undefined) continue;
        const sym = product(tk);
        const inst = resolve(ctx, sym, () => [[String(tk.best_bid), String(tk.best_ask)], [String(tk.best_bid_quantity ?? '0')]]);
        const q = ctx.quote;
        q.localTime = undefined;
        q.instrument = inst.id; q.ts = ts;
        q.bid = tk.best_bid === undefined ? NaN : num(inst.price, tk.best_bid, 'best_bid');
        q.ask = tk.best_ask === undefined ? NaN : num(inst.price, tk.best_ask, 'best_ask');
        q.bidSize = tk.best_bid_quantity === undefined ? 0 : num(inst.qty, tk.best_bid_quantity, 'best_bid_quantity');
        q.askSize = tk.best_ask_quantity === undefined ? 0 : num(inst.qty, tk.best_ask_quantity, 'best_ask_quantity');
        sink(q);
      }
    }
  }
}

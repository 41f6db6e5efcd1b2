/**
 * Binance WebSocket/REST frame parser (spot, USD-M, COIN-M), reusable by replay and live feeds.
 *
 * - `trade` → Trade (ts = `T`, id = `t`), `aggTrade` → Trade (id = `a`); `m` true (buyer is maker) = SELL aggressor.
 * - `depthUpdate` → BookDelta (ts = `T` or `E`, firstSeq = `U`, seq = `u`, prevSeq = `pu`, NaN on spot).
 * - REST depth snapshot (`lastUpdateId`, `bids`, `asks`) → BookSnapshot (seq = lastUpdateId, ts = receive time).
 * - `bookTicker` (spot frames carry no `e`) → Quote (ts = `E`/`T`, else receive time).
 * - Other frames (kline, markPrice, subscription results) are ignored.
 */
import type { BookDelta, BookSnapshot } from '../../core/events.js';
import { BadRow, type EventSink, type VenueName } from '../../replay/types.js';
import { checkTs } from '../../replay/time.js';
import { asObject, levelSamples, levels, num, type FeedContext } from '../../replay/context.js';
import './meta.js';

type Obj = Record<string, unknown>;

function guessVenue(ctx: FeedContext, d: Obj, symbol: string | undefined): VenueName {
  if (ctx.binanceVenue) return ctx.binanceVenue;
  if (d.ps !== undefined || d.pair !== undefined || (symbol !== undefined && symbol.includes('_'))) return 'binance-coinm';
  if (d.M !== undefined) return 'binance-spot';
  const e = d.e;
  if (e === 'depthUpdate') return d.pu !== undefined ? 'binance-usdm' : 'binance-spot';
  if (e === undefined && d.u !== undefined && d.b !== undefined) return 'binance-spot'; // spot bookTicker has no e
  if (d.lastUpdateId !== undefined) return d.T !== undefined || d.E !== undefined ? 'binance-usdm' : 'binance-spot';
  return 'binance-usdm';
}

function str(d: Obj, k: string): string {
  const v = d[k];
  if (typeof v !== 'string') throw new BadRow(`missing "${k}"`);
  return v;
}

function tsOf(d: Obj, recvTs: number): number {
  const t = typeof d.T === 'number' ? d.T : typeof d.E === 'number' ? d.E : recvTs;
  return checkTs(t);
}

export function parseBinanceFrame(frame: unknown, recvTs: number, ctx: FeedContext, sink: EventSink): void {
  const o = asObject(frame);
  const d = (typeof o.stream === 'string' && o.data !== null && typeof o.data === 'object' ? o.data : o) as Obj;
  if (d.lastUpdateId !== undefined && (d.bids !== undefined || d.asks !== undefined)) {
    const sym = typeof d.symbol === 'string' ? d.symbol : ctx.symbolHint ?? ctx.lastBinanceSymbol;
    const inst = sym !== undefined
      ? ctx.resolve(guessVenue(ctx, d, sym), sym, () => levelSamples(d.bids, d.asks))
      : ctx.resolveDefault();
    const ts = checkTs(recvTs === recvTs ? recvTs : (typeof d.T === 'number' ? d.T : typeof d.E === 'number' ? d.E : NaN));
    const seq = Number(d.lastUpdateId);
    if (!Number.isFinite(seq)) throw new BadRow('invalid lastUpdateId');
    const ev: BookSnapshot = { type: 'book_snapshot', instrument: inst.id, ts, seq, bids: levels(inst, d.bids ?? [], 'bids'), asks: levels(inst, d.asks ?? [], 'asks') };
    sink(ev);
    return;
  }
  const e = d.e;
  if (e === 'trade' || e === 'aggTrade') {
    const s = str(d, 's');
    ctx.lastBinanceSymbol = s;
    // @trade frames carry X: MARKET, or INSURANCE_FUND / ADL / NA for prints that are not market trades
    // (the aggTrade stream leaves them out): counted and skipped unless the context includes them
    const x = d.X;
    if (e === 'trade' && typeof x === 'string' && x !== 'MARKET' && !ctx.nonMarketPrint(s, x)) return;
    const inst = ctx.resolve(guessVenue(ctx, d, s), s, () => [[str(d, 'p')], [str(d, 'q')]]);
    const t = ctx.trade;
    t.instrument = inst.id;
    t.ts = checkTs(typeof d.T === 'number' ? d.T : typeof d.E === 'number' ? d.E : NaN);
    const id = e === 'trade' ? d.t : d.a;
    t.id = typeof id === 'number' ? id : 0;
    t.price = num(inst.price, d.p, 'price');
    t.size = num(inst.qty, d.q, 'quantity');
    if (t.price <= 0 || t.size < 0) throw new BadRow(`non-positive price or negative size (${String(d.p)} x ${String(d.q)})`);
    if (d.m === true) { t.side = 'sell'; t.sideSource = 'flag'; } else if (d.m === false) { t.side = 'buy'; t.sideSource = 'flag'; } else { t.side = 'unknown'; t.sideSource = 'none'; }
    sink(t);
    return;
  }
  if (e === 'depthUpdate') {
    const s = str(d, 's');
    ctx.lastBinanceSymbol = s;
    const inst = ctx.resolve(guessVenue(ctx, d, s), s, () => levelSamples(d.b, d.a));
    const first = Number(d.U);
    const last = Number(d.u);
    if (!Number.isFinite(first) || !Number.isFinite(last)) throw new BadRow('depthUpdate without U/u');
    const ev: BookDelta = {
      type: 'book_delta', instrument: inst.id, ts: tsOf(d, recvTs), firstSeq: first, seq: last,
      prevSeq: d.pu === undefined ? NaN : Number(d.pu), bids: levels(inst, d.b ?? [], 'b'), asks: levels(inst, d.a ?? [], 'a'),
    };
    sink(ev);
    return;
  }
  if (e === 'bookTicker' || (e === undefined && d.u !== undefined && d.b !== undefined && d.a !== undefined && d.B !== undefined)) {
    const s = str(d, 's');
    ctx.lastBinanceSymbol = s;
    const inst = ctx.resolve(guessVenue(ctx, d, s), s, () => [[str(d, 'b'), str(d, 'a')], [str(d, 'B'), str(d, 'A')]]);
    const q = ctx.quote;
    q.instrument = inst.id;
    q.ts = tsOf(d, recvTs);
    q.localTime = typeof d.T !== 'number' && typeof d.E !== 'number' ? true : undefined;
    q.bid = num(inst.price, d.b, 'bid');
    q.ask = num(inst.price, d.a, 'ask');
    q.bidSize = num(inst.qty, d.B, 'bid size');
    q.askSize = num(inst.qty, d.A, 'ask size');
    sink(q);
  }
  // anything else (kline, markPrice, subscription acks): not market events we replay
}

/**
 * Footprint bars (/api/v1/footprint: time, tick or volume aggregation) and the delta/CVD series
 * (/api/v1/delta).
 *
 * Bound: the bars come from bars.ts (at most `maxBars`, or `maxFootprintBars` with rows, at most `maxTrades` trades or `maxBaseBars`
 * base bars read); statistics and JSON are produced a few hundred bars per slice, so even the
 * largest answer never holds the event loop. The answer lists what capped it in `limits`.
 */
import type { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import { computeBarStats, type BarStats } from '../../../engine/src/analytics/bar-stats.js';
import { DeltaDynamicsTracker } from '../../../engine/src/analytics/delta.js';
import { COL_ASK_VOL, COL_BID_VOL, COL_UNK_VOL, COL_ASK_CNT, COL_BID_CNT } from '../../../engine/src/analytics/row-grid.js';
import { imbalances, type ImbalanceOptions } from '../../../engine/src/analytics/imbalance.js';
import type { Instrument } from '../../../engine/src/core/instruments.js';
import { coarsenBar } from '../../../engine/src/analytics/coarse-rows.js';
import { ruleOf, seriesWork } from './bars.js';
import type { HistoryService } from './history.js';
import { ServiceError } from './errors.js';
import type { Work } from './work.js';

/** `imbalance`: per-request imbalance settings (ratio, comparison; `minVolume` in instrument units) over the pipeline's */
export interface FootprintQuery { agg: 'time' | 'tick' | 'volume'; resolution?: string; size?: number; from: number; to: number; countback: number; rows: boolean; imbalance?: { ratio?: number; compare?: 'diagonal' | 'horizontal'; minVolume?: number }; rowSize?: number }

/** One footprint bar in price and instrument units; `imbalance` = the pipeline's options for the rows' flags. */
export function barJson(i: Instrument, b: FootprintBar, stats: BarStats | null, rows: boolean, imbalance: Partial<ImbalanceOptions> = {}): Record<string, unknown> {
  const px = (x: number): number | null => (Number.isFinite(x) ? i.price.toNumber(x) : null);
  const vol = (x: number): number => i.qty.toNumber(x);
  const out: Record<string, unknown> = {
    time: b.start, end: Number.isFinite(b.end) ? b.end : null, closed: b.closed, session: b.sessionKey,
    open: px(b.open), high: px(b.high), low: px(b.low), close: px(b.close),
    volume: vol(b.volume), buyVolume: vol(b.buyVolume), sellVolume: vol(b.sellVolume), unknownVolume: vol(b.unknownVolume),
    trades: b.trades, delta: vol(b.delta), deltaMin: vol(b.deltaMin), deltaMax: vol(b.deltaMax),
    cvd: { open: vol(b.cvdOpen), high: vol(b.cvdHigh), low: vol(b.cvdLow), close: vol(b.cvdClose) },
    firstTs: b.firstTs, lastTs: b.lastTs,
  };
  if (stats) {
    out.poc = px(stats.poc); out.vah = px(stats.vah); out.val = px(stats.val);
    out.buyImbalances = stats.buyImbalances; out.sellImbalances = stats.sellImbalances;
    // stacked runs as price ranges (row lower edge of the first row … upper edge of the last)
    out.stacked = stats.stacked.map((r) => ({ side: r.side, rows: r.rows, low: i.price.toNumber(r.startRow * b.rowTicks), high: i.price.toNumber((r.endRow + 1) * b.rowTicks) }));
  }
  if (rows) {
    const g = b.rows;
    const list: Record<string, number>[] = [];
    // per-row imbalance flags (1 buy, 2 sell), exact on lots with the pipeline's options: charts draw these
    const f = imbalances(g, imbalance);
    for (let k = 0; k < g.length; k++) {
      const bid = g.cols[COL_BID_VOL][k], ask = g.cols[COL_ASK_VOL][k], unk = g.cols[COL_UNK_VOL][k];
      if (bid === 0 && ask === 0 && unk === 0) continue;
      list.push({ price: i.price.toNumber((g.base + k) * b.rowTicks), bid: vol(bid), ask: vol(ask), unknown: vol(unk), bidTrades: g.cols[COL_BID_CNT][k], askTrades: g.cols[COL_ASK_CNT][k], delta: vol(ask - bid), imbalance: f.buy[k] | (f.sell[k] << 1) });
    }
    out.rowSize = i.price.toNumber(b.rowTicks);
    out.rows = list;
  }
  return out;
}

/** The footprint bars of a query (shared by the JSON answer and in-process callers). */
function* footprintBars(s: HistoryService, i: Instrument, q: FootprintQuery): Work<{ bars: FootprintBar[]; limits: string[] }> {
  // bars with their rows weigh ~40× an OHLC bar: a lower cap (no footprint view shows thousands)
  const cap = q.rows ? Math.min(s.opts.maxFootprintBars, s.opts.maxBars) : s.opts.maxBars;
  if (q.agg === 'volume') {
    const lots = i.qty.parse(String(q.size ?? 0));
    if (!(lots > 0)) throw new ServiceError(400, 'size', `volume bar size must be a positive multiple of the lot step ${i.lotStep}`);
    // 1T only names a trade-built series here: the rule decides where bars close
    return yield* seriesWork(s, i.id, { kind: 'tick', n: 1, label: 'volume' }, q.from, q.to, q.countback, true, { kind: 'volume', lots }, cap);
  }
  const res = q.agg === 'tick' ? s.resolution(`${q.size ?? 100}T`, i.id, 'size') : s.resolution(q.resolution ?? '1', i.id);
  return yield* seriesWork(s, i.id, res, q.from, q.to, q.countback, true, ruleOf(res), cap);
}

/**
 * A client's row size (price units) as a multiple of the engine's footprint row: rows are merged on
 * the server (engine/src/analytics/coarse-rows.ts). undefined = the engine's row (1).
 */
export function rowMultiple(s: HistoryService, i: Instrument, rowSize: number | undefined): number {
  if (rowSize === undefined) return 1;
  const base = s.rowTicks(i), ticks = i.price.fromNumber(rowSize);
  const k = Math.round(ticks / base);
  if (!(k >= 1 && k <= 10_000) || Math.abs(i.price.toNumber(k * base) - rowSize) > 1e-9 * Math.max(1, rowSize)) {
    throw new ServiceError(400, 'rowSize', `must be a whole multiple of the footprint row ${i.price.toNumber(base)} (at most 10000 ×), got ${rowSize}`);
  }
  return k;
}

/** Footprint bars: agg 'time' (resolution), 'tick' (N trades) or 'volume' (N instrument units). */
export function* footprintWork(s: HistoryService, symbol: string, q: FootprintQuery): Work<Record<string, unknown>> {
  const i = s.instrument(symbol);
  const k = rowMultiple(s, i, q.rowSize);
  const { bars, limits } = yield* footprintBars(s, i, q);
  const so0 = s.statsOptions(i.id);
  const im = q.imbalance ?? {};
  // the page's settings, applied per request; minVolume (instrument units) becomes lots inside the engine
  const so = { ...so0, imbalance: { ...so0.imbalance, ...(im.ratio !== undefined ? { ratio: im.ratio } : {}), ...(im.compare ? { compare: im.compare } : {}), ...(im.minVolume !== undefined ? { minDominant: i.qty.fromNumber(im.minVolume) } : {}) } };
  const dyn = new DeltaDynamicsTracker();
  const out: Record<string, unknown>[] = [];
  for (let n = 0; n < bars.length; n++) {
    const b = coarsenBar(bars[n], k);
    out.push(barJson(i, b, computeBarStats(b, so, dyn.next(b.delta, b.buyVolume, b.sellVolume)), q.rows, so.imbalance));
    if (n % 200 === 199) yield;
  }
  return { symbol: i.id, agg: q.agg, resolution: q.agg === 'time' ? q.resolution ?? '1' : undefined, size: q.agg === 'time' ? undefined : q.size, limits, bars: out };
}

export function* deltaWork(s: HistoryService, symbol: string, resolution: string, from: number, to: number, countback: number): Work<Record<string, unknown>> {
  const i = s.instrument(symbol);
  const r = s.resolution(resolution, i.id);
  const { bars, limits } = yield* seriesWork(s, i.id, r, from, to, countback, false);
  const vol = (x: number): number => i.qty.toNumber(x);
  const p = s.pipeline(i.id);
  const items = bars.map((b) => ({ time: b.start, delta: vol(b.delta), deltaMin: vol(b.deltaMin), deltaMax: vol(b.deltaMax), buyVolume: vol(b.buyVolume), sellVolume: vol(b.sellVolume), volume: vol(b.volume), cvdOpen: vol(b.cvdOpen), cvdHigh: vol(b.cvdHigh), cvdLow: vol(b.cvdLow), cvdClose: vol(b.cvdClose) }));
  return { symbol: i.id, resolution: r.label, cvdReset: p?.cvd.reset ?? 'session', cvd: p ? vol(p.cvd.value) : null, limits, bars: items };
}

/**
 * The snapshot of a live N-tick / volume bar subscription: the same REST grouping (bars.ts
 * seriesWork, the /api/v1/footprint agg=tick|volume path) over the stored trades, run to its end at
 * subscribe time, so the stream starts from the exact bars a chart's history request returns.
 */
import type { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import { seriesWork } from './bars.js';
import type { HistoryService } from './history.js';
import type { CountRule } from './trade-bar-grouper.js';
import { runSync } from './work.js';

/** The latest `limit` bars (ascending, with rows); the last one is open unless it is final. */
export function liveTradeBarsSnapshot(s: HistoryService, symbol: string, rule: CountRule, limit: number): FootprintBar[] {
  const cap = Math.min(s.opts.maxFootprintBars, s.opts.maxBars, Math.max(1, limit));
  const res = { kind: 'tick' as const, n: rule.kind === 'tick' ? rule.n : 1, label: rule.kind === 'tick' ? `${rule.n}T` : 'volume' };
  return runSync(seriesWork(s, symbol, res, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, cap, true, rule, cap)).bars;
}

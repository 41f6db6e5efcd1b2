/**
 * VWAP (/api/v1/vwap) with ±1/2/3σ bands. Current session VWAP from the engine; with `anchor` (ms)
 * or a resolution, a series recomputed from trades (ring/store) from the anchor (default: the
 * current session start), one point per bucket close. `complete` is false when trades before the
 * first available one were not available, or when the scan cap ended the series early.
 *
 * Bound: the series reads at most `maxTrades` trades (pages with a yield after each) and answers at
 * most `maxBars` points (the latest); both caps are named in `limits` when they applied.
 */
import { Vwap } from '../../../engine/src/analytics/vwap.js';
import { bucketOf } from './aggregate.js';
import type { HistoryService } from './history.js';
import { nominalMs } from './resolution.js';
import { ServiceError } from './errors.js';
import { budget, scanForward } from './trade-scan.js';
import type { Work } from './work.js';

export function* vwapWork(s: HistoryService, symbol: string, q: { anchor?: number; resolution?: string; to: number }): Work<Record<string, unknown>> {
  const i = s.instrument(symbol);
  const p = s.pipeline(i.id);
  const pf = (x: number): number | null => (Number.isFinite(x) ? Number((x * Number(i.tickSize)).toFixed(i.price.decimals + 4)) : null);
  const snap = (v: Vwap) => ({ anchor: v.anchor, vwap: pf(v.value), stdev: pf(v.stdev), upper: [1, 2, 3].map((k) => pf(v.band(k))), lower: [1, 2, 3].map((k) => pf(v.band(-k))), volume: i.qty.toNumber(v.weight) });
  const session = p && p.sessionVwap.weight > 0 ? snap(p.sessionVwap) : null;
  const out: Record<string, unknown> = { symbol: i.id, session };
  if (q.anchor === undefined && q.resolution === undefined) return out;
  const anchor = q.anchor ?? p?.sessionVwap.anchor ?? 0;
  const r = s.resolution(q.resolution ?? '1', i.id);
  if (r.kind === 'tick') throw new ServiceError(400, 'resolution', 'VWAP series need a time resolution');
  const maxPoints = s.opts.maxBars;
  const limits: string[] = [];
  const v = new Vwap(anchor);
  let series: unknown[] = [];
  let dropped = 0;
  let bucket = NaN;
  let first: number | undefined;
  const n = nominalMs(r);
  const b = budget(s.opts.maxTrades);
  const push = (): void => {
    series.push({ time: bucket, ...snap(v) });
    if (series.length >= 2 * maxPoints) { dropped += series.length - maxPoints; series = series.slice(series.length - maxPoints); }
  };
  yield* scanForward(s, i.id, anchor, q.to, b, (t) => {
    if (first === undefined) first = t.ts;
    const k = r.kind === 'second' || r.kind === 'minute' ? Math.floor(t.ts / n) * n : bucketOf(r, { start: t.ts, sessionKey: s.sessionKeyAt(i, t.ts) }, i.calendar);
    if (k !== bucket && !Number.isNaN(bucket) && v.weight > 0) push();
    bucket = k;
    v.add(t.price, t.size);
  });
  if (!Number.isNaN(bucket) && v.weight > 0) push();
  if (series.length > maxPoints) { dropped += series.length - maxPoints; series = series.slice(series.length - maxPoints); }
  if (dropped > 0) limits.push(`at most ${maxPoints} points: the ${dropped} oldest omitted`);
  if (b.truncated) limits.push(`read at most ${s.opts.maxTrades} trades: the series ends early`);
  out.anchored = { anchor, resolution: r.label, complete: !b.truncated && first !== undefined && (s.earliestTrade(i.id) <= anchor || first <= anchor), current: v.weight > 0 ? snap(v) : null, series, limits };
  return out;
}

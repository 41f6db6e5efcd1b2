/**
 * VWAP (/api/v1/vwap) with ±1/2/3σ bands. Current session VWAP from the engine; with `anchor` (ms)
 * or a resolution, a series recomputed from the anchor (default: the current session start), one
 * point per bucket close. `complete` is false when trades before the first available one were not
 * available, or when a scan cap ended the series early. `source` says how the series was derived:
 *  - "bars": from the base bars' footprint rows (each row is one price with its volume, so Σv, Σp·v
 *    and the variance are those of the trades themselves) — used when the footprint row is 1 tick and
 *    the resolution is a minute multiple or 1D/1W/1M; a bar that spans two buckets, starts before the
 *    anchor or ends after `to` is read from its trades instead, as are trades after the last bar.
 *    Only the summation order differs from the trade path (rows in price order, not trade order).
 *  - "trades": trade by trade (footprint rows wider than 1 tick group prices, so bars cannot give the
 *    exact bands; seconds resolutions are finer than a bar).
 *
 * Bound: the trade path reads at most `maxTrades` trades (pages with a yield after each); the bar path
 * reads at most `maxBaseBars` base bars (pages of PAGE_BARS with a yield after each) plus the trades
 * of the bars it cannot use (same `maxTrades` budget); the answer holds at most `maxBars` points (the
 * latest). Every cap that applied is named in `limits`.
 */
import type { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import { COL_ASK_VOL, COL_BID_VOL, COL_UNK_VOL } from '../../../engine/src/analytics/row-grid.js';
import { Vwap } from '../../../engine/src/analytics/vwap.js';
import { bucketOf } from './aggregate.js';
import type { HistoryService } from './history.js';
import { nominalMs } from './resolution.js';
import { ServiceError } from './errors.js';
import { budget, scanForward } from './trade-scan.js';
import type { Work } from './work.js';

const PAGE_BARS = 500;

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
  // the bucket a trade at ts belongs to (both paths use this one rule)
  const keyOf = (ts: number): number => (r.kind === 'second' || r.kind === 'minute' ? Math.floor(ts / n) * n : bucketOf(r, { start: ts, sessionKey: s.sessionKeyAt(i, ts) }, i.calendar));
  const enter = (k: number): void => {
    if (k !== bucket && !Number.isNaN(bucket) && v.weight > 0) push();
    bucket = k;
  };
  const trade = (t: { ts: number; price: number; size: number }): void => {
    if (first === undefined) first = t.ts;
    enter(keyOf(t.ts));
    v.add(t.price, t.size);
  };
  const fromBars = r.kind !== 'second' && s.rowTicks(i) === 1;
  if (fromBars) yield* foldBars(s, i.id, anchor, q.to, limits, (bar) => {
    const k = keyOf(bar.firstTs);
    if (bar.rowTicks !== 1 || bar.trades === 0 || Number.isNaN(k) || keyOf(bar.lastTs) !== k) return false;
    if (first === undefined) first = bar.firstTs;
    enter(k);
    const g = bar.rows, cols = g.cols;
    for (let j = 0; j < g.length; j++) v.add(g.base + j, cols[COL_BID_VOL][j] + cols[COL_ASK_VOL][j] + cols[COL_UNK_VOL][j]);
    return true;
  }, (from, to) => scanForward(s, i.id, from, to, b, trade));
  else yield* scanForward(s, i.id, anchor, q.to, b, trade);
  if (!Number.isNaN(bucket) && v.weight > 0) push();
  if (series.length > maxPoints) { dropped += series.length - maxPoints; series = series.slice(series.length - maxPoints); }
  if (dropped > 0) limits.push(`at most ${maxPoints} points: the ${dropped} oldest omitted`);
  if (b.truncated) limits.push(`read at most ${s.opts.maxTrades} trades: the series ends early`);
  const cut = b.truncated || limits.some((x) => x.startsWith('read at most'));
  out.anchored = { anchor, resolution: r.label, source: fromBars ? 'bars' : 'trades', complete: !cut && first !== undefined && (s.earliestTrade(i.id) <= anchor || first <= anchor), current: v.weight > 0 ? snap(v) : null, series, limits };
  return out;
}

/**
 * Base bars of [from, to) oldest first (the store before the in-memory bars, then memory, then the open
 * bar), each folded by `useBar`; the trades of a bar it refuses (or that starts before `from` or may
 * hold trades at or after `to`), and those after the last bar, go through `trades` in time order.
 */
function* foldBars(s: HistoryService, id: string, from: number, to: number, limits: string[], useBar: (b: FootprintBar) => boolean, trades: (from: number, to: number) => Work<void>): Work<void> {
  let at = from; // everything before `at` is folded
  let stop = false;
  function* one(bar: FootprintBar): Work<void> {
    if (bar.end <= at) return;
    if (bar.start >= to) { stop = true; return; }
    if (at < bar.start) { yield* trades(at, bar.start); at = bar.start; } // trades no bar holds (none when bars cover the store)
    if (bar.start < from || bar.lastTs >= to || !useBar(bar)) yield* trades(at, Math.min(bar.end, to));
    at = Math.min(bar.end, to);
    if (at >= to) stop = true;
  }
  const p = s.pipeline(id);
  const mem = p ? p.bars.map((x) => x.bar) : [];
  const open = p?.openBar ?? null;
  const memFirst = mem.length ? mem[0].start : open ? open.start : Infinity;
  if (s.store && at < memFirst) {
    const label = s.baseTimeframe(id).label;
    const hi = Math.min(to, memFirst);
    // the bar holding `from` may start before it: begin one base bar earlier
    let lo = Math.max(0, from - s.baseTimeframe(id).ms + 1), scanned = 0;
    while (!stop) {
      const n = Math.min(PAGE_BARS, s.opts.maxBaseBars - scanned);
      if (n <= 0) { limits.push(`read at most ${s.opts.maxBaseBars} stored base bars: the series ends early`); return; }
      const page = s.store.bars(id, label, lo, hi, n);
      scanned += page.length;
      for (const bar of page) { yield* one(bar); if (stop) return; }
      if (page.length < n) break;
      lo = page[page.length - 1].start + 1;
      yield;
    }
  }
  for (let k = 0; k < mem.length && !stop; k++) {
    yield* one(mem[k]);
    if (k % PAGE_BARS === PAGE_BARS - 1) yield;
  }
  if (!stop && open && open.trades > 0) yield* one(open);
  if (!stop && at < to) yield* trades(at, to);
}

/**
 * Bars at any resolution (UDF /history, /api/v1/footprint agg=time|tick|volume, /api/v1/delta).
 *
 * Bound: an answer holds at most `maxBars` bars (the latest), and building it reads at most
 * `maxTrades` trades or `maxBaseBars` stored base bars, whatever is stored. Both paths walk BACKWARD
 * from `to` and stop as soon as the answer is complete (every bar of [from, to) and at least
 * `countback` bars, or the bar cap), so a 2-day 1T window costs the 20 000 latest trades, not 2 M.
 *  - time resolutions ≥ the base timeframe, 1D/1W/1M: base bars (open bar, in-memory bars, then the
 *    store in pages of PAGE_BARS), merged per bucket (aggregate.ts rules);
 *  - seconds and N-tick (and volume bars): trades, one UTC hour at a time (N-tick and volume bars
 *    restart every UTC hour, so an hour's bars never depend on the window), in pages (trade-scan.ts).
 * Every page is followed by a yield (work.ts).
 */
import { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import type { ClosedBar } from '../../../engine/src/analytics/pipeline.js';
import type { Instrument } from '../../../engine/src/core/instruments.js';
import type { Trade } from '../../../engine/src/core/events.js';
import { newTrade } from '../../../engine/src/core/events.js';
import { bucketEnd, bucketOf, mergeBars } from './aggregate.js';
import { nominalMs, type Resolution } from './resolution.js';
import type { TradeRec } from './trades.js';
import type { HistoryService } from './history.js';
import { TradeBarGrouper, type TradeBarRule } from './trade-bar-grouper.js';
import { budget, countTrades, prevTradeTs, scanForward, type ScanBudget } from './trade-scan.js';
import type { Work } from './work.js';
import { udfColumns, type Encoded, type UdfColumns } from './udf-columns.js';

const HOUR = 3_600_000;
const PAGE_BARS = 100;

export interface SeriesResult {
  bars: FootprintBar[];
  noData: boolean;
  nextTime?: number;
  /** what capped this answer, in words (empty when nothing did) */
  limits: string[];
}

export type { TradeBarRule };

export function ruleOf(r: Resolution): TradeBarRule | null {
  if (r.kind === 'tick') return { kind: 'tick', n: r.n };
  if (r.kind === 'second') return { kind: 'second', ms: r.ms };
  return null;
}

/**
 * Bars of `res` with from <= time < to; when fewer than countback exist there, the last `countback`
 * bars with time < to (charting-hosts.md §1.5). At most `maxBars` (the latest). noData = nothing at
 * all before `to`; nextTime (ms) = the latest bar time before `from` when the answer is empty.
 */
export function* seriesWork(s: HistoryService, symbol: string, res: Resolution, from: number, to: number, countback: number, withRows: boolean, rule: TradeBarRule | null = ruleOf(res), maxBars = s.opts.maxBars): Work<SeriesResult> {
  const i = s.instrument(symbol);
  const limits: string[] = [];
  let cb = countback;
  if (cb > maxBars) { limits.push(`countback ${cb} clamped to ${maxBars}`); cb = maxBars; }
  const acc = rule
    ? yield* tradeBarsBack(s, i, rule, from, to, cb, withRows, maxBars, limits)
    : yield* baseBarsBack(s, i, res, from, to, cb, withRows, maxBars, limits);
  // acc is newest first; the answer is ascending
  let k = 0;
  while (k < acc.length && acc[k].start >= from) k++;
  const take = k >= cb ? k : Math.min(acc.length, cb);
  const bars = acc.slice(0, take).reverse();
  if (bars.length > 0) return { bars, noData: false, limits };
  // empty: the latest bar time before `from`, if any
  const last = rule ? prevTradeTs(s, i.id, from) : lastBaseBefore(s, i.id, from);
  if (last !== undefined && Number.isFinite(last)) {
    const n = nominalMs(res);
    const t = res.kind === 'tick' ? last : res.kind === 'second' || res.kind === 'minute' ? Math.floor(last / n) * n
      : bucketOf(res, { start: last, sessionKey: s.sessionKeyAt(i, last) }, i.calendar);
    if (Number.isFinite(t) && t < from) return { bars, noData: false, nextTime: t, limits };
  }
  return { bars, noData: true, limits };
}

/** Trade-built bars, newest first, one UTC hour at a time backward from `to`. */
export function* tradeBarsBack(s: HistoryService, i: Instrument, rule: TradeBarRule, from: number, to: number, cb: number, withRows: boolean, maxBars: number, limits: string[]): Work<FootprintBar[]> {
  const acc: FootprintBar[] = [];
  const b = budget(s.opts.maxTrades);
  let hi = to;
  for (;;) {
    const last = prevTradeTs(s, i.id, hi);
    if (last === undefined) break;
    const hStart = Math.floor(last / HOUR) * HOUR;
    const hEnd = Math.min(hStart + HOUR, hi);
    const hour = yield* hourBars(s, i, rule, hStart, hEnd, withRows, maxBars - acc.length, b);
    for (let k = hour.bars.length - 1; k >= 0; k--) acc.push(hour.bars[k]);
    if (b.truncated) { limits.push(`read at most ${s.opts.maxTrades} trades: older bars omitted`); break; }
    if (acc.length >= maxBars) {
      const older = hour.cut || (hStart > from && prevTradeTs(s, i.id, hStart) !== undefined);
      if (older) limits.push(`at most ${maxBars} bars: older bars omitted`);
      break;
    }
    if (hStart <= from && acc.length >= cb) break;
    hi = hStart;
    yield;
  }
  return acc;
}

/**
 * Bars of one UTC hour [hStart, hEnd), ascending, only the last `keep` of them: the stored trades fed
 * to the same TradeBarGrouper the live stream uses. Bars that would be dropped are never built: the
 * grouper counts them (tick: the hour's count from the index; volume: a counting pass; seconds start
 * `keep` buckets before the end).
 */
function* hourBars(s: HistoryService, i: Instrument, rule: TradeBarRule, hStart: number, hEnd: number, withRows: boolean, keep: number, b: ScanBudget): Work<{ bars: FootprintBar[]; cut: boolean }> {
  const out: FootprintBar[] = [];
  const t = newTrade(i.id);
  const asTrade = (x: TradeRec): Trade => {
    t.ts = x.ts; t.id = x.id; t.price = x.price; t.size = x.size; t.side = x.side; t.sideSource = x.sideSource;
    return t;
  };
  let from = hStart;
  let skipBars = 0; // bars to pass over without building (tick, volume)
  let cut = false; // older bars of this hour were left out
  if (rule.kind === 'second') {
    const first = Math.floor((hEnd - 1) / rule.ms) * rule.ms - (keep - 1) * rule.ms;
    if (first > from) { from = first; cut = countTrades(s, i.id, hStart, first) > 0; }
  } else {
    const cnt = countTrades(s, i.id, hStart, hEnd);
    if (cnt > keep) {
      let n = Math.ceil(cnt / (rule.kind === 'tick' ? rule.n : 1));
      if (rule.kind === 'volume') {
        const counter = new TradeBarGrouper(i.id, 1, rule, () => '', () => {}, { skipBars: Number.POSITIVE_INFINITY });
        yield* scanForward(s, i.id, hStart, hEnd, b, (x: TradeRec) => counter.add(asTrade(x), 0));
        n = counter.skipped + (counter.inProgress ? 1 : 0);
      }
      skipBars = Math.max(0, n - keep);
    }
  }
  const g = new TradeBarGrouper(i.id, s.rowTicks(i), rule, (ts) => i.calendar.sessionAt(ts)?.key ?? '', (bar) => out.push(bar), { withRows, skipBars });
  yield* scanForward(s, i.id, from, hEnd, b, (x: TradeRec) => g.add(asTrade(x), x.cvd));
  const c = g.open;
  if (c) {
    // the last bar of the scan: final once the instrument's data has moved past it (a later bucket,
    // or the next hour, where tick and volume bars restart)
    const latest = prevTradeTs(s, i.id, Number.MAX_SAFE_INTEGER);
    c.closed = latest !== undefined && latest >= (rule.kind === 'second' ? c.end : hEnd);
    if (rule.kind !== 'second') c.end = c.lastTs + 1;
    out.push(c);
  }
  if (skipBars > 0 || out.length > keep) cut = true;
  return { bars: out.length > keep ? out.slice(out.length - keep) : out, cut };
}

/** Index of the newest held bar starting before t (−1 when none). */
function heldBefore(held: readonly ClosedBar[], t: number): number {
  let lo = 0, hi = held.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (held[m].bar.start < t) lo = m + 1; else hi = m;
  }
  return lo - 1;
}

/** Base-timeframe bars merged per bucket, newest first, read backward from `to`. */
function* baseBarsBack(s: HistoryService, i: Instrument, res: Resolution, from: number, to: number, cb: number, withRows: boolean, maxBars: number, limits: string[]): Work<FootprintBar[]> {
  const id = i.id;
  const base = s.baseTimeframe(id);
  const ms = res.kind === 'minute' ? res.ms : 0;
  const passThrough = res.kind === 'minute' && res.ms === base.ms;
  // read past `to` so the last bucket is whole (a bucket starting before `to` may end after it)
  const readTo = res.kind === 'minute' ? Math.ceil(to / ms) * ms : to + (res.kind === 'day' ? 2 : res.kind === 'week' ? 8 : 32) * 86_400_000;
  const bucketT = (b: FootprintBar): number => (ms ? Math.floor(b.start / ms) * ms : bucketOf(res, b, i.calendar));
  const acc: FootprintBar[] = [];
  let group: FootprintBar[] = []; // bars of the current bucket, newest first
  let groupT = NaN;
  let done = false;
  let scanned = 0;
  const maxScan = s.opts.maxBaseBars;
  const flush = (): void => {
    if (!group.length) return;
    const asc = group.reverse();
    if (groupT < to) acc.push(passThrough ? asc[0] : mergeBars(asc, groupT, bucketEnd(res, groupT, i.calendar), withRows));
    group = [];
  };
  // visit one base bar (descending); returns false when the answer is complete
  const visit = (b: FootprintBar): boolean => {
    const t = bucketT(b);
    if (Number.isNaN(t)) return true;
    if (t !== groupT) {
      flush();
      if (acc.length >= maxBars) { limits.push(`at most ${maxBars} bars: older bars omitted`); done = true; return false; }
      if (t < from && acc.length >= cb) { done = true; return false; }
      groupT = t;
    }
    group.push(b);
    return true;
  };
  const p = s.pipeline(id);
  // the held bars are read in place (no copy of the whole list per request): a binary search finds
  // the newest bar before readTo, and after each yield (bars may have been added or dropped) the
  // walk finds its place again by the start of the last bar it visited
  const held = p ? p.bars : [];
  const open = p?.openBar ?? null;
  let memFirst = held.length ? held[0].bar.start : open ? open.start : Infinity;
  if (open && open.trades > 0 && open.start < readTo && !visit(open)) return acc;
  let k = heldBefore(held, readTo);
  while (k >= 0) {
    const stop = Math.max(-1, k - PAGE_BARS);
    for (; k > stop; k--) { const b = held[k].bar; memFirst = b.start; if (!visit(b)) return acc; }
    yield;
    k = heldBefore(held, memFirst);
  }
  if (s.store) {
    let before = Math.min(readTo, memFirst);
    while (!done) {
      const n = Math.min(PAGE_BARS, maxScan - scanned);
      if (n <= 0) {
        limits.push(`read at most ${maxScan} stored base bars: older bars omitted`);
        group = []; // the oldest bucket may be cut: drop it
        return acc;
      }
      const page = s.store.lastBars(id, base.label, before, n);
      scanned += page.length;
      for (let j = page.length - 1; j >= 0; j--) if (!visit(page[j])) return acc;
      if (page.length < n) break;
      before = page[0].start;
      yield;
    }
  }
  flush();
  return acc;
}

function lastBaseBefore(s: HistoryService, id: string, t: number): number | undefined {
  const p = s.pipeline(id);
  if (p) {
    const all = p.bars;
    for (let k = all.length - 1; k >= 0; k--) if (all[k].bar.start < t) return all[k].bar.start;
  }
  return s.store?.lastBars(id, s.baseTimeframe(id).label, t, 1)[0]?.start;
}

/** UDF /history body (times in seconds). Tick bars starting in the same second are merged (UDF has 1 s resolution). */
export function* udfHistoryWork(s: HistoryService, symbol: string, resolution: string, fromS: number, toS: number, countback: number): Work<{ body: Record<string, unknown> | Encoded; limits: string[] }> {
  const i = s.instrument(symbol);
  const r = s.resolution(resolution, i.id);
  const cols = columnsFor(s, i, r, countback);
  if (cols) {
    // catch the columns up in bounded steps (a first query over 50 000 held bars encodes them all)
    while (!cols.sync(s.pipeline(i.id)!.bars, SYNC_BARS)) yield;
    const fast = answerFromColumns(s, i, cols, fromS * 1000, toS * 1000, countback);
    if (fast) return { body: fast, limits: [] };
  }
  return yield* udfHistoryWalk(s, i, r, fromS, toS, countback);
}

/** The general UDF /history answer: bars from seriesWork, values as numbers (the columns' reference). */
export function* udfHistoryWalk(s: HistoryService, i: Instrument, r: Resolution, fromS: number, toS: number, countback: number): Work<{ body: Record<string, unknown>; limits: string[] }> {
  const res = yield* seriesWork(s, i.id, r, fromS * 1000, toS * 1000, countback, false);
  if (res.bars.length === 0) return { body: res.nextTime !== undefined ? { s: 'no_data', nextTime: res.nextTime } : { s: 'no_data' }, limits: res.limits };
  let bars = res.bars;
  if (r.kind === 'tick') {
    bars = collapseSameSecond(bars);
    // a page cut at the bar cap may start inside a second: drop that partial second, so the library's
    // next request (to = the first second shown) returns it whole
    if (res.limits.some((x) => x.startsWith('at most')) && bars.length > 1) bars = bars.slice(1);
  }
  const px = (x: number): number => i.price.toNumber(x);
  const n = bars.length;
  const t = new Array<number>(n), o = new Array<number>(n), h = new Array<number>(n), l = new Array<number>(n), c = new Array<number>(n), v = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    const b = bars[k];
    t[k] = Math.floor(b.start / 1000); o[k] = px(b.open); h[k] = px(b.high); l[k] = px(b.low); c[k] = px(b.close); v[k] = i.qty.toNumber(b.volume);
    if (k % 2000 === 1999) yield;
  }
  return { body: { s: 'ok', t, o, h, l, c, v }, limits: res.limits };
}

/** Bars a column sync encodes per step (a few ms). */
const SYNC_BARS = 2000;

/**
 * The UDF answer from encoded columns (udf-columns.ts) when it is ready without waiting: the columns
 * are up to date after at most SYNC_BARS newly closed bars and the in-memory bars decide the answer.
 * Null: run udfHistoryWork on the scheduler instead. Bounded by the parts it returns.
 */
export function udfHistoryNow(s: HistoryService, i: Instrument, r: Resolution, fromS: number, toS: number, countback: number): Encoded | null {
  const cols = columnsFor(s, i, r, countback);
  if (!cols || !cols.sync(s.pipeline(i.id)!.bars, SYNC_BARS)) return null;
  return answerFromColumns(s, i, cols, fromS * 1000, toS * 1000, countback);
}

/** The columns of minute resolutions built from the base time bars (null: the general walk answers). */
function columnsFor(s: HistoryService, i: Instrument, r: Resolution, cb: number): UdfColumns | null {
  const p = s.pipeline(i.id);
  if (!p || p.spec.kind !== 'time' || r.kind !== 'minute' || cb > s.opts.maxBars) return null;
  const base = s.baseTimeframe(i.id).ms;
  if (r.ms % base !== 0) return null;
  return udfColumns(s, i, r.ms, r.ms === base);
}

function answerFromColumns(s: HistoryService, i: Instrument, cols: UdfColumns, from: number, to: number, cb: number): Encoded | null {
  const p = s.pipeline(i.id)!;
  return cols.answer(p.bars, p.openBar ?? null, from, to, cb, !!s.store, s.opts.maxBars);
}

/** Merge consecutive bars whose start falls in the same second (UDF times are seconds). */
export function collapseSameSecond(bars: FootprintBar[]): FootprintBar[] {
  const out: FootprintBar[] = [];
  let k = 0;
  while (k < bars.length) {
    const sec = Math.floor(bars[k].start / 1000);
    let j = k + 1;
    while (j < bars.length && Math.floor(bars[j].start / 1000) === sec) j++;
    if (j - k === 1) out.push(bars[k]);
    else {
      const group = bars.slice(k, j);
      const m = new FootprintBar(group[0].instrument, group[0].start, group[j - k - 1].end, group[0].rowTicks, group[0].sessionKey, group[0].cvdOpen);
      m.open = group[0].open; m.close = group[group.length - 1].close; m.firstTs = group[0].firstTs; m.lastTs = group[group.length - 1].lastTs;
      for (const b of group) { if (b.high > m.high) m.high = b.high; if (b.low < m.low) m.low = b.low; m.volume += b.volume; m.trades += b.trades; }
      out.push(m);
    }
    k = j;
  }
  return out;
}

/**
 * The one grouping of trades into N-tick, volume and seconds bars. Live bars (ws/trade-bar-topic.ts)
 * and REST bars (/api/v1/footprint agg=tick|volume, UDF /history NT/NS: bars.ts hourBars) are both this
 * grouper fed trades, so their boundaries cannot drift apart:
 *  - a tick/volume bar starts at its first trade; an N-tick bar closes at its N-th trade, a volume bar
 *    at the trade that brings its volume to >= the target (never split mid-trade);
 *  - every UTC hour restarts the grouping (the hour's short last bar closes at the next hour's first trade);
 *  - a seconds bar is its time bucket and closes when a trade of a later bucket arrives.
 * Core-only imports: the same grouping runs in replay and live.
 */
import { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import type { Trade } from '../../../engine/src/core/events.js';

const HOUR = 3_600_000;

/** tick: n trades per bar; volume: lots per bar (instrument units converted by the caller). */
export type CountRule = { kind: 'tick'; n: number } | { kind: 'volume'; lots: number };
/** How trade-built bars close: every n trades, at a volume, or at a time bucket. */
export type TradeBarRule = CountRule | { kind: 'second'; ms: number };

/** The closing rule: is a bar with these counts complete? (seconds bars close by time only) */
export function barIsFull(rule: TradeBarRule, trades: number, volume: number): boolean {
  return rule.kind === 'tick' ? trades >= rule.n : rule.kind === 'volume' ? volume >= rule.lots : false;
}

/** Start of the UTC hour of ts: N-tick and volume bars restart there. */
export function countHour(ts: number): number { return Math.floor(ts / HOUR) * HOUR; }

export interface GrouperOptions {
  /** build price rows (footprints); false = OHLCV, delta and CVD only (UDF history) */
  withRows?: boolean;
  /** bars to count without building or emitting (REST: bars older than the answer keeps) */
  skipBars?: number;
}

export class TradeBarGrouper {
  /** the bar in progress (null between bars and while skipping) */
  open: FootprintBar | null = null;
  /** bars still to pass over unbuilt */
  skipBars: number;
  /** bars passed over so far */
  skipped = 0;
  private readonly withRows: boolean;
  // the current bar's grouping state, kept apart from `open` so skipped bars close at the same trades
  private inBar = false;
  private hour = NaN;
  private bucket = NaN;
  private trades = 0;
  private volume = 0;

  constructor(
    private readonly instrument: string, private readonly rowTicks: number, private readonly rule: TradeBarRule,
    private readonly sessionKeyAt: (ts: number) => string, private readonly onClose: (b: FootprintBar) => void,
    opts: GrouperOptions = {},
  ) {
    this.withRows = opts.withRows ?? true;
    this.skipBars = opts.skipBars ?? 0;
  }

  /** Add one classified trade; `cvdAfter` is the cumulative delta including it. */
  add(t: Trade, cvdAfter: number): void {
    const rule = this.rule;
    const h = countHour(t.ts);
    const bucket = rule.kind === 'second' ? Math.floor(t.ts / rule.ms) * rule.ms : h;
    if (this.inBar && (h !== this.hour || bucket !== this.bucket)) this.close();
    if (!this.inBar) {
      this.inBar = true;
      this.hour = h;
      this.bucket = bucket;
      this.trades = 0;
      this.volume = 0;
      if (this.skipBars <= 0) {
        const sign = t.side === 'buy' ? 1 : t.side === 'sell' ? -1 : 0;
        const start = rule.kind === 'second' ? bucket : t.ts;
        this.open = new FootprintBar(this.instrument, start, rule.kind === 'second' ? start + rule.ms : Infinity, this.rowTicks, this.sessionKeyAt(t.ts), cvdAfter - sign * t.size);
      }
    }
    this.trades++;
    this.volume += t.size;
    const b = this.open;
    if (b) {
      if (this.withRows) b.add(t, cvdAfter);
      else addLight(b, t, cvdAfter);
    }
    if (barIsFull(rule, this.trades, this.volume)) this.close();
  }

  /** a bar (built or skipped) has trades and is not closed yet */
  get inProgress(): boolean { return this.inBar; }

  /** Continue a bar the REST grouping left open (the stream's snapshot). */
  seed(b: FootprintBar): void {
    b.end = this.rule.kind === 'second' ? b.end : Infinity;
    b.closed = false;
    this.open = b;
    this.inBar = true;
    this.hour = countHour(b.start);
    this.bucket = this.rule.kind === 'second' ? b.start : this.hour;
    this.trades = b.trades;
    this.volume = b.volume;
  }

  private close(): void {
    this.inBar = false;
    const b = this.open;
    if (!b) { this.skipBars--; this.skipped++; return; }
    this.open = null;
    if (this.rule.kind !== 'second') b.end = b.lastTs + 1;
    b.closed = true;
    this.onClose(b);
  }
}

function addLight(b: FootprintBar, t: Trade, cvd: number): void {
  // like FootprintBar.add without rows (UDF history needs OHLCV only)
  const p = t.price;
  if (b.trades === 0) { b.open = p; b.firstTs = t.ts; b.firstId = t.id; }
  if (p > b.high) b.high = p;
  if (p < b.low) b.low = p;
  b.close = p; b.lastTs = t.ts; b.lastId = t.id; b.volume += t.size; b.trades++;
  if (t.side === 'buy') { b.buyVolume += t.size; b.buyTrades++; b.delta += t.size; } else if (t.side === 'sell') { b.sellVolume += t.size; b.sellTrades++; b.delta -= t.size; } else b.unknownVolume += t.size;
  if (b.delta > b.deltaMax) b.deltaMax = b.delta;
  if (b.delta < b.deltaMin) b.deltaMin = b.delta;
  b.cvdClose = cvd;
  if (cvd > b.cvdHigh) b.cvdHigh = cvd;
  if (cvd < b.cvdLow) b.cvdLow = cvd;
}

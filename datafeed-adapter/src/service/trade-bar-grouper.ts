/**
 * Live N-tick and volume bars, grouped exactly as /api/v1/footprint agg=tick|volume and UDF /history NT
 * group stored trades (bars.ts hourBars): a bar starts at its first trade, an N-tick bar closes at its
 * N-th trade, a volume bar at the trade that brings its volume to >= the target (never split mid-trade),
 * and every UTC hour restarts the grouping (the hour's short last bar closes at the next hour's first
 * trade). Core-only imports: the same grouping runs in replay and live.
 */
import { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import type { Trade } from '../../../engine/src/core/events.js';

const HOUR = 3_600_000;

/** tick: n trades per bar; volume: lots per bar (instrument units converted by the caller). */
export type CountRule = { kind: 'tick'; n: number } | { kind: 'volume'; lots: number };

/** The closing rule, shared with the REST grouping (bars.ts hourBars): is this bar complete? */
export function barIsFull(rule: CountRule, b: { trades: number; volume: number }): boolean {
  return rule.kind === 'tick' ? b.trades >= rule.n : b.volume >= rule.lots;
}

/** Start of the UTC hour of ts: N-tick and volume bars restart there. */
export function countHour(ts: number): number { return Math.floor(ts / HOUR) * HOUR; }

export class TradeBarGrouper {
  /** the bar in progress (null between bars) */
  open: FootprintBar | null = null;
  private hour = NaN;

  constructor(
    private readonly instrument: string, private readonly rowTicks: number, private readonly rule: CountRule,
    private readonly sessionKeyAt: (ts: number) => string, private readonly onClose: (b: FootprintBar) => void,
  ) {}

  /** Add one classified trade; `cvdAfter` is the cumulative delta including it. */
  add(t: Trade, cvdAfter: number): void {
    const h = countHour(t.ts);
    if (this.open && h !== this.hour) this.close();
    if (!this.open) {
      const sign = t.side === 'buy' ? 1 : t.side === 'sell' ? -1 : 0;
      this.open = new FootprintBar(this.instrument, t.ts, Infinity, this.rowTicks, this.sessionKeyAt(t.ts), cvdAfter - sign * t.size);
      this.hour = h;
    }
    const b = this.open;
    b.add(t, cvdAfter);
    if (barIsFull(this.rule, b)) this.close();
  }

  /** Continue a bar the REST grouping left open (the stream's snapshot). */
  seed(b: FootprintBar): void {
    b.end = Infinity;
    b.closed = false;
    this.open = b;
    this.hour = countHour(b.start);
  }

  private close(): void {
    const b = this.open;
    if (!b) return;
    this.open = null;
    b.end = b.lastTs + 1;
    b.closed = true;
    this.onClose(b);
  }
}

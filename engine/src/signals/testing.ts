/** Builders for hand-made bars and trades (unit tests, examples). Core code: no Node imports. */
import { FootprintBar } from '../analytics/footprint.js';
import { computeBarStats } from '../analytics/bar-stats.js';
import { DeltaDynamicsTracker } from '../analytics/delta.js';
import type { Trade } from '../core/events.js';

export function trade(ts: number, price: number, size: number, side: 'buy' | 'sell'): Trade {
  return { type: 'trade', instrument: 'TEST', ts, id: 0, price, size, side, sideSource: 'flag' };
}

/** Builds closed bars in sequence; `cvd` lets a test set the CVD after each trade explicitly. */
export class BarMaker {
  private dyn = new DeltaDynamicsTracker();
  private cvd = 0;
  constructor(private readonly rowTicks = 1, private readonly session = '2024-01-01') {}
  bar(start: number, trades: [price: number, size: number, side: 'buy' | 'sell', cvd?: number][], end = start + 60_000) {
    const b = new FootprintBar('TEST', start, end, this.rowTicks, this.session, this.cvd);
    let ts = start;
    for (const [p, s, side, c] of trades) {
      this.cvd = c ?? this.cvd + (side === 'buy' ? s : -s);
      b.add(trade(ts++, p, s, side), this.cvd);
    }
    b.closed = true;
    const stats = computeBarStats(b, { valueArea: {}, imbalance: {}, stackedMinRows: 3, unfinishedMinBid: 0, unfinishedMinAsk: 0 }, this.dyn.next(b.delta, b.buyVolume, b.sellVolume));
    return { bar: b, stats };
  }
}

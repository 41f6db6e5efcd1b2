/**
 * Volume-weighted average price with 1/2/3-sigma bands from trade prices. The variance is the
 * volume-weighted population variance accumulated with West's weighted incremental algorithm, which
 * avoids the catastrophic cancellation of Σp²v/Σv − vwap² at large prices.
 */
export class Vwap {
  /** ts of the anchor (session start or a user anchor) */
  anchor: number;
  weight = 0;
  mean = NaN;
  private m2 = 0;

  constructor(anchor = 0) { this.anchor = anchor; }

  add(price: number, volume: number): void {
    if (volume <= 0) return;
    if (this.weight === 0) { this.weight = volume; this.mean = price; this.m2 = 0; return; }
    this.weight += volume;
    const d = price - this.mean;
    this.mean += (volume / this.weight) * d;
    this.m2 += volume * d * (price - this.mean);
  }

  get value(): number { return this.mean; }
  get variance(): number { return this.weight > 0 ? Math.max(0, this.m2 / this.weight) : NaN; }
  get stdev(): number { return Math.sqrt(this.variance); }
  /** vwap + k·σ (k may be negative) */
  band(k: number): number { return this.mean + k * this.stdev; }

  reset(anchor: number): void { this.anchor = anchor; this.weight = 0; this.mean = NaN; this.m2 = 0; }

  /** The exact accumulator state (a restart restores it instead of re-adding every trade). */
  state(): VwapState { return { anchor: this.anchor, weight: this.weight, mean: this.mean, m2: this.m2 }; }
  restore(s: VwapState): void { this.anchor = s.anchor; this.weight = s.weight; this.mean = s.mean; this.m2 = s.m2; }

  snapshot(): VwapSnapshot {
    const s = this.stdev;
    return { anchor: this.anchor, vwap: this.mean, stdev: s, upper: [1, 2, 3].map((k) => this.mean + k * s), lower: [1, 2, 3].map((k) => this.mean - k * s), volume: this.weight };
  }
}

export interface VwapState { anchor: number; weight: number; mean: number; m2: number }

export interface VwapSnapshot { anchor: number; vwap: number; stdev: number; upper: number[]; lower: number[]; volume: number }

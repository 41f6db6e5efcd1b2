/**
 * Detector thresholds in lots. 'registry' mode converts the instrument registry's thresholds
 * (instrument size units) to lots; 'auto' mode derives them from rolling distributions of closed
 * bars (Bookmap's SD approach): absorption min = SD(bar volume) × absorptionSd, initiative min =
 * SD(bar delta) × initiativeSd over the last `window` bars, once `minSamples` bars are known
 * (the registry values are used before that). Both are floored at 1 lot. An instrument registered from
 * the data (`thresholds.auto`, no known values) is always in auto mode and its thresholds are infinite
 * (nothing fires) until enough bars are known: no silent 1-lot floor.
 */
import type { Instrument } from '../core/instruments.js';

export interface ThresholdOptions {
  mode: 'registry' | 'auto';
  /** explicit overrides in instrument size units (take precedence over the registry) */
  absorptionMinVolume?: number;
  initiativeMinDelta?: number;
  window: number;
  minSamples: number;
  absorptionSd: number;
  initiativeSd: number;
}

export const DEFAULT_THRESHOLDS: ThresholdOptions = { mode: 'registry', window: 60, minSamples: 10, absorptionSd: 1, initiativeSd: 1.5 };

/** Fixed-size window of numbers with mean and population SD (recomputed exactly, no drift). */
export class RollingWindow {
  private readonly buf: number[] = [];
  constructor(readonly size: number) {}
  push(x: number): void { this.buf.push(x); if (this.buf.length > this.size) this.buf.shift(); }
  get count(): number { return this.buf.length; }
  mean(): number {
    if (!this.buf.length) return NaN;
    let s = 0;
    for (const x of this.buf) s += x;
    return s / this.buf.length;
  }
  sd(): number {
    const n = this.buf.length;
    if (!n) return NaN;
    const m = this.mean();
    let s = 0;
    for (const x of this.buf) s += (x - m) * (x - m);
    return Math.sqrt(s / n);
  }
  values(): readonly number[] { return this.buf; }
}

/** Convert an amount in instrument size units to lots (e.g. 20 BTC at lot 0.001 → 20 000 lots). */
export function unitsToLots(inst: Pick<Instrument, 'qty'>, units: number): number {
  return inst.qty.fromNumber(units);
}

export class Thresholds {
  readonly opts: ThresholdOptions;
  private readonly absReg: number;
  private readonly initReg: number;
  private readonly vol: RollingWindow;
  private readonly delta: RollingWindow;

  /** the instrument has no known thresholds (registered from data): auto mode, and nothing fires until warm */
  readonly derived: boolean;

  constructor(inst: Pick<Instrument, 'qty' | 'thresholds'>, opts: Partial<ThresholdOptions> = {}) {
    this.derived = inst.thresholds.auto === true && opts.absorptionMinVolume === undefined && opts.initiativeMinDelta === undefined;
    this.opts = { ...DEFAULT_THRESHOLDS, ...opts, ...(this.derived ? { mode: 'auto' as const } : {}) };
    this.absReg = Math.max(1, unitsToLots(inst, this.opts.absorptionMinVolume ?? inst.thresholds.absorptionMinVolume));
    this.initReg = Math.max(1, unitsToLots(inst, this.opts.initiativeMinDelta ?? inst.thresholds.initiativeMinDelta));
    this.vol = new RollingWindow(this.opts.window);
    this.delta = new RollingWindow(this.opts.window);
  }

  /** Feed each closed bar (volume and delta in lots). */
  onBar(volume: number, delta: number): void {
    this.vol.push(volume);
    this.delta.push(delta);
  }

  private get warm(): boolean { return this.opts.mode === 'auto' && this.vol.count >= this.opts.minSamples; }

  /** absorption minimum volume, lots */
  absorptionMin(): number {
    return this.warm ? Math.max(1, Math.round(this.vol.sd() * this.opts.absorptionSd)) : this.derived ? Infinity : this.absReg;
  }

  /** initiative minimum |delta|, lots */
  initiativeMin(): number {
    return this.warm ? Math.max(1, Math.round(this.delta.sd() * this.opts.initiativeSd)) : this.derived ? Infinity : this.initReg;
  }

  /** 'registry' or 'auto' (auto only once warm) */
  get source(): 'registry' | 'auto' { return this.warm ? 'auto' : 'registry'; }
}

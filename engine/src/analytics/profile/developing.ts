/**
 * Developing ("migrating") POC / VAH / VAL: the levels of a growing profile as they were at a time.
 * Levels are computed on demand (O(rows)); closeBar(ts) records one point per bar close. Points are
 * kept up to `maxPoints` (default 10 000, oldest dropped) so memory stays bounded.
 */
import type { Trade } from '../../core/events.js';
import type { ValueAreaOptions } from '../value-area.js';
import { VolumeProfile } from './volume-profile.js';

export interface DevelopingPoint {
  /** bar close time (or the on-demand time), ms */
  ts: number;
  /** row lower edges in ticks; NaN while the profile is empty */
  poc: number;
  vah: number;
  val: number;
}

export interface DevelopingOptions {
  valueArea: Partial<ValueAreaOptions>;
  maxPoints: number;
}

/** The developing levels of `profile` now, stamped `ts`. */
export function developingPoint(profile: VolumeProfile, ts: number, va?: Partial<ValueAreaOptions>): DevelopingPoint {
  const p: DevelopingPoint = { ts, poc: NaN, vah: NaN, val: NaN };
  profile.levels(va, p);
  return p;
}

export class DevelopingProfile {
  readonly profile: VolumeProfile;
  private readonly va: Partial<ValueAreaOptions> | undefined;
  private readonly maxPoints: number;
  private readonly pts: DevelopingPoint[] = [];

  /** Owns a fresh profile of `rowTicks`, or wraps an existing `VolumeProfile` (read-only use). */
  constructor(rowTicksOrProfile: number | VolumeProfile, opts?: Partial<DevelopingOptions>) {
    this.profile = typeof rowTicksOrProfile === 'number' ? new VolumeProfile(rowTicksOrProfile) : rowTicksOrProfile;
    this.va = opts?.valueArea;
    this.maxPoints = Math.max(1, opts?.maxPoints ?? 10_000);
  }

  /** O(1) */
  add(priceTicks: number, size: number, sign: number): void { this.profile.add(priceTicks, size, sign); }
  addTrade(t: Trade): void { this.profile.addTrade(t); }

  /** Levels now, not recorded. O(rows). */
  at(ts: number): DevelopingPoint { return developingPoint(this.profile, ts, this.va); }

  /** Record and return the levels at a bar close. O(rows). */
  closeBar(ts: number): DevelopingPoint {
    const p = this.at(ts);
    this.pts.push(p);
    if (this.pts.length > this.maxPoints) this.pts.shift();
    return p;
  }

  /** recorded points, oldest first */
  get points(): readonly DevelopingPoint[] { return this.pts; }

  /** Start over (new scope): clears the profile and the recorded points. */
  reset(): void {
    this.profile.clear();
    this.pts.length = 0;
  }
}

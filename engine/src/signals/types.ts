/**
 * Typed signal events (docs/definitions/signals.md). Every detector emits SignalEvent objects with
 * the evidence that made it fire; evaluation uses them only at `confirmedAt` (no look-ahead).
 * Core code: no Node imports.
 */
import { mulberry32 } from '../sim/prng.js';

export type SignalKind = 'absorption' | 'initiative' | 'sweep' | 'exhaustion' | 'divergence' | 'iceberg';
export const SIGNAL_KINDS: readonly SignalKind[] = ['absorption', 'initiative', 'sweep', 'exhaustion', 'divergence', 'iceberg'];

/** Direction the event implies for price: 'buy' = bullish, 'sell' = bearish. */
export type SignalSide = 'buy' | 'sell';

export type EvidenceValue = number | string | boolean;

export interface SignalEvent {
  /** `${instrument}:${kind}:${n}`, n counting per detector instance (deterministic) */
  id: string;
  kind: SignalKind;
  /** named definition, e.g. absorption 'delta-mismatch' | 'level' */
  variant: string;
  instrument: string;
  side: SignalSide;
  /** price range in ticks (inclusive) */
  priceLow: number;
  priceHigh: number;
  /** 0–100, clamped */
  strength: number;
  /** time the pattern started forming (ms) */
  firstSeenAt: number;
  /** time the detector could know it (ms): the only time evaluation may use */
  confirmedAt: number;
  /** the numbers that made it fire */
  evidence: Record<string, EvidenceValue>;
  /** human-readable reasons */
  reasoning: string[];
}

/**
 * The unit of each numeric evidence field the detectors write (anything not listed is a count, ratio,
 * strength or time): 'price' in ticks, 'distance' a price difference in ticks, 'size' in lots. Boundaries
 * (HTTP, WebSocket, store readers) convert with these to price units and instrument units; a
 * '…Ticks' name is served without its suffix.
 */
export const EVIDENCE_UNITS: Readonly<Record<string, 'price' | 'distance' | 'size'>> = {
  open: 'price', close: 'price', level: 'price', windowLow: 'price', windowHigh: 'price', priorExtreme: 'price', newExtreme: 'price',
  bodyTicks: 'distance', displacementTicks: 'distance',
  delta: 'size', volume: 'size', minVolume: 'size', aggressiveVolume: 'size', minDelta: 'size', avgVolume: 'size', maxEarlierVolume: 'size',
  previousDelta: 'size', priorCvdPeak: 'size', cvdPeak: 'size', cvdBase: 'size', volumePerLevel: 'size', maxVolumePerLevel: 'size',
  shownBefore: 'size', bookMedian: 'size', executed: 'size', displayedMax: 'size', acceleration: 'size',
};

export function clamp(x: number, lo = 0, hi = 100): number {
  if (!(x === x)) return lo;
  return x < lo ? lo : x > hi ? hi : x;
}

/** Round to 2 decimals for stable, readable evidence/strengths. */
export function r2(x: number): number {
  return Math.round(x * 100) / 100;
}

export const sideSign = (s: SignalSide): number => (s === 'buy' ? 1 : -1);
export const opposite = (s: SignalSide): SignalSide => (s === 'buy' ? 'sell' : 'buy');

export type SignalListener = (e: SignalEvent) => void;

/** A tiny deterministic PRNG (mulberry32); used by the random baseline. */
export class Mulberry32 {
  /** uniform in [0, 1) */
  readonly next: () => number;
  constructor(seed: number) { this.next = mulberry32(seed); }
  int(n: number): number { return Math.floor(this.next() * n); }
}

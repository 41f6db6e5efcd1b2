/**
 * Profile framing (docs/definitions/signals.md §3): the daily bias from the prior session's profile
 * shape, value acceptance, VAH/VAL rejection warnings, failed-auction hooks; and qualified levels
 * (VAH, VAL, POC, LVN, merged multi-day value areas, confluence).
 */
import type { ProfileSummary } from '../analytics/profile/volume-profile.js';
import type { ProfileShape } from '../analytics/profile/nodes.js';
import { clamp, r2, type SignalSide } from './types.js';
import { RAW_UNITS, type UnitText } from './units.js';

export type BiasDirection = 'long' | 'short' | 'neutral';

/** The parts of a session profile the framing needs (a ProfileSummary satisfies it). */
export interface SessionLevels {
  /** session key (YYYY-MM-DD) */
  key?: string;
  shape: ProfileShape;
  /** 0–100 */
  pocPct: number;
  pocPrice: number;
  vahPrice: number;
  valPrice: number;
  lowPrice: number;
  highPrice: number;
  lvn?: { lowPrice: number; highPrice: number; peakPrice: number }[];
}

export interface Bias {
  direction: BiasDirection;
  /** 0–100 */
  confidence: number;
  /** 'P' | 'b' | 'D' | 'double' | 'none' of the prior session */
  shape: ProfileShape;
  /** shape transition (double distribution) */
  transition: boolean;
  /** value accepted higher/lower than the prior value area */
  acceptance: 'higher' | 'lower' | 'inside' | 'unknown';
  /** true when a VAH/VAL rejection across days contradicts the bias (−10 on the composite) */
  warning: boolean;
  reasoning: string[];
}

/** A failed-auction hook may adjust the bias (e.g. a poor high/low, an unfinished auction). */
export type FramingHook = (bias: Bias, prior: SessionLevels, current: SessionLevels | null) => void;

/**
 * Bias from the prior session (and optionally the one before it and the developing current one):
 *  P → long, 40 + pocPct/100 × 30; b → short, 40 + (1 − pocPct/100) × 30; D → neutral 20;
 *  double → neutral 30 (transition). Acceptance: the current developing POC above the prior VAH = value
 *  accepted higher (below VAL = lower); +15 when it agrees with a long (short) bias.
 *  Rejection: the prior session traded above the earlier session's VAH but its POC stayed inside the
 *  earlier value area (a VAH rejection; mirrored for VAL). A VAH rejection against a long bias, or a
 *  VAL rejection against a short bias, sets `warning`.
 */
export function dailyBias(prior: SessionLevels | null, current: SessionLevels | null = null, earlier: SessionLevels | null = null, hooks: FramingHook[] = [], u: UnitText = RAW_UNITS): Bias {
  const b: Bias = { direction: 'neutral', confidence: 0, shape: prior?.shape ?? 'none', transition: false, acceptance: 'unknown', warning: false, reasoning: [] };
  if (!prior || prior.shape === 'none') { b.reasoning.push('no prior session profile: no bias'); return b; }
  const pct = clamp(prior.pocPct, 0, 100) / 100;
  switch (prior.shape) {
    case 'P': b.direction = 'long'; b.confidence = 40 + pct * 30; b.reasoning.push(`prior session P-shaped (POC at ${r2(prior.pocPct)} %): long bias ${r2(b.confidence)}`); break;
    case 'b': b.direction = 'short'; b.confidence = 40 + (1 - pct) * 30; b.reasoning.push(`prior session b-shaped (POC at ${r2(prior.pocPct)} %): short bias ${r2(b.confidence)}`); break;
    case 'D': b.confidence = 20; b.reasoning.push('prior session D-shaped (balance): neutral, 20'); break;
    case 'double': b.confidence = 30; b.transition = true; b.reasoning.push('prior session double distribution (transition): neutral, 30'); break;
  }
  if (current && current.pocPrice === current.pocPrice) {
    if (current.pocPrice > prior.vahPrice) b.acceptance = 'higher';
    else if (current.pocPrice < prior.valPrice) b.acceptance = 'lower';
    else b.acceptance = 'inside';
    if ((b.acceptance === 'higher' && b.direction === 'long') || (b.acceptance === 'lower' && b.direction === 'short')) {
      b.confidence += 15;
      b.reasoning.push(`value accepted ${b.acceptance} (developing POC ${u.price(current.pocPrice)} vs prior VA ${u.price(prior.valPrice)}–${u.price(prior.vahPrice)}): +15`);
    } else if (b.acceptance !== 'inside') b.reasoning.push(`value accepted ${b.acceptance}, not aligned with the bias`);
  }
  if (earlier) {
    const vahRejected = prior.highPrice > earlier.vahPrice && prior.pocPrice <= earlier.vahPrice && prior.pocPrice >= earlier.valPrice;
    const valRejected = prior.lowPrice < earlier.valPrice && prior.pocPrice >= earlier.valPrice && prior.pocPrice <= earlier.vahPrice;
    if (vahRejected && b.direction === 'long') { b.warning = true; b.reasoning.push(`WARNING: VAH ${u.price(earlier.vahPrice)} rejected the day before (probe to ${u.price(prior.highPrice)}, POC back inside): −10`); }
    if (valRejected && b.direction === 'short') { b.warning = true; b.reasoning.push(`WARNING: VAL ${u.price(earlier.valPrice)} rejected the day before (probe to ${u.price(prior.lowPrice)}, POC back inside): −10`); }
  }
  for (const h of hooks) h(b, prior, current);
  b.confidence = r2(clamp(b.confidence));
  return b;
}

export function biasSide(b: Bias | null): SignalSide | null {
  return !b ? null : b.direction === 'long' ? 'buy' : b.direction === 'short' ? 'sell' : null;
}

export type LevelKind = 'VAH' | 'VAL' | 'POC' | 'LVN';

export interface QualifiedLevel {
  kind: LevelKind;
  /** price in ticks (row lower edge for profile levels) */
  price: number;
  /** 0–100 */
  strength: number;
  /** session keys the level comes from (more than one for merged levels) */
  sources: string[];
  merged: boolean;
  confluence: boolean;
}

export interface LevelOptions {
  /** base strength of a single-session level */
  baseStrength: number;
  /** strength of a level from merged multi-day value areas */
  mergedStrength: number;
  /** value areas merge when their overlap > mergeOverlap × the smaller range */
  mergeOverlap: number;
  /** bonus when levels of different kinds/sessions lie within confluenceTicks of each other */
  confluenceBonus: number;
  confluenceTicks: number;
  /** include LVNs of the most recent session */
  includeLvn: boolean;
}

export const DEFAULT_LEVEL_OPTIONS: LevelOptions = { baseStrength: 50, mergedStrength: 70, mergeOverlap: 0.3, confluenceBonus: 20, confluenceTicks: 0, includeLvn: true };

/** Overlap of two value areas as a fraction of the smaller one (0 when disjoint). Inclusive row edges. */
export function valueAreaOverlap(a: SessionLevels, b: SessionLevels): number {
  const lo = Math.max(a.valPrice, b.valPrice), hi = Math.min(a.vahPrice, b.vahPrice);
  const ra = a.vahPrice - a.valPrice, rb = b.vahPrice - b.valPrice;
  const small = Math.min(ra, rb);
  if (hi < lo) return 0;
  return small > 0 ? (hi - lo) / small : 1;
}

/**
 * Qualified levels from completed sessions (oldest first; the last one is the prior session). The prior
 * session gives VAH, VAL, POC (and LVNs) at baseStrength (50). When the prior value area overlaps the
 * one before it by > 30 % they merge: VAH = max, VAL = min, POC = the prior POC, strength 70. Levels from
 * different sources within confluenceTicks of each other get +20 (max 100).
 */
export function qualifiedLevels(sessions: SessionLevels[], opts: Partial<LevelOptions> = {}): QualifiedLevel[] {
  const o = { ...DEFAULT_LEVEL_OPTIONS, ...opts };
  const valid = sessions.filter((s) => s.shape !== 'none' && s.vahPrice === s.vahPrice);
  if (!valid.length) return [];
  const prior = valid[valid.length - 1];
  const key = (s: SessionLevels, i: number): string => s.key ?? `s${i}`;
  const out: QualifiedLevel[] = [];
  const before = valid.length > 1 ? valid[valid.length - 2] : null;
  if (before && valueAreaOverlap(prior, before) > o.mergeOverlap) {
    const src = [key(before, valid.length - 2), key(prior, valid.length - 1)];
    out.push({ kind: 'VAH', price: Math.max(prior.vahPrice, before.vahPrice), strength: o.mergedStrength, sources: src, merged: true, confluence: false });
    out.push({ kind: 'VAL', price: Math.min(prior.valPrice, before.valPrice), strength: o.mergedStrength, sources: src, merged: true, confluence: false });
    out.push({ kind: 'POC', price: prior.pocPrice, strength: o.mergedStrength, sources: src, merged: true, confluence: false });
  } else {
    const src = [key(prior, valid.length - 1)];
    out.push({ kind: 'VAH', price: prior.vahPrice, strength: o.baseStrength, sources: src, merged: false, confluence: false });
    out.push({ kind: 'VAL', price: prior.valPrice, strength: o.baseStrength, sources: src, merged: false, confluence: false });
    out.push({ kind: 'POC', price: prior.pocPrice, strength: o.baseStrength, sources: src, merged: false, confluence: false });
    if (before) {
      const s2 = [key(before, valid.length - 2)];
      out.push({ kind: 'VAH', price: before.vahPrice, strength: o.baseStrength, sources: s2, merged: false, confluence: false });
      out.push({ kind: 'VAL', price: before.valPrice, strength: o.baseStrength, sources: s2, merged: false, confluence: false });
      out.push({ kind: 'POC', price: before.pocPrice, strength: o.baseStrength, sources: s2, merged: false, confluence: false });
    }
  }
  if (o.includeLvn) for (const n of prior.lvn ?? []) out.push({ kind: 'LVN', price: n.peakPrice, strength: o.baseStrength, sources: [key(prior, valid.length - 1)], merged: false, confluence: false });
  // confluence: any other level (different kind or different source) within tolerance
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < out.length; j++) {
      if (i === j) continue;
      const a = out[i], b = out[j];
      const differs = a.kind !== b.kind || a.sources.join() !== b.sources.join();
      if (differs && Math.abs(a.price - b.price) <= o.confluenceTicks) a.confluence = true;
    }
  }
  for (const l of out) if (l.confluence) l.strength = clamp(l.strength + o.confluenceBonus);
  // one entry per (kind, price)
  const seen = new Set<string>();
  return out.filter((l) => { const k = `${l.kind}@${l.price}`; if (seen.has(k)) return false; seen.add(k); return true; }).sort((a, b) => a.price - b.price || a.kind.localeCompare(b.kind));
}

/** The strongest qualified level within `tolTicks` of price (null when none). */
export function levelNear(levels: QualifiedLevel[], price: number, tolTicks: number, minStrength = 0): QualifiedLevel | null {
  let best: QualifiedLevel | null = null;
  for (const l of levels) {
    if (l.strength < minStrength || Math.abs(l.price - price) > tolTicks) continue;
    if (!best || l.strength > best.strength || (l.strength === best.strength && Math.abs(l.price - price) < Math.abs(best.price - price))) best = l;
  }
  return best;
}

export function toSessionLevels(key: string, s: ProfileSummary): SessionLevels {
  return { key, shape: s.shape, pocPct: s.pocPct, pocPrice: s.pocPrice, vahPrice: s.vahPrice, valPrice: s.valPrice, lowPrice: s.lowPrice, highPrice: s.highPrice, lvn: s.lvn };
}

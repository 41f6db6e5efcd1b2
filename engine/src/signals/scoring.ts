/**
 * Composite score and grades (docs/definitions/signals.md §4):
 *   score = weight(kind) × strength + levelStrength × 0.25 + alignment × 0.20 − 10 (WARNING), clamped 0–100
 *   weights: absorption 0.30, divergence 0.25, initiative 0.20, sweep 0.20, other 0.15
 *   alignment = bias confidence when the bias agrees with the signal side, −confidence when it opposes, 0 neutral/none
 *   grades: A+ >= 85, A >= 70, B >= 55, C below.
 */
import type { Bias } from './framing.js';
import { biasSide } from './framing.js';
import { clamp, r2, type SignalKind, type SignalSide } from './types.js';

export const PATTERN_WEIGHTS: Record<SignalKind, number> = { absorption: 0.3, divergence: 0.25, initiative: 0.2, sweep: 0.2, exhaustion: 0.15, iceberg: 0.15 };
export const LEVEL_WEIGHT = 0.25;
export const BIAS_WEIGHT = 0.2;
export const WARNING_PENALTY = 10;
export const DEFAULT_ENTRY_THRESHOLD = 40;

export type Grade = 'A+' | 'A' | 'B' | 'C';

export interface CompositeScore {
  score: number;
  grade: Grade;
  pattern: number;
  level: number;
  bias: number;
  warning: number;
  reasoning: string[];
}

export function grade(score: number): Grade {
  return score >= 85 ? 'A+' : score >= 70 ? 'A' : score >= 55 ? 'B' : 'C';
}

export function biasAlignment(side: SignalSide, bias: Bias | null): number {
  const bs = biasSide(bias);
  if (!bias || !bs) return 0;
  return bs === side ? bias.confidence : -bias.confidence;
}

export function compositeScore(sig: { kind: SignalKind; strength: number; side: SignalSide }, levelStrength: number, bias: Bias | null): CompositeScore {
  const w = PATTERN_WEIGHTS[sig.kind] ?? 0.15;
  const pattern = w * clamp(sig.strength);
  const level = clamp(levelStrength) * LEVEL_WEIGHT;
  const align = biasAlignment(sig.side, bias);
  const b = align * BIAS_WEIGHT;
  const warning = bias?.warning ? -WARNING_PENALTY : 0;
  const score = r2(clamp(pattern + level + b + warning));
  return {
    score, grade: grade(score), pattern: r2(pattern), level: r2(level), bias: r2(b), warning,
    reasoning: [
      `pattern ${sig.kind} ${w} × ${sig.strength} = ${r2(pattern)}`,
      `level ${levelStrength} × ${LEVEL_WEIGHT} = ${r2(level)}`,
      `bias alignment ${r2(align)} × ${BIAS_WEIGHT} = ${r2(b)}${warning ? `, WARNING ${warning}` : ''}`,
      `composite ${score} (grade ${grade(score)})`,
    ],
  };
}

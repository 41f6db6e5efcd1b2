/**
 * Alert payloads: plain data captured from the signal layer at the moment an event happens (prices
 * already formatted as exact decimal strings, volumes in instrument units). `format.ts` renders them;
 * `policy.ts` decides who gets them. No Node imports.
 */

export type AlertKind = 'entry' | 'break_even' | 'trail' | 'exit' | 'exit_warning' | 'daily_bias' | 'rule' | 'sweep' | 'pcr';
export const ALERT_KINDS: readonly AlertKind[] = ['entry', 'break_even', 'trail', 'exit', 'exit_warning', 'daily_bias', 'rule', 'sweep', 'pcr'];
/** kinds a new subscription gets when none are named (sweeps are opt-in: they are frequent; PCR bias changes are opt-in: Indian options chains only) */
export const DEFAULT_KINDS: readonly AlertKind[] = ['entry', 'break_even', 'trail', 'exit', 'exit_warning', 'daily_bias', 'rule'];

export type Side = 'buy' | 'sell';

interface Common {
  symbol: string;
  /** event time, ms since epoch */
  ts: number;
  /** dedup key: the same key is never delivered twice to one chat (persisted) */
  key: string;
}

export interface EntryAlert extends Common {
  kind: 'entry';
  side: Side;
  score: number;
  grade: string;
  /** e.g. "absorption/level" */
  pattern: string;
  /** instrument units; null when unknown */
  delta: number | null;
  volume: number | null;
  avgVolume: number | null;
  bias: { direction: string; confidence: number; shape: string } | null;
  entry: string;
  sl: string;
  tp: string;
  /** reward / risk */
  rr: number;
  level: { kind: string; price: string; strength: number } | null;
  reasoning: string[];
}

export interface BreakEvenAlert extends Common {
  kind: 'break_even';
  side: Side;
  grade: string;
  entry: string;
  sl: string;
  tp: string;
  reasoning: string[];
}

export interface TrailAlert extends Common {
  kind: 'trail';
  side: Side;
  grade: string;
  entry: string;
  sl: string;
  tp: string;
  reasoning: string[];
}

export interface ExitAlert extends Common {
  kind: 'exit';
  side: Side;
  grade: string;
  entry: string;
  exit: string;
  reason: 'sl' | 'tp' | 'opposite-signal' | 'manual';
  /** (exit − entry) × side, in price units (exact decimal) */
  pnl: string;
  r: number;
  durationMs: number;
  summary: string[];
}

export interface ExitWarningAlert extends Common {
  kind: 'exit_warning';
  /** the open position's side */
  side: Side;
  grade: string;
  signalKind: string;
  strength: number;
  /** strength at which the state machine closes the position */
  closeThreshold: number;
  price: string;
  entry: string;
  reasoning: string[];
}

export interface DailyBiasAlert extends Common {
  kind: 'daily_bias';
  /** developing session key and the prior session the bias comes from */
  session: string;
  priorSession: string;
  shape: string;
  direction: string;
  confidence: number;
  acceptance: string;
  warning: boolean;
  poc: string | null;
  vah: string | null;
  val: string | null;
  lvns: string[];
  levels: { kind: string; price: string; strength: number; merged: boolean; confluence: boolean }[];
  reasoning: string[];
}

export interface RuleAlert extends Common {
  kind: 'rule';
  signal: 'LONG' | 'SHORT';
  confidence: number;
  level: string;
  price: string;
  cvd: number;
  imbalance: number | null;
  vwap: number | null;
  absorption: number;
  sessionActive: boolean;
  /** session the bar belongs to ('' when none) */
  session: string;
  reasoning: string[];
}

export interface SweepAlert extends Common {
  kind: 'sweep';
  side: Side;
  low: string;
  high: string;
  strength: number;
  reasoning: string[];
}

/** The options-chain PCR bias changed (Kite feeds with kite.pcr; engine/src/signals/pcr.ts). `symbol` = the underlying. */
export interface PcrAlert extends Common {
  kind: 'pcr';
  bias: string;
  previousBias: string | null;
  expiries: string[];
  spot: number | null;
  atmStrike: number | null;
  pcrOi: number | null;
  pcrVolume: number | null;
  nearAtmPcrOi: number | null;
  changePcrOi: number | null;
  reasoning: string[];
}

export type AlertPayload = EntryAlert | BreakEvenAlert | TrailAlert | ExitAlert | ExitWarningAlert | DailyBiasAlert | RuleAlert | SweepAlert | PcrAlert;

/** Exits (stop hits included) bypass quiet hours, mutes and cooldowns. */
export function isCritical(a: AlertPayload): boolean {
  return a.kind === 'exit';
}

export const GRADES = ['A+', 'A', 'B', 'C'] as const;
export type GradeName = (typeof GRADES)[number];

/** 0 for A+ … 3 for C; 4 for anything else */
export function gradeRank(g: string): number {
  const i = (GRADES as readonly string[]).indexOf(g);
  return i < 0 ? GRADES.length : i;
}

export function isAlertKind(s: string): s is AlertKind {
  return (ALERT_KINDS as readonly string[]).includes(s);
}

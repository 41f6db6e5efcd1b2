/**
 * Rule mode: the classic LONG / SHORT / WAIT call (docs/definitions/signals.md §6).
 *   LONG  when CVD is rising (slope over the last `cvdBars` closes > 0), book imbalance > 0.15 and price >= VWAP
 *   SHORT when CVD is falling, imbalance < −0.15 and price <= VWAP
 *   WAIT  otherwise (or outside the selected sessions when the session filter is on).
 * confidence (LONG/SHORT) = 50 + cvd term (≤ 15) + imbalance term (≤ 15) + vwap term (≤ 10) + absorption term (≤ 10):
 *   cvd term = 15 × min(|slope| / cvdScale, 1); imbalance term = 15 × min((|imb| − 0.15) / 0.35, 1);
 *   vwap term = 10 × min(|price − vwap| / vwap / 0.002, 1); absorption term = 10 when a same-side absorption was
 *   confirmed within the last `absorptionWindowMs` (× its strength / 100).
 * WAIT confidence = 100 − the better side's factor count × 25. Levels: >= 90 exceptional, >= 80 high,
 * >= 70 medium, >= 60 low, below insufficient.
 */
import { SessionCalendar, SESSION_TEMPLATES } from '../core/sessions.js';
import { clamp, r2, type SignalEvent } from './types.js';

export type RuleSignal = 'LONG' | 'SHORT' | 'WAIT';
export type ConfidenceLevel = 'exceptional' | 'high' | 'medium' | 'low' | 'insufficient';

export interface RuleInputs {
  ts: number;
  symbol: string;
  /** price (decimal, display units) */
  price: number;
  /** recent CVD values in lots, oldest first (at least 2) */
  cvd: readonly number[];
  /** instrument units per lot: the CVD in the texts and `metrics.cvd` is written in instrument units (default 1 = lots) */
  lotSize?: number;
  /** book imbalance in [-1, 1] (NaN when unknown) */
  imbalance: number;
  vwap: number;
  /** latest confirmed absorption (or null) */
  absorption: SignalEvent | null;
}

export interface RuleOptions {
  imbalanceThreshold: number;
  /** CVD slope (per bar, lots) giving the full cvd term */
  cvdScale: number;
  absorptionWindowMs: number;
  /** only trade inside these sessions ([] = no filter) */
  sessions: ('london' | 'ny')[];
}

export const DEFAULT_RULE_OPTIONS: RuleOptions = { imbalanceThreshold: 0.15, cvdScale: 1000, absorptionWindowMs: 300_000, sessions: [] };

export interface RuleSignalJson {
  timestamp: string;
  symbol: string;
  signal: RuleSignal;
  confidence: number;
  confidence_level: ConfidenceLevel;
  price: number;
  metrics: { cvd: number; imbalance: number | null; vwap: number | null; absorption: number };
  session_active: boolean;
  reasoning: string[];
}

export function confidenceLevel(c: number): ConfidenceLevel {
  return c >= 90 ? 'exceptional' : c >= 80 ? 'high' : c >= 70 ? 'medium' : c >= 60 ? 'low' : 'insufficient';
}

const calendars = { london: new SessionCalendar(SESSION_TEMPLATES.london), ny: new SessionCalendar(SESSION_TEMPLATES.ny_cash) };

export function sessionActive(ts: number, sessions: ('london' | 'ny')[]): boolean {
  if (!sessions.length) return true;
  return sessions.some((s) => calendars[s].sessionAt(ts) !== null);
}

export function ruleSignal(x: RuleInputs, opts: Partial<RuleOptions> = {}): RuleSignalJson {
  const o = { ...DEFAULT_RULE_OPTIONS, ...opts };
  const n = x.cvd.length;
  const slope = n >= 2 ? (x.cvd[n - 1] - x.cvd[0]) / (n - 1) : 0;
  const cvdNow = n ? x.cvd[n - 1] : 0;
  const lot = x.lotSize ?? 1;
  const units = (v: number): number => Number((v * lot).toPrecision(12));
  const imb = x.imbalance;
  const hasImb = imb === imb;
  const hasVwap = x.vwap === x.vwap;
  const active = sessionActive(x.ts, o.sessions);
  const reasoning: string[] = [];
  const long = [slope > 0, hasImb && imb > o.imbalanceThreshold, hasVwap && x.price >= x.vwap];
  const short = [slope < 0, hasImb && imb < -o.imbalanceThreshold, hasVwap && x.price <= x.vwap];
  reasoning.push(`CVD ${slope > 0 ? 'rising' : slope < 0 ? 'falling' : 'flat'} (slope ${r2(units(slope))} per bar)`);
  reasoning.push(hasImb ? `book imbalance ${r2(imb)} (threshold ±${o.imbalanceThreshold})` : 'book imbalance unknown');
  reasoning.push(hasVwap ? `price ${x.price} ${x.price >= x.vwap ? '>=' : '<'} VWAP ${r2(x.vwap)}` : 'VWAP unknown');
  let signal: RuleSignal = 'WAIT';
  if (long.every(Boolean)) signal = 'LONG';
  else if (short.every(Boolean)) signal = 'SHORT';
  if (signal !== 'WAIT' && !active) { reasoning.push(`outside the selected sessions (${o.sessions.join(', ')}): WAIT`); signal = 'WAIT'; }
  let conf: number;
  let absTerm = 0;
  if (signal === 'WAIT') {
    const best = Math.max(long.filter(Boolean).length, short.filter(Boolean).length);
    conf = 100 - best * 25;
    reasoning.push(`${best}/3 factors agree on one side: WAIT`);
  } else {
    const cvdTerm = 15 * Math.min(Math.abs(slope) / o.cvdScale, 1);
    const imbTerm = 15 * Math.min((Math.abs(imb) - o.imbalanceThreshold) / 0.35, 1);
    const vwapTerm = x.vwap > 0 ? 10 * Math.min(Math.abs(x.price - x.vwap) / x.vwap / 0.002, 1) : 0;
    const want = signal === 'LONG' ? 'buy' : 'sell';
    const a = x.absorption;
    if (a && a.side === want && x.ts - a.confirmedAt <= o.absorptionWindowMs && a.confirmedAt <= x.ts) absTerm = 10 * a.strength / 100;
    conf = 50 + cvdTerm + imbTerm + vwapTerm + absTerm;
    reasoning.push(`confidence 50 + cvd ${r2(cvdTerm)} + imbalance ${r2(imbTerm)} + vwap ${r2(vwapTerm)} + absorption ${r2(absTerm)}`);
  }
  conf = r2(clamp(conf));
  return {
    timestamp: new Date(x.ts).toISOString(), symbol: x.symbol, signal, confidence: conf, confidence_level: confidenceLevel(conf), price: x.price,
    metrics: { cvd: units(cvdNow), imbalance: hasImb ? r2(imb) : null, vwap: hasVwap ? r2(x.vwap) : null, absorption: r2(absTerm) },
    session_active: active, reasoning,
  };
}

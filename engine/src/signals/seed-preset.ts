/**
 * The Order Flow Trading Dashboard's signal mode as a rule-mode preset (issue 20): ACCUMULATION /
 * DISTRIBUTION / BUY / SELL over existing analytics, with a 0–10 confidence built from named components.
 *
 *   ACCUMULATION  visible selling (flow ≤ −flowMin), price stable (|move| ≤ stableBps) and a high institutional
 *                 ratio (≥ institutionalMin: traded volume against displayed size, book/institutional.ts) — someone
 *                 absorbs the selling; side buy.
 *   DISTRIBUTION  the mirror: visible buying absorbed at a stable price; side sell.
 *   BUY / SELL    strong visible flow (|flow| ≥ strongFlow) that the options-chain PCR bias confirms
 *                 (bullish / strong bullish for BUY, bearish / strong bearish for SELL); without PCR confirmation
 *                 no BUY/SELL is called.
 * flow = Σ bar delta / Σ bar volume over the lookback (−1 … 1); move = (close − first open) / first open.
 * Confidence (capped at 10), each component listed in `components` and `reasoning`:
 *   base type 4 · PCR confirmation 0–2 (strong agreeing 2, agreeing 1, neutral or none 0, opposing −1) ·
 *   order imbalance 0–1.5 (book imbalance towards the side, full at 0.5) · institutional strength 0–1.5 (full at
 *   2 × institutionalMin) · volume surge 0–1 (lookback volume / average, full at 2×).
 * A call is emitted when confidence ≥ minConfidence (default 7) and fewer than maxDailySignals (default 5,
 * MAX_DAILY_SIGNALS in the seed) were emitted in the same IST day.
 */
import type { PcrBias } from './pcr.js';
import { istDay } from './pcr.js';

export type SeedCall = 'ACCUMULATION' | 'DISTRIBUTION' | 'BUY' | 'SELL' | 'NONE';

export interface SeedInputs {
  ts: number;
  symbol: string;
  price: number;
  /** Σ delta / Σ volume over the lookback bars */
  flow: number;
  /** (close − first open) / first open over the lookback, as a fraction */
  move: number;
  /** highest institutional ratio near the price (turnovers per minute); NaN when no book */
  institutionalRatio: number;
  /** book imbalance in [−1, 1]; NaN when unknown */
  imbalance: number;
  /** lookback volume / its average; NaN when unknown */
  volumeSurge: number;
  /** the PCR bias of the instrument's options chain, null without one */
  pcrBias: PcrBias | null;
}

export interface SeedOptions { flowMin: number; strongFlow: number; stableBps: number; institutionalMin: number; minConfidence: number; maxDailySignals: number }
export const DEFAULT_SEED_OPTIONS: Readonly<SeedOptions> = Object.freeze({ flowMin: 0.15, strongFlow: 0.35, stableBps: 10, institutionalMin: 3, minConfidence: 7, maxDailySignals: 5 });

export interface SeedSignal {
  ts: number; symbol: string; call: SeedCall; side: 'buy' | 'sell' | null; price: number;
  confidence: number;
  components: { baseType: number; pcrConfirmation: number; orderImbalance: number; institutionalStrength: number; volumeSurge: number };
  reasoning: string[];
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

export function seedSignal(x: SeedInputs, opts: Partial<SeedOptions> = {}): SeedSignal {
  const o = { ...DEFAULT_SEED_OPTIONS, ...opts };
  const reasoning: string[] = [];
  const stable = Math.abs(x.move) * 10_000 <= o.stableBps;
  const inst = x.institutionalRatio === x.institutionalRatio && x.institutionalRatio >= o.institutionalMin;
  const bull = x.pcrBias === 'bullish' || x.pcrBias === 'strong bullish';
  const bear = x.pcrBias === 'bearish' || x.pcrBias === 'strong bearish';
  reasoning.push(`visible flow ${r2(x.flow)} (Σ delta / Σ volume)`, `price move ${r2(x.move * 10_000)} bps (${stable ? 'stable' : 'moving'}, limit ${o.stableBps})`);
  reasoning.push(x.institutionalRatio === x.institutionalRatio ? `institutional ratio ${r2(x.institutionalRatio)} (high from ${o.institutionalMin})` : 'institutional ratio unknown (no book)');
  reasoning.push(`PCR bias ${x.pcrBias ?? 'unknown (no options chain)'}`);
  let call: SeedCall = 'NONE';
  if (x.flow <= -o.flowMin && stable && inst) call = 'ACCUMULATION';
  else if (x.flow >= o.flowMin && stable && inst) call = 'DISTRIBUTION';
  else if (x.flow >= o.strongFlow && bull) call = 'BUY';
  else if (x.flow <= -o.strongFlow && bear) call = 'SELL';
  const side = call === 'ACCUMULATION' || call === 'BUY' ? 'buy' : call === 'NONE' ? null : 'sell';
  const c = { baseType: 0, pcrConfirmation: 0, orderImbalance: 0, institutionalStrength: 0, volumeSurge: 0 };
  if (side) {
    c.baseType = 4;
    const agree = side === 'buy' ? bull : bear, oppose = side === 'buy' ? bear : bull;
    c.pcrConfirmation = agree ? (x.pcrBias!.startsWith('strong') ? 2 : 1) : oppose ? -1 : 0;
    const imb = x.imbalance === x.imbalance ? (side === 'buy' ? x.imbalance : -x.imbalance) : 0;
    c.orderImbalance = r2(1.5 * Math.min(Math.max(imb, 0) / 0.5, 1));
    c.institutionalStrength = x.institutionalRatio === x.institutionalRatio ? r2(1.5 * Math.min(x.institutionalRatio / (2 * o.institutionalMin), 1)) : 0;
    c.volumeSurge = x.volumeSurge === x.volumeSurge ? r2(Math.min(Math.max(x.volumeSurge - 1, 0), 1)) : 0;
    reasoning.push(`${call}: base ${c.baseType} + PCR ${c.pcrConfirmation} + imbalance ${c.orderImbalance} + institutional ${c.institutionalStrength} + volume surge ${c.volumeSurge}`);
  } else reasoning.push('no pattern: NONE');
  const confidence = r2(Math.min(10, Math.max(0, c.baseType + c.pcrConfirmation + c.orderImbalance + c.institutionalStrength + c.volumeSurge)));
  return { ts: x.ts, symbol: x.symbol, call, side, price: x.price, confidence, components: c, reasoning };
}

/** A seed evaluation as served in rule mode (`ruleMode.preset: seed`: /api/v1/rule, the `rule` WS channel, --json-signals). */
export interface SeedRuleJson {
  timestamp: string; symbol: string; preset: 'seed';
  /** ACCUMULATION / DISTRIBUTION / BUY / SELL, or NONE */
  signal: SeedCall; side: 'buy' | 'sell' | null; price: number;
  /** 0–10 (not a percentage) */
  confidence: number; confidence_scale: 10;
  /** passed the minimum confidence and the daily cap (a call that did not says why in `reasoning`) */
  emitted: boolean;
  components: SeedSignal['components'];
  reasoning: string[];
}

export function seedRuleJson(s: SeedSignal, emitted: boolean): SeedRuleJson {
  return { timestamp: new Date(s.ts).toISOString(), symbol: s.symbol, preset: 'seed', signal: s.call, side: s.side, price: s.price, confidence: s.confidence, confidence_scale: 10, emitted, components: s.components, reasoning: s.reasoning };
}

/** Minimum confidence and the daily cap (per IST day, across instruments) of emitted calls. */
export class SeedSignalGate {
  private day = '';
  private count = 0;
  constructor(private readonly o: Pick<SeedOptions, 'minConfidence' | 'maxDailySignals'> = DEFAULT_SEED_OPTIONS) {}
  /** true when `s` is emitted; the reason otherwise */
  admit(s: SeedSignal): true | string {
    if (s.call === 'NONE') return 'no call';
    if (s.confidence < this.o.minConfidence) return `confidence ${s.confidence} below ${this.o.minConfidence}`;
    const d = istDay(s.ts);
    if (d !== this.day) { this.day = d; this.count = 0; }
    if (this.count >= this.o.maxDailySignals) return `daily cap of ${this.o.maxDailySignals} reached`;
    this.count++;
    return true;
  }
}

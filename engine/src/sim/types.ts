/** Public types of the market simulator (see docs/simulator.md). */
import type { MarketEvent } from '../core/events.js';

export type ScriptKind = 'absorption' | 'sweep' | 'iceberg' | 'exhaustion' | 'divergence' | 'stop_run';
export const SCRIPT_KINDS: readonly ScriptKind[] = ['absorption', 'sweep', 'iceberg', 'exhaustion', 'divergence', 'stop_run'];

/** Direction of the move the event implies (also the passive side for absorption and iceberg). */
export type LabelSide = 'buy' | 'sell';

/** One scripted event of a scenario. Give `at` (ms since epoch) or `offsetMs` (from the simulation start). */
export interface ScriptedEvent {
  kind: ScriptKind;
  at?: number;
  offsetMs?: number;
  /** default: chosen by the seeded generator */
  side?: LabelSide;
  /** kind-specific overrides (see DEFAULT_SCRIPT_PARAMS) */
  params?: Record<string, number>;
}

/** Ground truth for one scripted event. Prices in ticks, times in ms since epoch. */
export interface GroundTruthLabel {
  /** `${instrument}#${n}:${kind}` */
  id: string;
  instrument: string;
  kind: ScriptKind;
  side: LabelSide;
  /** planned times at construction; exact bracket once `done` */
  startTs: number;
  endTs: number;
  /** min / max trade price printed (by anyone) in [startTs, endTs]; NaN until the event has run */
  priceLow: number;
  priceHigh: number;
  /** kind parameters (prices in ticks) and measured evidence */
  params: Record<string, number>;
  /** true once the event has run to completion inside the simulated span */
  done: boolean;
}

/** Background order-flow parameters. Rates are per second, sizes in lots, distances in levels. */
export interface FlowParams {
  /** limit-order arrivals per second on each side (Poisson) */
  limitRate: number;
  /** cancellation attempts per second on each side; each removes a random fraction of a level's queue */
  cancelRate: number;
  /** baseline intensity (μ) of marketable orders per second */
  marketRate: number;
  /** Hawkes self-excitation: intensity jump per marketable order (per second); 0 = Poisson */
  hawkesAlpha: number;
  /** Hawkes decay rate per second (branching ratio = alpha / beta, must be < 1) */
  hawkesBeta: number;
  /** limit orders land within this many levels of the opposite touch; cancels sample this band */
  depthLevels: number;
  /** power-law exponent of the limit-order distance distribution P(d) ∝ (d+1)^-alpha */
  distanceAlpha: number;
  limitSizeMedian: number;
  limitSizeSigma: number;
  marketSizeMedian: number;
  marketSizeSigma: number;
  /** mean duration of a drift regime (flat / up / down), ms */
  regimeMeanMs: number;
  /** shift of the buy probability of marketable orders in an up (+) / down (−) regime */
  regimeBias: number;
  /** strength of mean reversion of the buy probability towards the anchor (0..0.5) */
  meanReversion: number;
  /** distance (levels) at which mean reversion reaches ~76 % of its strength (tanh(1)) */
  reversionLevels: number;
  /** half-life of the slow anchor (EMA of the mid) that mean reversion pulls towards, ms */
  anchorHalfLifeMs: number;
  /** background marketable orders are IOC limits at touch ± this many levels (the rest is dropped) */
  maxWalkLevels: number;
  /** levels per side in the initial book */
  initialLevels: number;
}

export type SimMode = 'full' | 'quotes';

export interface SimConfig {
  seed: number;
  instrument: string;
  /** ms since epoch of the first event */
  startTs: number;
  /** starting mid price in ticks */
  startPrice: number;
  /** informational decimal strings (events are in ticks / lots) */
  tickSize?: string;
  lotStep?: string;
  /** ticks per book level (default 1); every emitted price is a multiple of it */
  levelTicks?: number;
  durationMs: number;
  /** 'full' = snapshot + deltas + trades + quotes (default); 'quotes' = Quote events only (MT5 forex-like, sizes 0) */
  mode?: SimMode;
  /** emit a Quote when only the top-of-book size changes (default true in 'full', false in 'quotes') */
  quoteOnSizeChange?: boolean;
  /** scripted events, or 'random' for a seeded schedule at `eventsPerHour` */
  scenario?: ScriptedEvent[] | 'random';
  /** rate of the random scenario (default 6) */
  eventsPerHour?: number;
  /** no random event starts before this offset (default 180 000 ms, so stop runs have a lookback) */
  warmupMs?: number;
  /** first book sequence number (the snapshot's seq; default 1 000 000) */
  initialSeq?: number;
  /** first trade id (default 1) */
  initialTradeId?: number;
  flow?: Partial<FlowParams>;
}

export interface SimStats {
  instrument: string;
  events: number;
  trades: number;
  quotes: number;
  bookDeltas: number;
  snapshots: number;
  /** FNV-1a over every emitted event (equals simChecksum(emitted events)) */
  checksum: string;
  labels: number;
  labelsDone: number;
  startTs: number;
  /** simulated time reached */
  endTs: number;
  lastTradeId: number;
  lastSeq: number;
  /** mid price in ticks at the end */
  lastMid: number;
  wallMs: number;
  eventsPerSec: number;
}

export type EventSink = (ev: MarketEvent) => void;

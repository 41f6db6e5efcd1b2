/**
 * Ready-made simulators for the demo: one per instrument, each with its own seed, start price and
 * flow scale. Instruments whose registry flow is 'quote-activity' (MT5 CFDs/forex) emit Quote
 * events only, like the MT5 bridge does.
 */
import type { InstrumentRegistry } from '../core/instruments.js';
import { mixSeed, Rng } from './prng.js';
import { DEFAULT_FLOW, MarketSimulator } from './simulator.js';
import { SCRIPT_KINDS, type FlowParams, type ScriptedEvent, type SimMode } from './types.js';

export interface DemoInstrument {
  /** registry id */
  id: string;
  /** start price as a decimal string in price units, e.g. "65000.0" */
  price: string;
  /** ticks per book level */
  levelTicks: number;
  /** multiplier on the default order sizes (lots) */
  sizeScale: number;
  /** default: from the registry flow kind ('quote-activity' → 'quotes') */
  mode?: SimMode;
  flow?: Partial<FlowParams>;
}

export const DEMO_INSTRUMENTS: readonly DemoInstrument[] = [
  { id: 'BTCUSDT', price: '65000.0', levelTicks: 10, sizeScale: 20 },
  { id: 'ETHUSDT', price: '3200.00', levelTicks: 10, sizeScale: 300 },
  { id: 'NAS100', price: '18500.0', levelTicks: 2, sizeScale: 1 },
  { id: 'EURUSD', price: '1.08500', levelTicks: 1, sizeScale: 1 },
];

export interface DemoOptions {
  /** default 24 h */
  durationMs?: number;
  /** default 'random' for order-flow instruments, none for quote-only ones */
  scenario?: ScriptedEvent[] | 'random';
  eventsPerHour?: number;
  instruments?: readonly DemoInstrument[];
  /**
   * A backfilled session: the simulators start at `startTs` (in the past) and the caller runs them up to
   * `liveFrom` at once before pacing them in real time. Scripted events are spread over the backfill and
   * the first one after `liveFrom` starts `firstEventMs` later (default 30 s), so a viewer sees one soon.
   */
  liveFrom?: number;
  firstEventMs?: number;
}

/**
 * Scripted events for a backfilled session: every ~`everyMs` (±40 %, seeded) after a 3 min warm-up
 * over the backfill, then one at `liveFrom + firstEventMs` and every ~`everyMs` after it.
 */
export function backfilledScenario(startTs: number, liveFrom: number, durationMs: number, seed: number, firstEventMs = 30_000, everyMs = 8 * 60_000): ScriptedEvent[] {
  const rng = new Rng(seed);
  const out: ScriptedEvent[] = [];
  const pick = (): ScriptedEvent['kind'] => SCRIPT_KINDS[rng.int(SCRIPT_KINDS.length)]!;
  const gap = (): number => everyMs * rng.uniform(0.6, 1.4);
  // backfill events end well before liveFrom so the first live one is not pushed back by a late one
  for (let t = startTs + 180_000; t < liveFrom - everyMs; t += gap()) out.push({ kind: pick(), at: Math.floor(t) });
  for (let t = liveFrom + firstEventMs; t < startTs + durationMs; t += gap()) out.push({ kind: pick(), at: Math.floor(t) });
  return out;
}

export function createDemoSimulators(registry: InstrumentRegistry, startTs: number, seed: number, opts: DemoOptions = {}): MarketSimulator[] {
  const list = opts.instruments ?? DEMO_INSTRUMENTS;
  return list.map((d, i) => {
    const inst = registry.get(d.id);
    const startPrice = inst.price.parse(d.price);
    if (!Number.isFinite(startPrice)) throw new Error(`demo ${d.id}: bad price "${d.price}"`);
    const mode: SimMode = d.mode ?? (inst.flow === 'quote-activity' ? 'quotes' : 'full');
    return new MarketSimulator({
      seed: mixSeed(seed, i + 1),
      instrument: inst.id,
      startTs,
      startPrice,
      tickSize: inst.tickSize,
      lotStep: inst.lotStep,
      levelTicks: d.levelTicks,
      durationMs: opts.durationMs ?? 24 * 3_600_000,
      mode,
      scenario: opts.scenario ?? (mode !== 'full' ? undefined
        : opts.liveFrom !== undefined ? backfilledScenario(startTs, opts.liveFrom, opts.durationMs ?? 24 * 3_600_000, mixSeed(seed, 100 + i), opts.firstEventMs)
          : 'random'),
      eventsPerHour: opts.eventsPerHour,
      flow: {
        limitSizeMedian: DEFAULT_FLOW.limitSizeMedian * d.sizeScale,
        marketSizeMedian: DEFAULT_FLOW.marketSizeMedian * d.sizeScale,
        ...(d.flow ?? {}),
      },
    });
  });
}

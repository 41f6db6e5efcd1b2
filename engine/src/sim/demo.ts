/**
 * Ready-made simulators for the demo: one per instrument, each with its own seed, start price and
 * flow scale. Instruments whose registry flow is 'quote-activity' (MT5 CFDs/forex) emit Quote
 * events only, like the MT5 bridge does.
 */
import type { InstrumentRegistry } from '../core/instruments.js';
import { mixSeed } from './prng.js';
import { DEFAULT_FLOW, MarketSimulator } from './simulator.js';
import type { FlowParams, ScriptedEvent, SimMode } from './types.js';

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
      scenario: opts.scenario ?? (mode === 'full' ? 'random' : undefined),
      eventsPerHour: opts.eventsPerHour,
      flow: {
        limitSizeMedian: DEFAULT_FLOW.limitSizeMedian * d.sizeScale,
        marketSizeMedian: DEFAULT_FLOW.marketSizeMedian * d.sizeScale,
        ...(d.flow ?? {}),
      },
    });
  });
}

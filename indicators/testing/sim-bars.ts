/**
 * Test/bench fixture (Node): footprint bars and a session profile from the TapeFlow simulator, in the
 * /api/v1 JSON shape, through the real engine and HistoryService.
 */
import { Engine } from '../../engine/src/analytics/engine.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { createDemoSimulators, DEMO_INSTRUMENTS } from '../../engine/src/sim/index.js';
import { HistoryService } from '../../datafeed-adapter/src/service/history.js';

export interface SimFixture { engine: Engine; service: HistoryService; start: number; end: number; symbol: string }

/** Run the BTCUSDT demo simulator for `minutes` of exchange time into an engine (1m bars). */
export function simEngine(minutes = 120, seed = 7, start = Date.UTC(2024, 7, 8, 0, 0, 0), rowTicks = 10): SimFixture {
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', keepBars: 100_000, footprintRowTicks: rowTicks });
  const [sim] = createDemoSimulators(registry, start, seed, { durationMs: minutes * 60_000, instruments: DEMO_INSTRUMENTS.filter((d) => d.id === 'BTCUSDT') });
  sim.run(engine.onEvent);
  const service = new HistoryService(engine);
  return { engine, service, start, end: start + minutes * 60_000, symbol: 'BTCUSDT' };
}

export function apiFootprint(f: SimFixture, resolution = '1', rows = true): Record<string, any>[] {
  const r = f.service.footprint(f.symbol, { agg: 'time', resolution, from: f.start, to: f.end + 60_000, countback: 0, rows }) as { bars: Record<string, any>[] };
  return r.bars;
}

export function apiProfile(f: SimFixture): Record<string, any> {
  return f.service.profile(f.symbol, { type: 'fixed', from: f.start, to: f.end + 60_000, rows: true }) as Record<string, any>;
}

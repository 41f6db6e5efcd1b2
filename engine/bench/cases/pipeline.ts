/**
 * Trade pipeline throughput on real Binance trades (shared/data), windows laid end to end with
 * shifted timestamps and every other window mirrored so the tape falls as often as it rises
 * (trade-tape.ts). Each case runs the pipeline and its floor (floor.ts: the same job in one tight
 * typed-array loop) in interleaved rounds, reports the best round of each and their ratio, checks
 * that both produced the same output, and prints the top self-time functions of a profiled run.
 *
 * Cases, hardest first:
 *  - 1-tick rows, USD-M + COIN-M futures (a few hundred rows a bar)
 *  - 1-tick rows, spot BTCUSDT (0.01 tick: thousands of rows a bar)
 *  - the registry's coarse rows, all three instruments
 */
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { Engine } from '../../src/analytics/engine.js';
import type { PipelineOptions } from '../../src/analytics/pipeline.js';
import { emit, peakRssMB } from '../harness.js';
import { driveTape, FUTURES_FILES, loadTradeTape, SPOT_FILES, type Drive, type TradeTape } from '../trade-tape.js';
import { digestPipeline, makeFloor, runDigest } from '../floor.js';
import { profileTop } from '../cpu-profile.js';
import { pipelineOptionsFrom } from '../../src/cli/commands/start.js';
import { defaultConfig } from '../../src/config/types.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function seconds(fn: () => void): number {
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

interface Case { name: string; files: readonly string[]; oneTick: boolean; target: number }

const CASES: Case[] = [
  { name: 'pipeline 1-tick rows, futures (USD-M + COIN-M BTC), rise + fall', files: FUTURES_FILES, oneTick: true, target: 6_000_000 },
  { name: 'pipeline 1-tick rows, spot BTCUSDT (0.01 tick), rise + fall', files: SPOT_FILES, oneTick: true, target: 1_500_000 },
  { name: 'pipeline coarse registry rows, USD-M + spot + COIN-M, rise + fall', files: [...FUTURES_FILES.slice(0, 1), ...SPOT_FILES, ...FUTURES_FILES.slice(1)], oneTick: false, target: 6_000_000 },
];

async function runCase(c: Case): Promise<void> {
  const registry = new InstrumentRegistry();
  const tape: TradeTape = await loadTradeTape(c.files, registry);
  const drive: Drive = driveTape(tape, c.target);
  // tapeflow start's options (default config: closed bars held within analytics.barMemoryMB)
  const base = (): Partial<PipelineOptions> => ({ ...pipelineOptionsFrom(defaultConfig()), timeframe: '1m', ...(c.oneTick ? { footprintRowTicks: 1, profileRowTicks: 1 } : {}) });
  const rows = (nm: string): { footprint: number; profile: number } => {
    const i = registry.get(nm);
    return c.oneTick ? { footprint: 1, profile: 1 } : { footprint: i.footprintRowTicks, profile: i.profileRowTicks };
  };

  let pipeBest = Infinity, floorBest = Infinity, bareBest = Infinity;
  let pipeOut = '', floorOut = '', rowsPerBar = 0, bars = 0;
  const runPipeline = (): { engine: Engine; finish(): string } => {
    const engine = new Engine(registry, base());
    const digests = tape.names.map((nm) => digestPipeline(engine.pipeline(nm)));
    return { engine, finish: () => { digests.forEach((d) => d.finish()); return runDigest(digests.map((d) => d.digest)); } };
  };
  let acc = 0;
  for (let r = 0; r < ROUNDS; r++) {
    bareBest = Math.min(bareBest, seconds(() => drive.run((t) => { acc += t.size; })));
    const f = makeFloor(tape, rows);
    floorBest = Math.min(floorBest, seconds(() => { drive.run(f.sink); f.finish(); }));
    floorOut = runDigest(f.lanes.map((l) => l.out));
    const p = runPipeline();
    let nRows = 0;
    p.engine.onPipeline((x) => x.onBarClose(({ bar }) => { nRows += bar.rows.length; }));
    pipeBest = Math.min(pipeBest, seconds(() => { drive.run(p.engine.onEvent); p.engine.finish(); }));
    pipeOut = p.finish();
    bars = f.lanes.reduce((s, l) => s + l.out.nBars, 0);
    rowsPerBar = Math.round(nRows / Math.max(1, bars));
  }
  const top = await profileTop(() => { const p = runPipeline(); drive.run(p.engine.onEvent); p.engine.finish(); });
  const tps = (s: number): number => Math.round(drive.total / s);
  emit({
    name: c.name,
    trades: drive.total, instruments: tape.names.length, baseTrades: tape.n, windows: drive.windows, bars, rowsPerBar,
    tradesPerSec: tps(pipeBest), nsPerTrade: +((pipeBest * 1e9) / drive.total).toFixed(1),
    floorTradesPerSec: tps(floorBest), vsFloor: +(pipeBest / floorBest).toFixed(2),
    iterateOnlyTradesPerSec: tps(bareBest),
    outputEqualsFloor: pipeOut === floorOut, ...(pipeOut === floorOut ? {} : { pipelineOut: pipeOut, floorOut }),
    rounds: ROUNDS, peakRssMB: peakRssMB(), topSelf: top,
    note: 'real Binance trades, windows repeated end to end with shifted timestamps, every other window mirrored (price and side); best of interleaved rounds',
  });
  if (acc < 0) throw new Error('unreachable');
}

export async function benchPipeline(): Promise<void> {
  const only = process.env.BENCH_PIPELINE?.split(',').map(Number);
  for (let i = 0; i < CASES.length; i++) if (!only || only.includes(i)) await runCase(CASES[i]);
}

/**
 * Trade pipeline throughput on real Binance trades (USD-M, spot, COIN-M captures in shared/data),
 * concatenated and repeated with shifted timestamps and ids up to >= 5M trades. The base tape is held
 * once in typed arrays and the repetitions are generated while iterating, so memory stays flat.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { newTrade, type Trade } from '../../src/core/events.js';
import { Engine } from '../../src/analytics/engine.js';
import { replayFile } from '../../src/replay/index.js';
import { dataDir, emit, peakRssMB, timed } from '../harness.js';

const FILES = ['binance/usdm_btcusdt_20240808.gz', 'binance/spot_btcusdt_20240808.gz', 'binance/spot_btcusdt_20240809.gz', 'binance/cm_btcusd_perp_20240808.gz', 'binance/cm_btcusd_perp_20240809.gz'];
const DAY = 86_400_000;

interface Tape { n: number; inst: Uint8Array; ts: Float64Array; id: Float64Array; price: Float64Array; size: Float64Array; buy: Uint8Array; names: string[] }

async function loadTape(registry: InstrumentRegistry): Promise<Tape> {
  const rows: Trade[] = [];
  for (const f of FILES) {
    const p = join(dataDir(), f);
    if (!existsSync(p)) throw new Error(`bench data missing: ${p} (set TAPEFLOW_DATA)`);
    await replayFile(p, (ev) => { if (ev.type === 'trade') rows.push({ ...ev }); }, { registry });
  }
  const names = [...new Set(rows.map((r) => r.instrument))];
  const n = rows.length;
  const t: Tape = { n, inst: new Uint8Array(n), ts: new Float64Array(n), id: new Float64Array(n), price: new Float64Array(n), size: new Float64Array(n), buy: new Uint8Array(n), names };
  rows.forEach((r, i) => { t.inst[i] = names.indexOf(r.instrument); t.ts[i] = r.ts; t.id[i] = r.id; t.price[i] = r.price; t.size[i] = r.size; t.buy[i] = r.side === 'buy' ? 1 : 0; });
  return t;
}

export async function benchPipeline(target = 5_000_000): Promise<void> {
  const registry = new InstrumentRegistry();
  const tape = await loadTape(registry);
  const reps = Math.ceil(target / tape.n);
  const total = reps * tape.n;
  const idSpan = 1e10;
  const flies = tape.names.map((nm) => newTrade(nm));

  /** Iterate every (repeated) trade into its flyweight and hand it to `sink`. */
  const drive = (sink: (t: Trade) => void): void => {
    for (let r = 0; r < reps; r++) {
      const shift = r * DAY;
      const ids = r * idSpan;
      for (let i = 0; i < tape.n; i++) {
        const t = flies[tape.inst[i]];
        t.ts = tape.ts[i] + shift;
        t.id = tape.id[i] + ids;
        t.price = tape.price[i];
        t.size = tape.size[i];
        t.side = tape.buy[i] ? 'buy' : 'sell';
        t.sideSource = 'flag';
        sink(t);
      }
    }
  };

  let acc = 0;
  const bare = timed(() => drive((t) => { acc += t.size; }));
  emit({ name: 'bare-loop (iterate events only)', trades: total, baseTrades: tape.n, repetitions: reps, seconds: +bare.toFixed(3), tradesPerSec: Math.round(total / bare), nsPerTrade: +((bare * 1e9) / total).toFixed(1), peakRssMB: peakRssMB(), check: acc > 0 });

  const engine = new Engine(registry, { timeframe: '1m', keepBars: 5000 });
  const secs = timed(() => { drive(engine.onEvent); engine.finish(); });
  const bars = [...engine.pipelines.values()].reduce((s, p) => s + p.bars.length, 0);
  emit({ name: 'pipeline (classify + 1m footprint bars + session profile + CVD + VWAP)', trades: total, instruments: tape.names.length, bars, seconds: +secs.toFixed(3), tradesPerSec: Math.round(total / secs), nsPerTrade: +((secs * 1e9) / total).toFixed(1), peakRssMB: peakRssMB(), note: 'real Binance USD-M/spot/COIN-M trades repeated with shifted timestamps' });
}

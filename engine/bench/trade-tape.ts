/**
 * Real trades held in typed arrays, for the throughput cases. The base tape is the trades of the
 * real Binance captures (shared/data); a run repeats it end to end with contiguous shifted
 * timestamps (no file is long enough on its own, see shared/data/README.md), alternating each
 * window with its mirror image (price reflected so it starts where the window ended, aggressor
 * sides swapped) so the market
 * falls as often as it rises and new lows are as common as new highs.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { InstrumentRegistry } from '../src/core/instruments.js';
import { newTrade, type Trade } from '../src/core/events.js';
import { replayFile } from '../src/replay/index.js';
import { dataDir } from './harness.js';

export const FUTURES_FILES = ['binance/usdm_btcusdt_20240808.gz', 'binance/cm_btcusd_perp_20240808.gz', 'binance/cm_btcusd_perp_20240809.gz'];
export const SPOT_FILES = ['binance/spot_btcusdt_20240808.gz', 'binance/spot_btcusdt_20240809.gz'];

export interface TradeTape {
  n: number;
  names: string[];
  inst: Uint8Array;
  ts: Float64Array;
  id: Float64Array;
  /** price in ticks */
  price: Float64Array;
  size: Float64Array;
  buy: Uint8Array;
  /** per instrument: first + last price; a mirrored window plays `pivot2 − price`, so it starts
   * where the plain window ended and ends where it started (the path stays continuous) */
  pivot2: Float64Array;
  /** time covered by one window, ms (windows are laid end to end) */
  span: number;
}

export async function loadTradeTape(files: readonly string[], registry: InstrumentRegistry): Promise<TradeTape> {
  const rows: Trade[] = [];
  for (const f of files) {
    const p = join(dataDir(), f);
    if (!existsSync(p)) throw new Error(`bench data missing: ${p} (set TAPEFLOW_DATA)`);
    await replayFile(p, (ev) => { if (ev.type === 'trade') rows.push({ ...ev }); }, { registry });
  }
  const names = [...new Set(rows.map((r) => r.instrument))];
  const n = rows.length;
  const t: TradeTape = {
    n, names, inst: new Uint8Array(n), ts: new Float64Array(n), id: new Float64Array(n), price: new Float64Array(n),
    size: new Float64Array(n), buy: new Uint8Array(n), pivot2: new Float64Array(names.length).fill(NaN), span: 0,
  };
  let lo = Infinity, hi = -Infinity;
  const first = new Float64Array(names.length).fill(NaN), last = new Float64Array(names.length);
  rows.forEach((r, i) => {
    const k = names.indexOf(r.instrument);
    t.inst[i] = k; t.ts[i] = r.ts; t.id[i] = r.id; t.price[i] = r.price; t.size[i] = r.size; t.buy[i] = r.side === 'buy' ? 1 : 0;
    if (Number.isNaN(first[k])) first[k] = r.price;
    last[k] = r.price;
    if (r.ts < lo) lo = r.ts;
    if (r.ts > hi) hi = r.ts;
  });
  for (let k = 0; k < names.length; k++) t.pivot2[k] = first[k] + last[k];
  // whole minutes covering the window's first to last minute: no 1-minute bar holds two windows
  t.span = (Math.floor(hi / 60_000) - Math.floor(lo / 60_000) + 1) * 60_000;
  return t;
}

export interface Drive {
  /** trades handed to the sink */
  total: number;
  /** windows played (half of them mirrored) */
  windows: number;
  /** Play the whole run into `sink`, one reused flyweight trade per instrument. */
  run(sink: (t: Trade) => void): void;
}

/** A run of at least `target` trades: windows laid end to end, odd windows mirrored. */
export function driveTape(tape: TradeTape, target: number): Drive {
  const windows = Math.max(2, 2 * Math.ceil(target / tape.n / 2));
  const flies = tape.names.map((nm) => { const t = newTrade(nm); t.sideSource = 'flag'; return t; });
  return {
    total: windows * tape.n,
    windows,
    run(sink) {
      for (let w = 0; w < windows; w++) {
        const shift = w * tape.span;
        const ids = w * 1e10;
        const mirror = (w & 1) === 1;
        for (let i = 0; i < tape.n; i++) {
          const k = tape.inst[i];
          const t = flies[k];
          t.ts = tape.ts[i] + shift;
          t.id = tape.id[i] + ids;
          t.price = mirror ? tape.pivot2[k] - tape.price[i] : tape.price[i];
          t.size = tape.size[i];
          // a mirrored window's aggressors are swapped too: sellers push the price down
          t.side = (tape.buy[i] ^ (w & 1)) === 1 ? 'buy' : 'sell';
          sink(t);
        }
      }
    },
  };
}

/**
 * Per-bar statistics computed once when a bar closes (and on demand for the open bar): POC and
 * value area over the bar's rows, imbalance counts, stacked runs, unfinished auctions.
 */
import type { FootprintBar } from './footprint.js';
import { valueArea, type ValueAreaOptions } from './value-area.js';
import { imbalances, stackedRuns, unfinishedAuction, type ImbalanceOptions, type StackedRun, type UnfinishedAuction } from './imbalance.js';
import type { DeltaDynamics } from './delta.js';

export interface BarStats {
  /** prices of row lower edges, in ticks (NaN for an empty bar) */
  poc: number;
  vah: number;
  val: number;
  buyImbalances: number;
  sellImbalances: number;
  stacked: StackedRun[];
  unfinished: UnfinishedAuction;
  dynamics: DeltaDynamics;
}

export interface BarStatsOptions {
  valueArea: Partial<ValueAreaOptions>;
  imbalance: Partial<ImbalanceOptions>;
  stackedMinRows: number;
  /** unfinished auction filters in lots */
  unfinishedMinBid: number;
  unfinishedMinAsk: number;
}

const scratch = { buf: new Float64Array(64) };
/** imbalance flags are only read by stackedRuns below: one reused buffer instead of two per bar */
const flags = { buy: new Uint8Array(64), sell: new Uint8Array(64) };

export function computeBarStats(bar: FootprintBar, o: BarStatsOptions, dynamics: DeltaDynamics): BarStats {
  const g = bar.rows;
  if (scratch.buf.length < g.length) scratch.buf = new Float64Array(g.length * 2);
  const vol = g.totals(scratch.buf);
  const va = valueArea(vol, g.length, o.valueArea);
  const rp = (i: number): number => (i < 0 ? NaN : (g.base + i) * bar.rowTicks);
  const f = imbalances(g, o.imbalance, flags);
  return {
    poc: rp(va.poc), vah: rp(va.high), val: rp(va.low),
    buyImbalances: f.buyCount, sellImbalances: f.sellCount,
    stacked: stackedRuns(f, o.stackedMinRows),
    unfinished: unfinishedAuction(g, o.unfinishedMinBid, o.unfinishedMinAsk),
    dynamics,
  };
}

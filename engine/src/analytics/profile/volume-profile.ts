/**
 * Volume profile accumulator on the global row grid (row = floor(priceTicks / rowTicks), keyed by the
 * row's lower edge in ticks — the same rows as footprints). add() is O(1) and allocation-free once the
 * grid covers the price range; summary() is O(rows) and allocates only its result.
 */
import type { Trade } from '../../core/events.js';
import { COL_ASK_VOL, COL_BID_VOL, COL_UNK_VOL, RowGrid } from '../row-grid.js';
import { DEFAULT_VALUE_AREA, findPoc, valueArea, type PocTieRule, type ValueAreaOptions } from '../value-area.js';
import {
  classifyShape, DEFAULT_NODE_OPTIONS, findNodes, pocPercent, smooth,
  type NodeIndexRange, type NodeOptions, type ProfileShape, type ShapeOptions,
} from './nodes.js';

/** A high/low-volume node in prices (row lower edges, ticks). */
export interface NodeRange {
  lowPrice: number;
  /** lower edge of the node's highest row */
  highPrice: number;
  /** lower edge of the extreme row (peak for HVN, trough for LVN) */
  peakPrice: number;
  /** raw volume over the node's rows */
  volume: number;
}

export interface ProfileRow {
  /** row lower edge, ticks */
  price: number;
  volume: number;
  buy: number;
  sell: number;
  unknown: number;
}

export interface ProfileSummaryOptions {
  valueArea: Partial<ValueAreaOptions>;
  nodes: Partial<NodeOptions>;
  shape: Partial<ShapeOptions>;
  /** include the per-row view (default false) */
  rows: boolean;
}

export interface ProfileSummary {
  rowTicks: number;
  /** row lower edges in ticks; NaN when the profile is empty */
  pocPrice: number;
  vahPrice: number;
  valPrice: number;
  /** lower edge of the lowest row / of the highest row; NaN when empty */
  lowPrice: number;
  highPrice: number;
  totalVolume: number;
  buyVolume: number;
  sellVolume: number;
  unknownVolume: number;
  /** volume inside the value area */
  areaVolume: number;
  rows?: ProfileRow[];
  hvn: NodeRange[];
  lvn: NodeRange[];
  shape: ProfileShape;
  /** (pocRowCentre − low)/(high − low) × 100, low/high = outer row edges; NaN when empty */
  pocPct: number;
}

/** sign of a trade side: 1 buy (ask), −1 sell (bid), 0 unknown */
export function sideSign(side: Trade['side']): number {
  return side === 'buy' ? 1 : side === 'sell' ? -1 : 0;
}

export class VolumeProfile {
  readonly rowTicks: number;
  readonly grid: RowGrid;
  buyVolume = 0;
  sellVolume = 0;
  unknownVolume = 0;
  private scratch = new Float64Array(0);
  private scratch2 = new Float64Array(0);

  constructor(rowTicks: number, initialRows = 64) {
    if (!Number.isInteger(rowTicks) || rowTicks <= 0) throw new RangeError(`rowTicks must be a positive integer, got ${rowTicks}`);
    this.rowTicks = rowTicks;
    this.grid = new RowGrid(initialRows);
  }

  get totalVolume(): number { return this.buyVolume + this.sellVolume + this.unknownVolume; }
  get empty(): boolean { return this.grid.length === 0; }
  /** number of rows from the lowest to the highest traded row */
  get rowCount(): number { return this.grid.length; }
  /** lower edge (ticks) of the lowest / highest row; NaN when empty */
  get lowPrice(): number { return this.grid.length ? this.grid.lowRow * this.rowTicks : NaN; }
  get highPrice(): number { return this.grid.length ? this.grid.highRow * this.rowTicks : NaN; }

  /** O(1): sign 1 buy, −1 sell, 0 unknown. */
  add(priceTicks: number, size: number, sign: number): void {
    this.grid.add(Math.floor(priceTicks / this.rowTicks), size, sign);
    if (sign > 0) this.buyVolume += size;
    else if (sign < 0) this.sellVolume += size;
    else this.unknownVolume += size;
  }

  addTrade(t: Trade): void { this.add(t.price, t.size, sideSign(t.side)); }

  /** Add another profile's volume (composite); row heights must match. */
  merge(other: VolumeProfile): void {
    if (other.rowTicks !== this.rowTicks) throw new Error(`cannot merge profiles with rowTicks ${other.rowTicks} into ${this.rowTicks}`);
    this.grid.merge(other.grid);
    this.buyVolume += other.buyVolume;
    this.sellVolume += other.sellVolume;
    this.unknownVolume += other.unknownVolume;
  }

  clone(): VolumeProfile {
    const p = new VolumeProfile(this.rowTicks, 1);
    p.merge(this);
    return p;
  }

  clear(): void {
    this.grid.clear();
    this.buyVolume = this.sellVolume = this.unknownVolume = 0;
  }

  /** Total volume at the row containing priceTicks (0 outside the profile). */
  volumeAtPrice(priceTicks: number): number {
    const off = Math.floor(priceTicks / this.rowTicks) - this.grid.base;
    return off >= 0 && off < this.grid.length ? this.grid.volumeAt(off) : 0;
  }

  /**
   * Per-row total volume, index 0 = lowest row. Without `out` this returns an internal scratch buffer
   * reused by the next call (valid for `rowCount` entries).
   */
  volumes(out?: Float64Array): Float64Array {
    const n = this.grid.length;
    if (!out) {
      if (this.scratch.length < n) this.scratch = new Float64Array(Math.max(n, this.scratch.length * 2));
      out = this.scratch;
    }
    return this.grid.totals(out);
  }

  /** POC price (row lower edge, ticks); NaN when empty. */
  pocPrice(tie: PocTieRule = DEFAULT_VALUE_AREA.pocTie): number {
    const n = this.grid.length;
    const i = findPoc(this.volumes(), n, tie);
    return i < 0 ? NaN : (this.grid.base + i) * this.rowTicks;
  }

  /** POC / VAH / VAL prices (row lower edges) written into `out`; NaNs when empty. O(rows). */
  levels(opts?: Partial<ValueAreaOptions>, out: { poc: number; vah: number; val: number } = { poc: NaN, vah: NaN, val: NaN }): { poc: number; vah: number; val: number } {
    const r = valueArea(this.volumes(), this.grid.length, opts);
    const b = this.grid.base, t = this.rowTicks;
    out.poc = r.poc < 0 ? NaN : (b + r.poc) * t;
    out.vah = r.high < 0 ? NaN : (b + r.high) * t;
    out.val = r.low < 0 ? NaN : (b + r.low) * t;
    return out;
  }

  summary(opts?: Partial<ProfileSummaryOptions>): ProfileSummary {
    const n = this.grid.length;
    const t = this.rowTicks;
    const base = this.grid.base;
    const vol = this.volumes();
    const va = valueArea(vol, n, opts?.valueArea);
    const radius = opts?.nodes?.smoothRadius ?? DEFAULT_NODE_OPTIONS.smoothRadius;
    if (this.scratch2.length < n) this.scratch2 = new Float64Array(Math.max(n, this.scratch2.length * 2));
    const s = smooth(vol, n, radius, this.scratch2);
    const nodes = findNodes(vol, n, opts?.nodes, s);
    const toPrice = (x: NodeIndexRange): NodeRange => ({
      lowPrice: (base + x.low) * t, highPrice: (base + x.high) * t, peakPrice: (base + x.peak) * t, volume: x.volume,
    });
    const sum: ProfileSummary = {
      rowTicks: t,
      pocPrice: va.poc < 0 ? NaN : (base + va.poc) * t,
      vahPrice: va.high < 0 ? NaN : (base + va.high) * t,
      valPrice: va.low < 0 ? NaN : (base + va.low) * t,
      lowPrice: this.lowPrice,
      highPrice: this.highPrice,
      totalVolume: this.totalVolume,
      buyVolume: this.buyVolume,
      sellVolume: this.sellVolume,
      unknownVolume: this.unknownVolume,
      areaVolume: va.areaVolume,
      hvn: nodes.hvn.map(toPrice),
      lvn: nodes.lvn.map(toPrice),
      shape: classifyShape(va.poc, n, s.subarray(0, n), nodes.hvn, opts?.shape),
      pocPct: pocPercent(va.poc, n),
    };
    if (opts?.rows) {
      const c = this.grid.cols;
      const rows: ProfileRow[] = new Array(n);
      for (let i = 0; i < n; i++) {
        rows[i] = { price: (base + i) * t, volume: vol[i], buy: c[COL_ASK_VOL][i], sell: c[COL_BID_VOL][i], unknown: c[COL_UNK_VOL][i] };
      }
      sum.rows = rows;
    }
    return sum;
  }
}

/** A new profile holding the sum of `profiles` (all with the same rowTicks). */
export function compositeProfile(rowTicks: number, profiles: Iterable<VolumeProfile>): VolumeProfile {
  const p = new VolumeProfile(rowTicks);
  for (const x of profiles) p.merge(x);
  return p;
}

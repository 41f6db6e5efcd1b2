/**
 * MergedInstrument: one instrument aggregated across venues (e.g. BTC on Binance USD-M, Bybit and
 * Coinbase as `BTC-AGG`) on one common tick grid, with every venue's contribution kept per footprint cell.
 * Pure (no Node imports): runs in the engine, the browser and tests alike.
 *
 * Units:
 *  - price: each source trade's price (integer ticks of its own tick size) is converted exactly to
 *    10^-D units and rounded to the nearest merged tick (ties away from zero). With a merged tick that is a
 *    multiple of every source tick (the default: the coarsest source tick) no rounding ever happens.
 *  - size: base units (e.g. BTC) in integer steps of `sizeStep` (default: the finest source lot step).
 *    Linear sources: lots × lotStep, exact. Inverse (COIN-M) sources quote contracts of `contractSize` quote
 *    currency: base = contracts × contractSize / price, rounded to sizeStep (the only inexact conversion).
 *  - footprint cells: bar start (ms, floor to the timeframe) × row (merged ticks / rowTicks) × venue.
 * The merged stream (`toTrade`) is an ordinary Trade on the merged instrument, so the engine's pipeline
 * builds merged bars/footprints/profiles; `cells()` exposes the per-venue split the pipeline does not keep.
 */
import type { Side, Trade } from '../core/events.js';
import type { Instrument, InstrumentSpec } from '../core/instruments.js';
import { decimalsOf, normalizeDecimal } from '../core/decimal.js';

export interface MergeSource {
  /** source instrument id (e.g. "BTCUSDT", "BYBIT:BTCUSDT", "COINBASE:BTC-USD") */
  instrument: string;
  /** label kept per cell; default the instrument's venue */
  venue: string;
  tickSize: string;
  lotStep: string;
  /** quote currency per contract for inverse contracts (COIN-M BTCUSD_PERP: 100) */
  contractSize?: number;
  /** sizes are contracts of contractSize quote currency (COIN-M) */
  inverse?: boolean;
}

export interface MergedSpec {
  /** merged instrument id, e.g. "BTC-AGG" */
  id: string;
  /** common grid; default the coarsest source tick */
  tickSize?: string;
  /** base-unit size step; default the finest source lot step */
  sizeStep?: string;
  /** footprint row height in merged ticks (default 1) */
  rowTicks?: number;
  /** footprint bar length in ms (default 60 000) */
  timeframeMs?: number;
}

export interface VenueContribution { buy: number; sell: number; unknown: number; trades: number }

export interface MergedCell {
  barStart: number;
  /** row index: floor(price ticks / rowTicks) */
  row: number;
  /** lowest price of the row in merged ticks */
  price: number;
  buy: number;
  sell: number;
  unknown: number;
  trades: number;
  venues: Record<string, VenueContribution>;
}

interface SourceScale { src: MergeSource; tickUnits: number; lotUnits: number }

/** "0.10" → "0.1" (no exponent, no trailing zeros) */
function canon(step: string): string {
  const n = normalizeDecimal(step);
  return n.includes('.') ? n.replace(/0+$/, '').replace(/\.$/, '') : n;
}

function units(step: string, decimals: number): number {
  const s = normalizeDecimal(step);
  const d = decimalsOf(s);
  return Math.round(Number(s.replace('.', ''))) * 10 ** (decimals - d);
}

/** Source description from a registry instrument (COIN-M detected by contractSize > 1). */
export function mergeSourceOf(i: Pick<Instrument, 'id' | 'venue' | 'tickSize' | 'lotStep' | 'contractSize'> | InstrumentSpec): MergeSource {
  return { instrument: i.id, venue: i.venue, tickSize: i.tickSize, lotStep: i.lotStep, contractSize: i.contractSize, inverse: i.contractSize > 1 };
}

export class MergedInstrument {
  readonly id: string;
  readonly tickSize: string;
  readonly sizeStep: string;
  readonly rowTicks: number;
  readonly timeframeMs: number;
  private readonly priceDecimals: number;
  private readonly mergedTickUnits: number;
  private readonly sizeDecimals: number;
  private readonly sizeStepUnits: number;
  private readonly sources = new Map<string, SourceScale>();
  /** bar start → row → cell (numeric keys: nothing allocated per trade once a cell exists) */
  private readonly bars = new Map<number, Map<number, MergedCell>>();
  private readonly out: Trade = { type: 'trade', instrument: '', ts: 0, id: 0, price: 0, size: 0, side: 'unknown', sideSource: 'none' };
  /** trades dropped because their instrument is not a source */
  ignored = 0;

  constructor(spec: MergedSpec, sources: MergeSource[]) {
    if (!sources.length) throw new Error(`merged instrument ${spec.id}: no sources`);
    this.id = spec.id;
    const ticks = sources.map((s) => canon(s.tickSize));
    this.tickSize = canon(spec.tickSize ?? ticks.reduce((a, b) => (Number(b) > Number(a) ? b : a)));
    const lots = sources.filter((s) => !s.inverse).map((s) => canon(s.lotStep));
    this.sizeStep = canon(spec.sizeStep ?? (lots.length ? lots.reduce((a, b) => (Number(b) < Number(a) ? b : a)) : '0.00000001'));
    this.rowTicks = spec.rowTicks ?? 1;
    this.timeframeMs = spec.timeframeMs ?? 60_000;
    this.priceDecimals = Math.max(decimalsOf(this.tickSize), ...ticks.map(decimalsOf));
    this.mergedTickUnits = units(this.tickSize, this.priceDecimals);
    this.sizeDecimals = Math.max(decimalsOf(this.sizeStep), ...sources.map((s) => decimalsOf(s.lotStep)));
    this.sizeStepUnits = units(this.sizeStep, this.sizeDecimals);
    for (const s of sources) {
      this.sources.set(s.instrument, { src: s, tickUnits: units(s.tickSize, this.priceDecimals), lotUnits: units(s.lotStep, this.sizeDecimals) });
    }
  }

  /** Instrument spec for the registry (so the engine can build the merged pipeline). */
  instrumentSpec(base: Pick<InstrumentSpec, 'session' | 'thresholds' | 'assetClass'> & { profileRow?: string; description?: string }): InstrumentSpec {
    const rowUnits = this.mergedTickUnits * this.rowTicks;
    const row = canon((rowUnits / 10 ** this.priceDecimals).toFixed(this.priceDecimals));
    return {
      id: this.id, symbol: this.id, venue: 'aggregate', assetClass: base.assetClass,
      description: base.description ?? `${this.id}: ${[...this.sources.values()].map((s) => s.src.instrument).join(' + ')} on one ${this.tickSize} grid`,
      tickSize: this.tickSize, lotStep: this.sizeStep, profileRow: base.profileRow ?? row, footprintRow: row, contractSize: 1,
      session: base.session, thresholds: base.thresholds, flow: 'orderflow',
    };
  }

  has(instrument: string): boolean { return this.sources.has(instrument); }

  /** Merged ticks of a source price (source ticks). */
  price(instrument: string, priceTicks: number): number {
    const s = this.sources.get(instrument);
    if (!s) return NaN;
    const u = priceTicks * s.tickUnits;
    const q = u / this.mergedTickUnits;
    return q >= 0 ? Math.floor(q + 0.5) : -Math.floor(-q + 0.5);
  }

  /** Size in merged size steps (base units) of a source size (source lots) at a source price. */
  size(instrument: string, sizeLots: number, priceTicks: number): number {
    const s = this.sources.get(instrument);
    if (!s) return NaN;
    if (s.src.inverse) {
      const px = (priceTicks * s.tickUnits) / 10 ** this.priceDecimals;
      const base = (sizeLots * s.lotUnits / 10 ** this.sizeDecimals) * (s.src.contractSize ?? 1) / px;
      return Math.round((base * 10 ** this.sizeDecimals) / this.sizeStepUnits);
    }
    return (sizeLots * s.lotUnits) / this.sizeStepUnits;
  }

  /**
   * Convert a source trade into a trade on the merged instrument and count it in the per-venue cells.
   * Returns a reused flyweight (copy what you keep), or null when the trade's instrument is not a source.
   */
  toTrade(t: Trade): Trade | null {
    const s = this.sources.get(t.instrument);
    if (!s) { this.ignored++; return null; }
    const price = this.price(t.instrument, t.price);
    const size = this.size(t.instrument, t.size, t.price);
    this.count(s.src.venue, t.ts, price, size, t.side);
    const o = this.out;
    o.instrument = this.id; o.ts = t.ts; o.id = 0; o.price = price; o.size = size; o.side = t.side; o.sideSource = t.sideSource;
    return o;
  }

  private count(venue: string, ts: number, price: number, size: number, side: Side): void {
    const barStart = Math.floor(ts / this.timeframeMs) * this.timeframeMs;
    const row = Math.floor(price / this.rowTicks);
    let rows = this.bars.get(barStart);
    if (!rows) this.bars.set(barStart, (rows = new Map()));
    let c = rows.get(row);
    if (!c) {
      c = { barStart, row, price: row * this.rowTicks, buy: 0, sell: 0, unknown: 0, trades: 0, venues: {} };
      rows.set(row, c);
    }
    let v = c.venues[venue];
    if (!v) { v = { buy: 0, sell: 0, unknown: 0, trades: 0 }; c.venues[venue] = v; }
    if (side === 'buy') { c.buy += size; v.buy += size; } else if (side === 'sell') { c.sell += size; v.sell += size; } else { c.unknown += size; v.unknown += size; }
    c.trades++; v.trades++;
  }

  /** Footprint cells with per-venue contributions, by bar start then row (optionally one bar). */
  cells(barStart?: number): MergedCell[] {
    const out: MergedCell[] = [];
    for (const [b, rows] of this.bars) if (barStart === undefined || b === barStart) for (const c of rows.values()) out.push(c);
    return out.sort((a, b) => a.barStart - b.barStart || a.row - b.row);
  }

  /** One venue's view of the merged grid (selectable per venue). */
  venueCells(venue: string, barStart?: number): { barStart: number; row: number; price: number; contribution: VenueContribution }[] {
    return this.cells(barStart).filter((c) => c.venues[venue]).map((c) => ({ barStart: c.barStart, row: c.row, price: c.price, contribution: { ...c.venues[venue]! } }));
  }

  /** Drop cells of bars that started before `barStart` (bounded memory for long runs). */
  prune(barStart: number): void {
    for (const b of this.bars.keys()) if (b < barStart) this.bars.delete(b);
  }
}

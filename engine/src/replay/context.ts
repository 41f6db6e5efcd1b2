/**
 * Per-stream parsing state shared by the frame parsers (replay now, live feeds later): flyweight
 * Trade/Quote objects, instrument resolution with on-the-fly registration, and per-venue book state
 * (Bybit v2 level-id → price maps).
 *
 * Instrument resolution: an instrument is looked up by (venue, venue symbol) among the registry's
 * instruments; failing that by the id `<PREFIX>:<SYMBOL>` (Binance USD-M uses the bare symbol, as the
 * built-ins do). Unknown symbols are registered on the fly with `registry.add` (a venue's exchange
 * metadata, e.g. Binance exchangeInfo in the live feeds, registers them first when available):
 *  - tick size: from the SIGNIFICANT decimals of the prices of the first message that names the symbol
 *    (Binance spot pads "2683.80000000": the padding says nothing about the tick); for a padding venue
 *    never coarser than 1e-6 of the price (one sample may end in zeros by chance; a finer tick stays
 *    exact) nor finer than the decimals it writes; at least `minPriceDecimals`;
 *  - lot step: the decimals the sizes are written with (padding included: a finer lot is exact and
 *    costs nothing), at least `minQtyDecimals` (Coinbase sizes get 8);
 *  - profile/footprint row: a power of ten near 1/1000 of the price, so a session's rows stay bounded
 *    whatever the tick (a 1e-8 tick with a 1e-7 row once made a replay grow to 10 GB);
 *  - detector thresholds: `auto` (derived from the data once enough bars are known; nothing fires
 *    before), reported by the replay as a warning.
 * A later value finer than the inferred step is rounded and counted in `instrument.price.offGrid` /
 * `qty.offGrid` (ReplayStats.offGrid).
 */
import { SESSION_TEMPLATES } from '../core/sessions.js';
import { newQuote, newTrade, type Level, type Quote, type Trade } from '../core/events.js';
import type { Instrument, InstrumentRegistry, InstrumentSpec } from '../core/instruments.js';
import { BadRow, type VenueName } from './types.js';

export interface VenueInfo {
  /** id prefix for instruments of this venue ('' = bare symbol) */
  prefix: string;
  /** minimum decimals of an inferred tick size / lot step */
  minPriceDecimals: number;
  minQtyDecimals: number;
  assetClass: InstrumentSpec['assetClass'];
}

/**
 * Per-venue instrument metadata. Each venue folder (engine/src/venues/<venue>/meta.ts) registers its own
 * entry when it loads; only non-live replay venues (CME) are listed here.
 */
const VENUES = new Map<string, VenueInfo>([
  ['cme', { prefix: 'CME', minPriceDecimals: 2, minQtyDecimals: 0, assetClass: 'index' }],
]);

/** Register (or replace) a venue's instrument metadata; returns it. Called by the venue folders. */
export function defineVenueInfo(venue: string, info: VenueInfo): VenueInfo {
  VENUES.set(venue, info);
  return info;
}

export function venueInfo(venue: VenueName): VenueInfo {
  return VENUES.get(venue) ?? { prefix: venue.toUpperCase().replace(/[^A-Z0-9]+/g, '_'), minPriceDecimals: 2, minQtyDecimals: 8, assetClass: 'crypto' };
}

/** A raw frame (object or JSON string) as an object; BadRow when it is not a JSON object. */
export function asObject(frame: unknown): Record<string, unknown> {
  if (typeof frame === 'string') {
    try {
      frame = JSON.parse(frame);
    } catch (e) {
      throw new BadRow(`invalid JSON: ${(e as Error).message}`);
    }
  }
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) throw new BadRow('frame is not a JSON object');
  return frame as Record<string, unknown>;
}

/** Values whose decimals decide an inferred step: decimal strings or JSON numbers. */
export type SampleValues = ReadonlyArray<string | number>;

function maxDecimals(values: SampleValues | undefined): number {
  let m = 0;
  if (!values) return 0;
  for (const v of values) {
    const s = typeof v === 'number' ? String(v) : v;
    if (/e/i.test(s)) continue;
    const dot = s.indexOf('.');
    if (dot >= 0) {
      // padded zeros still tell the venue's precision, keep them
      m = Math.max(m, s.length - dot - 1);
    }
  }
  return Math.min(m, 12);
}

function stepOf(decimals: number): string {
  if (decimals < 0) return '1' + '0'.repeat(-decimals);
  return decimals === 0 ? '1' : '0.' + '0'.repeat(decimals - 1) + '1';
}

/** Decimals of a plain decimal string without its trailing zeros ("2683.80000000" → 1). */
function significantDecimals(s: string): number {
  const dot = s.indexOf('.');
  if (dot < 0) return 0;
  let end = s.length;
  while (end > dot + 1 && s.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

export interface InferredSteps { priceDecimals: number; qtyDecimals: number; rowExp: number }

/** Tick/lot decimals and the row's power of ten inferred from sample values (see the module comment). */
export function inferSteps(prices: SampleValues, sizes: SampleValues, info: Pick<VenueInfo, 'minPriceDecimals' | 'minQtyDecimals'>): InferredSteps {
  let sig = 0, pad = 0, padded = false, maxPrice = 0;
  for (const v of prices) {
    const s = typeof v === 'number' ? String(v) : v;
    if (/e/i.test(s)) continue;
    const d = significantDecimals(s);
    const dot = s.indexOf('.');
    const written = dot < 0 ? 0 : s.length - dot - 1;
    if (written > d) padded = true;
    sig = Math.max(sig, d);
    pad = Math.max(pad, written);
    const x = Math.abs(Number(s));
    if (x > maxPrice) maxPrice = x;
  }
  // a tick no coarser than 1e-6 of the price (bounded by what a padding venue writes)
  const byMagnitude = maxPrice > 0 ? Math.max(0, Math.ceil(6 - Math.log10(maxPrice))) : 0;
  // a venue that does not pad keeps the decimals it writes (with the venue floor)
  const priceDecimals = Math.min(12, Math.max(sig, info.minPriceDecimals, padded ? Math.min(byMagnitude, pad) : 0));
  const qtyDecimals = Math.max(maxDecimals(sizes), info.minQtyDecimals);
  // row: a power of ten near price / 1000, never finer than the tick
  const rowExp = maxPrice > 0 ? Math.max(-priceDecimals, Math.floor(Math.log10(maxPrice / 1000))) : -priceDecimals;
  return { priceDecimals, qtyDecimals, rowExp };
}

export interface FeedContextOptions {
  /** force every event onto this instrument (id or name) */
  instrument?: string;
  /** instrument for messages that carry no symbol (e.g. from the file name) */
  fallbackInstrument?: string;
  /** Binance @trade prints that are not market trades (X = INSURANCE_FUND, ADL, NA): include them (default: counted and skipped) */
  includeNonMarket?: boolean;
}

export class FeedContext {
  readonly registry: InstrumentRegistry;
  /** flyweights: the sink must copy what it keeps */
  readonly trade: Trade = newTrade();
  readonly quote: Quote = newQuote();
  readonly override: Instrument | undefined;
  fallbackInstrument: string | undefined;
  /** venue of the Binance stream when known (file name, URL, recorder); else guessed per frame */
  binanceVenue: VenueName | undefined;
  /** venue symbol for a following message that lacks one (e.g. a REST snapshot URL's `symbol=`) */
  symbolHint: string | undefined;
  /** last symbol seen on a Binance stream (bare REST snapshots inherit it) */
  lastBinanceSymbol: string | undefined;
  /** Bybit v2 orderBookL2: instrument id -> (level id -> price ticks) */
  readonly bybitLevelIds = new Map<string, Map<number | string, number>>();
  /** per-venue parser state keyed by instrument id (e.g. the OKX checksum mirror of each book) */
  readonly venueState = new Map<string, unknown>();
  /** time of the last timed message (for messages without a time, e.g. Coinbase legacy snapshots); 0 at start */
  lastTs = 0;
  /** instruments registered on the fly by this context */
  readonly registered: string[] = [];
  /** non-market prints seen, by kind (INSURANCE_FUND, ADL, NA) */
  readonly nonMarket = new Map<string, number>();
  readonly includeNonMarket: boolean;
  private readonly cache = new Map<string, Map<string, Instrument>>();
  private lastVenue = '';
  private lastSymbol = '';
  private lastInst: Instrument | undefined;

  constructor(registry: InstrumentRegistry, opts: FeedContextOptions = {}) {
    this.registry = registry;
    this.override = opts.instrument ? registry.get(opts.instrument) : undefined;
    this.fallbackInstrument = opts.fallbackInstrument;
    this.includeNonMarket = opts.includeNonMarket === true;
  }

  /** Count a non-market print (`kind` = its X field); true when it is to be delivered anyway. */
  nonMarketPrint(_symbol: string, kind: string): boolean {
    this.nonMarket.set(kind, (this.nonMarket.get(kind) ?? 0) + 1);
    return this.includeNonMarket;
  }

  /**
   * Instrument for a venue symbol. `samples` is called only when the symbol is unknown and must be
   * registered: it returns price and size values of the current message for tick/lot inference.
   */
  resolve(venue: VenueName, symbol: string, samples?: () => [prices: SampleValues, sizes: SampleValues]): Instrument {
    if (this.override) return this.override;
    if (symbol === this.lastSymbol && venue === this.lastVenue && this.lastInst) return this.lastInst;
    let byVenue = this.cache.get(venue);
    if (!byVenue) { byVenue = new Map(); this.cache.set(venue, byVenue); }
    let inst = byVenue.get(symbol);
    if (!inst) {
      inst = this.lookup(venue, symbol) ?? this.register(venue, symbol, samples);
      byVenue.set(symbol, inst);
    }
    this.lastVenue = venue;
    this.lastSymbol = symbol;
    this.lastInst = inst;
    return inst;
  }

  /** The instrument `resolve` returns for a symbol it has already resolved (undefined: not yet; nothing is registered). */
  known(venue: VenueName, symbol: string): Instrument | undefined {
    if (this.override) return this.override;
    if (symbol === this.lastSymbol && venue === this.lastVenue && this.lastInst) return this.lastInst;
    return this.cache.get(venue)?.get(symbol);
  }

  /** The instrument for messages without a symbol: override, else fallback, else an error. */
  resolveDefault(): Instrument {
    if (this.override) return this.override;
    if (this.fallbackInstrument) return this.registry.get(this.fallbackInstrument);
    throw new BadRow('no symbol in the data and no instrument given (pass opts.instrument or name the file after the symbol)');
  }

  private lookup(venue: VenueName, symbol: string): Instrument | undefined {
    const up = symbol.toUpperCase();
    const info = venueInfo(venue);
    const id = info.prefix ? `${info.prefix}:${up}` : up;
    const byId = this.registry.has(id) ? this.registry.get(id) : undefined;
    if (byId && byId.venue === venue) return byId;
    for (const i of this.registry.all()) if (i.venue === venue && i.symbol.toUpperCase() === up) return i;
    return undefined;
  }

  private register(venue: VenueName, symbol: string, samples?: () => [SampleValues, SampleValues]): Instrument {
    const info = venueInfo(venue);
    const up = symbol.toUpperCase();
    let id = info.prefix ? `${info.prefix}:${up}` : up;
    if (!info.prefix && this.registry.has(id)) id = `${venue.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}:${up}`;
    const [p, q] = samples ? samples() : [[], []];
    const { priceDecimals: pd, qtyDecimals: qd, rowExp } = inferSteps(p, q, info);
    const tick = stepOf(pd);
    const row = stepOf(-rowExp);
    const spec: InstrumentSpec = {
      id, symbol, venue, assetClass: info.assetClass,
      description: `${symbol} on ${venue} (registered from the data: tick ${tick}, lot ${stepOf(qd)}, row ${row} inferred; detector thresholds auto)`,
      tickSize: tick, lotStep: stepOf(qd), profileRow: row,
      contractSize: 1, session: SESSION_TEMPLATES.crypto_24x7,
      thresholds: { absorptionMinVolume: 0, initiativeMinDelta: 0, auto: true }, flow: 'orderflow',
    };
    this.registered.push(id);
    return this.registry.add(spec);
  }
}

/** Decimal string (or JSON number) -> ticks/lots via a DecimalScale-like parser; BadRow on malformed. */
export function num(scale: { parse(s: string): number }, v: unknown, what: string): number {
  const s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
  const x = scale.parse(s);
  if (x !== x) throw new BadRow(`invalid ${what} ${JSON.stringify(v)}`);
  return x;
}

/** [[price, size], ...] decimal pairs -> fresh Level[]; BadRow on a malformed or negative entry. */
export function levels(inst: Instrument, arr: unknown, what: string): Level[] {
  if (!Array.isArray(arr)) throw new BadRow(`${what}: expected an array of levels`);
  const out: Level[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const e = arr[i] as unknown[];
    if (!Array.isArray(e) || e.length < 2) throw new BadRow(`${what}[${i}]: expected [price, size]`);
    const p = num(inst.price, e[0], `${what} price`);
    const q = num(inst.qty, e[1], `${what} size`);
    if (q < 0 || p < 0) throw new BadRow(`${what}[${i}]: negative value ${JSON.stringify(e)}`);
    out[i] = [p, q];
  }
  return out;
}

/** Sample prices/sizes of level arrays for tick inference */
export function levelSamples(...sides: unknown[]): [string[], string[]] {
  const p: string[] = [];
  const q: string[] = [];
  for (const side of sides) {
    if (!Array.isArray(side)) continue;
    for (const e of side) if (Array.isArray(e)) { p.push(String(e[0])); q.push(String(e[1])); }
  }
  return [p, q];
}

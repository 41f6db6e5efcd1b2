/**
 * The Kite instruments dump (GET /instruments, CSV with a header row) → TapeFlow instrument specs.
 * Columns used: instrument_token, exchange_token, tradingsymbol, name, last_price, expiry, strike,
 * tick_size, lot_size, instrument_type, segment, exchange. Tick size and lot size come from the dump
 * (exact decimal strings), never inferred from the data. Ids are `KITE:<EXCHANGE>:<tradingsymbol>`.
 * Quantities on the ticker are in units (shares, contracts × lot), so the lot step is the dump's lot_size.
 */
import { normalizeDecimal } from '../../core/decimal.js';
import type { InstrumentSpec } from '../../core/instruments.js';
import { KITE_PROVENANCE } from './derive.js';

export interface KiteInstrument {
  token: number;
  tradingsymbol: string;
  name: string;
  exchange: string;
  segment: string;
  tickSize: string;
  lotSize: number;
  /** YYYY-MM-DD or '' */
  expiry: string;
  strike: number;
  /** EQ, FUT, CE, PE, … */
  type: string;
}

const REQUIRED = ['instrument_token', 'tradingsymbol', 'exchange', 'segment', 'tick_size', 'lot_size', 'expiry', 'strike', 'instrument_type'] as const;

/** Split one CSV line (quoted fields with "" escapes allowed). */
function cells(line: string): string[] {
  const out: string[] = [];
  let cur = '', q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

export interface KiteDump { instruments: KiteInstrument[]; /** line number (1-based) and reason of each rejected row */ rejected: Array<[number, string]> }

/** Parse the dump. A header without a required column throws; bad rows are listed in `rejected`, the rest kept. */
export function parseInstrumentsCsv(text: string): KiteDump {
  const lines = text.split(/\r?\n/);
  const head = cells(lines[0] ?? '').map((s) => s.trim());
  const missing = REQUIRED.filter((c) => !head.includes(c));
  if (missing.length) throw new Error(`Kite instruments CSV: missing column(s) ${missing.join(', ')} (header: ${head.join(',')})`);
  const col = (name: string): number => head.indexOf(name);
  const out: KiteDump = { instruments: [], rejected: [] };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const c = cells(line);
    const get = (n: string): string => (col(n) >= 0 ? (c[col(n)] ?? '').trim() : '');
    const token = Number(get('instrument_token'));
    const tick = get('tick_size');
    const lot = Number(get('lot_size'));
    const why = !Number.isSafeInteger(token) || token <= 0 ? `instrument_token "${get('instrument_token')}"`
      : !/^\d*\.?\d+$/.test(tick) || Number(tick) <= 0 ? `tick_size "${tick}"`
      : !Number.isSafeInteger(lot) || lot <= 0 ? `lot_size "${get('lot_size')}"`
      : get('tradingsymbol') === '' ? 'empty tradingsymbol' : '';
    if (why) { out.rejected.push([i + 1, `invalid ${why}`]); continue; }
    out.instruments.push({
      token, tradingsymbol: get('tradingsymbol'), name: get('name'), exchange: get('exchange'), segment: get('segment'),
      tickSize: normalizeDecimal(tick), lotSize: lot, expiry: get('expiry'), strike: Number(get('strike')) || 0, type: get('instrument_type'),
    });
  }
  return out;
}

/** Instrument id of a Kite instrument. */
export function kiteId(k: Pick<KiteInstrument, 'exchange' | 'tradingsymbol'>): string {
  return `KITE:${k.exchange}:${k.tradingsymbol}`.toUpperCase();
}

/** NSE/BSE cash and F&O session: 09:15–15:30 Asia/Kolkata, Monday–Friday; exchange holidays come from the config (`kite.holidays`). */
export const NSE_SESSION = Object.freeze({ name: 'nse', timezone: 'Asia/Kolkata', start: '09:15', end: '15:30', days: [1, 2, 3, 4, 5] });

/** Footprint/profile row: a power of ten of the tick near 1/1000 of a reference price, never finer than the tick. */
function rowFor(tick: string, refPrice: number): string {
  const t = Number(tick);
  if (!(refPrice > 0)) return tick;
  let row = t;
  while (row * 10 <= refPrice / 1000 + 1e-12) row *= 10;
  return normalizeDecimal(row.toFixed(Math.max(0, (tick.split('.')[1] ?? '').length)));
}

/** `holidays`: IST dates (YYYY-MM-DD) on which the exchange is closed (feeds[].kite.holidays): no session opens. */
export function kiteSpec(k: KiteInstrument, refPrice = 0, holidays: readonly string[] = []): InstrumentSpec {
  const what = k.type === 'CE' || k.type === 'PE' ? `${k.name} ${k.expiry} ${k.strike} ${k.type}` : k.type === 'FUT' ? `${k.name} ${k.expiry} future` : k.name || k.tradingsymbol;
  return {
    id: kiteId(k), symbol: k.tradingsymbol, venue: 'kite', assetClass: k.segment === 'INDICES' ? 'index' : 'stock',
    description: `${what} on ${k.exchange} (Kite token ${k.token}; tick ${k.tickSize}, lot ${k.lotSize} from the instruments dump)`,
    tickSize: k.tickSize, lotStep: String(k.lotSize), profileRow: rowFor(k.tickSize, refPrice), contractSize: 1,
    session: { ...NSE_SESSION, days: [...NSE_SESSION.days], ...(holidays.length ? { holidays: [...holidays].sort() } : {}) }, thresholds: { absorptionMinVolume: 0, initiativeMinDelta: 0, auto: true }, flow: 'orderflow', depthLevels: 5, tradeProvenance: KITE_PROVENANCE,
  };
}

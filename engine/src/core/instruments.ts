/**
 * Instrument registry: tick size, lot step, profile row, session and detector thresholds per
 * instrument. Built-ins cover index/metal/energy/crypto CFDs, forex, US stocks and the crypto
 * venues we have feeds for; config can add or override entries.
 */
import { DecimalScale } from './decimal.js';
import { SESSION_TEMPLATES, SessionCalendar, type SessionSpec } from './sessions.js';

export type AssetClass = 'index' | 'metal' | 'energy' | 'crypto' | 'forex' | 'stock';

/** What the volume means: real traded volume with aggressor side, or quote updates (MT5 forex/CFD). */
export type FlowKind = 'orderflow' | 'quote-activity';

export interface DetectorThresholds {
  /** absorption: minimum aggressive volume at a level (in instrument size units) */
  absorptionMinVolume: number;
  /** initiative: minimum |bar delta| */
  initiativeMinDelta: number;
  /** no known values (an instrument registered from the data): detectors derive them from the data ('auto' mode) */
  auto?: boolean;
}

export interface InstrumentSpec {
  /** registry id, e.g. "NAS100", "BTCUSDT" (Binance USD-M), "BINANCE_SPOT:BTCUSDT" */
  id: string;
  /** venue symbol, e.g. "BTCUSDT", "BTC-USD" */
  symbol: string;
  venue: string;
  assetClass: AssetClass;
  description: string;
  /** decimal strings, exact */
  tickSize: string;
  lotStep: string;
  /** profile row height in price units (a multiple of tickSize) */
  profileRow: string;
  /** footprint row height in price units (defaults to the profile row) */
  footprintRow?: string;
  /** contract multiplier in quote currency (COIN-M: 100 USD per contract); 1 for linear */
  contractSize: number;
  /** session template name or a custom spec */
  session: SessionSpec;
  thresholds: DetectorThresholds;
  flow: FlowKind;
  /** preferred when a bare symbol matches several venues */
  primary?: boolean;
  /** levels per side the venue shows at most (Kite: 5); absent = the venue's full book. Book metrics are over these only. */
  depthLevels?: number;
  /** how the venue's trades were obtained when they are not the venue's own prints (Kite: "quote rule on snapshots") */
  tradeProvenance?: string;
}

/** A resolved instrument with its scales ready for ingestion. */
export interface Instrument extends InstrumentSpec {
  price: DecimalScale;
  qty: DecimalScale;
  /** ticks per profile row / footprint row */
  profileRowTicks: number;
  footprintRowTicks: number;
  calendar: SessionCalendar;
}

const T = SESSION_TEMPLATES;

function cfd(id: string, assetClass: AssetClass, tick: string, row: string, session: SessionSpec, absorb: number, init: number, description: string, flow: FlowKind = 'quote-activity'): InstrumentSpec {
  return { id, symbol: id, venue: 'cfd', assetClass, description, tickSize: tick, lotStep: '0.01', profileRow: row, contractSize: 1, session, thresholds: { absorptionMinVolume: absorb, initiativeMinDelta: init }, flow, primary: true };
}

function venue(id: string, symbol: string, venueName: string, tick: string, lot: string, row: string, description: string, absorb: number, init: number, extra: Partial<InstrumentSpec> = {}): InstrumentSpec {
  return { id, symbol, venue: venueName, assetClass: 'crypto', description, tickSize: tick, lotStep: lot, profileRow: row, contractSize: 1, session: T.crypto_24x7, thresholds: { absorptionMinVolume: absorb, initiativeMinDelta: init }, flow: 'orderflow', ...extra };
}

// Index CFD thresholds are in tick-volume units (MT5 CFDs carry quote updates, not contracts).
const BUILTIN: InstrumentSpec[] = [
  cfd('NAS100', 'index', '0.1', '1.0', T.ny_cash, 50, 30, 'Nasdaq 100 index CFD'),
  cfd('SP500', 'index', '0.1', '1.0', T.ny_cash, 40, 25, 'S&P 500 index CFD'),
  cfd('DJ30', 'index', '1.0', '5.0', T.ny_cash, 40, 25, 'Dow Jones 30 index CFD'),
  cfd('UK100', 'index', '0.1', '1.0', T.london, 30, 20, 'FTSE 100 index CFD'),
  cfd('DAX40', 'index', '0.1', '2.0', T.london, 30, 20, 'DAX 40 index CFD'),
  cfd('NIKKEI225', 'index', '1.0', '50.0', T.asian, 30, 20, 'Nikkei 225 index CFD'),
  cfd('CAC40', 'index', '0.1', '1.0', T.london, 25, 18, 'CAC 40 index CFD'),
  cfd('ASX200', 'index', '0.1', '1.0', T.asian, 25, 18, 'ASX 200 index CFD'),
  cfd('HK50', 'index', '1.0', '5.0', T.asian, 25, 18, 'Hang Seng 50 index CFD'),
  cfd('XAUUSD', 'metal', '0.01', '0.50', T.ny_cash, 30, 20, 'Gold spot CFD'),
  cfd('XAGUSD', 'metal', '0.001', '0.05', T.full_day, 30, 20, 'Silver spot CFD'),
  cfd('USOIL', 'energy', '0.01', '0.10', T.ny_cash, 30, 20, 'WTI crude oil CFD'),
  cfd('UKOIL', 'energy', '0.01', '0.10', T.london, 30, 20, 'Brent crude oil CFD'),
  cfd('BTCUSD', 'crypto', '0.01', '10.0', { ...T.full_day, days: [1, 2, 3, 4, 5, 6, 7] }, 30, 20, 'Bitcoin CFD'),
  ...['EURUSD', 'GBPUSD', 'AUDUSD', 'USDCAD', 'USDCHF', 'NZDUSD', 'EURGBP'].map((s) => cfd(s, 'forex', '0.00001', '0.0005', T.full_day, 30, 20, `${s.slice(0, 3)}/${s.slice(3)} spot FX`)),
  ...['USDJPY', 'EURJPY', 'GBPJPY'].map((s) => cfd(s, 'forex', '0.001', '0.05', T.full_day, 30, 20, `${s.slice(0, 3)}/${s.slice(3)} spot FX`)),
  ...['AAPL', 'TSLA', 'AMZN', 'MSFT', 'NVDA', 'META', 'GOOGL'].map((s) => cfd(s, 'stock', '0.01', '0.50', T.ny_cash, 30, 20, `${s} US stock`)),
  // Crypto venues: venue tick sizes and lot steps; thresholds in base units (contracts for COIN-M).
  venue('BTCUSDT', 'BTCUSDT', 'binance-usdm', '0.10', '0.001', '10.0', 'Binance USD-M BTCUSDT perpetual', 20, 10, { primary: true, footprintRow: '5.0' }),
  venue('ETHUSDT', 'ETHUSDT', 'binance-usdm', '0.01', '0.001', '1.0', 'Binance USD-M ETHUSDT perpetual', 200, 100, { primary: true, footprintRow: '0.5' }),
  venue('XAUUSDT', 'XAUUSDT', 'binance-usdm', '0.01', '0.001', '0.50', 'Binance USD-M gold perpetual', 20, 10, { primary: true }),
  venue('XAGUSDT', 'XAGUSDT', 'binance-usdm', '0.001', '0.01', '0.05', 'Binance USD-M silver perpetual', 200, 100, { primary: true }),
  venue('BINANCE_SPOT:BTCUSDT', 'BTCUSDT', 'binance-spot', '0.01', '0.00000001', '10.0', 'Binance spot BTCUSDT', 10, 5, { footprintRow: '5.0' }),
  venue('BINANCE_COINM:BTCUSD_PERP', 'BTCUSD_PERP', 'binance-coinm', '0.1', '1', '10.0', 'Binance COIN-M BTCUSD perpetual (contracts of 100 USD)', 2000, 1000, { contractSize: 100, primary: true, footprintRow: '5.0' }),
  // Bybit inverse: size in contracts of 1 USD; thresholds = the COIN-M ones in USD (2000 / 1000 × 100 USD)
  venue('BYBIT:BTCUSD', 'BTCUSD', 'bybit', '0.5', '1', '10.0', 'Bybit inverse BTCUSD perpetual (contracts of 1 USD)', 200_000, 100_000, { footprintRow: '5.0' }),
  venue('BYBIT:BTCUSDT', 'BTCUSDT', 'bybit', '0.10', '0.001', '10.0', 'Bybit linear BTCUSDT perpetual', 20, 10, { footprintRow: '5.0' }),
  venue('COINBASE:BTC-USD', 'BTC-USD', 'coinbase', '0.01', '0.00000001', '10.0', 'Coinbase BTC-USD spot', 5, 3, { primary: true, footprintRow: '5.0' }),
  venue('COINBASE:ETH-USD', 'ETH-USD', 'coinbase', '0.01', '0.00000001', '1.0', 'Coinbase ETH-USD spot', 50, 30, { primary: true, footprintRow: '0.5' }),
  venue('COINBASE:SOL-USD', 'SOL-USD', 'coinbase', '0.01', '0.00000001', '0.10', 'Coinbase SOL-USD spot', 500, 300, { primary: true }),
];

export function resolveInstrument(spec: InstrumentSpec): Instrument {
  const price = new DecimalScale(spec.tickSize);
  const qty = new DecimalScale(spec.lotStep);
  const rowTicks = (row: string, what: string): number => {
    const probe = new DecimalScale(spec.tickSize);
    const t = probe.parse(row);
    if (!Number.isFinite(t) || t < 1 || probe.offGrid) throw new Error(`instrument ${spec.id}: ${what} "${row}" is not a positive multiple of tickSize ${spec.tickSize}`);
    return t;
  };
  const profileRowTicks = rowTicks(spec.profileRow, 'profileRow');
  const footprintRowTicks = rowTicks(spec.footprintRow ?? spec.profileRow, 'footprintRow');
  return { ...spec, price, qty, profileRowTicks, footprintRowTicks, calendar: new SessionCalendar(spec.session) };
}

export class InstrumentRegistry {
  private readonly byId = new Map<string, Instrument>();

  constructor(specs: InstrumentSpec[] = BUILTIN) {
    for (const s of specs) this.add(s);
  }

  /** Add or replace an instrument (config overrides use this). */
  add(spec: InstrumentSpec): Instrument {
    const inst = resolveInstrument(spec);
    this.byId.set(spec.id, inst);
    return inst;
  }

  has(id: string): boolean { return this.byId.has(id); }

  /** Exact id, else a unique/primary match on the venue symbol (case-insensitive). */
  find(name: string): Instrument | undefined {
    const exact = this.byId.get(name);
    if (exact) return exact;
    const up = name.toUpperCase();
    let matches = [...this.byId.values()].filter((i) => i.id.toUpperCase() === up || i.symbol.toUpperCase() === up);
    if (matches.length === 0) {
      // `venue:SYMBOL` (the Charting Library's EXCHANGE:SYMBOL form, e.g. binance-usdm:BTCUSDT)
      const k = up.indexOf(':');
      if (k > 0) {
        const venue = up.slice(0, k), sym = up.slice(k + 1);
        matches = [...this.byId.values()].filter((i) => i.venue.toUpperCase() === venue && (i.id.toUpperCase() === sym || i.symbol.toUpperCase() === sym));
      }
    }
    if (matches.length <= 1) return matches[0];
    return matches.find((i) => i.primary) ?? matches[0];
  }

  get(name: string): Instrument {
    const i = this.find(name);
    if (!i) throw new Error(`unknown instrument "${name}" (known: ${[...this.byId.keys()].slice(0, 12).join(', ')}, …)`);
    return i;
  }

  all(): Instrument[] { return [...this.byId.values()]; }

  /** The built-in specs (copied), e.g. as a base for config overrides. */
  static builtinSpecs(): InstrumentSpec[] { return BUILTIN.map((s) => ({ ...s })); }
}

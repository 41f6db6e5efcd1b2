/**
 * Broker symbol → canonical instrument mapping. Order: config override (exact, case-insensitive), then
 * the alias table, then suffix/prefix stripping until a known name appears, then a generic FX rule (two
 * ISO currencies or metals). Anything else stays under its broker name. Every decision carries how it
 * was made so the server can log it.
 *
 * Stripping never guesses by letters on a letters-only name: separators and their tails (`.cash`,
 * `.raw`, `_i`, `-T1`, `#`, `+`) always strip, but a bare letter (`m`, `c`, `pro`, `x`) is stripped only
 * when what remains is a currency pair (`EURUSDm`, `mEURUSD`, `XAUUSDm`) or an index-style name with
 * digits (`US500m`), or when the broker's suffix is configured (`suffixes`). So MAX, MAC, MAE stay
 * themselves (not MA), PEPE is not PEP, METAX is not META, COINM is not COIN, CLM/CLX/CLE are not USOIL.
 */

/** canonical id (registry id) → broker spellings */
export const DEFAULT_ALIASES: Record<string, string[]> = {
  NAS100: ['US100', 'USTEC', 'NQ100', 'NAS100USD', 'USTECH100', 'USTECH', 'NDX100', 'NDX', 'USNDAQ100', 'NASDAQ100', 'NASDAQ', 'US100CASH'],
  SP500: ['US500', 'SPX500', 'SPX', 'SPX500USD', 'US500CASH', 'USSPX500'],
  DJ30: ['US30', 'WS30', 'DJI30', 'DOW30', 'DJ30USD', 'US30CASH', 'USA30'],
  DAX40: ['GER40', 'DE40', 'GER30', 'DE30', 'DAX30', 'GERMANY40', 'DE40CASH', 'GER40CASH'],
  UK100: ['FTSE100', 'FTSE', 'UK100CASH', 'GBR100'],
  NIKKEI225: ['JP225', 'JPN225', 'NIKKEI', 'NI225', 'JP225CASH'],
  CAC40: ['FRA40', 'FR40', 'CAC', 'FRANCE40'],
  ASX200: ['AUS200', 'AU200', 'ASX', 'AUS200CASH'],
  HK50: ['HSI', 'HKG50', 'HK50CASH', 'HANGSENG'],
  XAUUSD: ['GOLD', 'XAUUSDX'],
  XAGUSD: ['SILVER'],
  USOIL: ['WTI', 'XTIUSD', 'USCRUDE', 'CRUDEOIL', 'WTICOUSD', 'OILUSD', 'CL'],
  UKOIL: ['BRENT', 'XBRUSD', 'UKBRENT', 'BRENTCMDUSD', 'BCOUSD'],
  BTCUSD: ['BTCUSDT', 'BITCOIN', 'XBTUSD', 'BTCUSDX'],
};

/** US stocks we know by ticker (registry built-ins plus common CFD names). */
export const US_STOCKS = ['AAPL', 'TSLA', 'AMZN', 'MSFT', 'NVDA', 'META', 'GOOGL', 'GOOG', 'NFLX', 'AMD', 'INTC', 'JPM', 'BAC', 'KO', 'PEP', 'DIS', 'BA', 'XOM', 'WMT', 'V', 'MA', 'ORCL', 'CSCO', 'ADBE', 'CRM', 'PYPL', 'UBER', 'COIN', 'PLTR', 'AVGO'];

const CURRENCIES = new Set(['XAU', 'XAG', 'XPT', 'XPD', 'USD', 'EUR', 'GBP', 'JPY', 'CHF', 'AUD', 'NZD', 'CAD', 'NOK', 'SEK', 'DKK', 'PLN', 'HUF', 'CZK', 'TRY', 'ZAR', 'MXN', 'SGD', 'HKD', 'CNH', 'RUB', 'ILS', 'THB']);

/** Suffixes seen at brokers, longest first (matched case-insensitively). */
export const DEFAULT_SUFFIXES = ['.CASH', 'CASH', '.RAW', '_RAW', '.PRO', 'PRO', '.ECN', '_ECN', '.STD', '.NAS', '.NYSE', '.US', '_US', '.OQ', '.PI', '.FX', '-T1', '.R', '.F', '.M', '.A', '.I', '.C', '.N', '.E', '.X', '.B', '_I', '_M', '#', '+', '!', '$', 'M', 'C', 'I', 'P', 'E', 'X', 'Z', 'B'];
export const DEFAULT_PREFIXES = ['#', '_', '.', 'M', 'X'];

export type MappingHow = 'override' | 'canonical' | 'alias' | 'stripped' | 'fx' | 'none';
export interface SymbolMapping { broker: string; canonical: string; how: MappingHow }

export interface SymbolMapOptions {
  /** broker symbol → canonical id; an empty string keeps the broker name (turns a heuristic off) */
  overrides?: Record<string, string>;
  /** extra aliases: canonical → broker spellings (merged over the defaults) */
  aliases?: Record<string, string[]>;
  /** extra canonical names that need no alias (e.g. more stocks) */
  known?: string[];
  /** this broker's own suffixes/prefixes (e.g. ["m"], ["c"], [".pro"]): stripped from any name */
  suffixes?: string[];
  prefixes?: string[];
}

export class SymbolMapper {
  private readonly overrides = new Map<string, string>();
  /** upper-case spelling → canonical */
  private readonly table = new Map<string, string>();
  private readonly suffixes = DEFAULT_SUFFIXES;
  private readonly prefixes = DEFAULT_PREFIXES;
  private readonly ownSuffixes: string[];
  private readonly ownPrefixes: string[];

  constructor(opts: SymbolMapOptions = {}) {
    this.ownSuffixes = (opts.suffixes ?? []).map((x) => x.toUpperCase()).filter(Boolean).sort((a, b) => b.length - a.length);
    this.ownPrefixes = (opts.prefixes ?? []).map((x) => x.toUpperCase()).filter(Boolean);
    for (const [k, v] of Object.entries(opts.overrides ?? {})) this.overrides.set(k.toUpperCase(), v);
    const aliases: Record<string, string[]> = { ...DEFAULT_ALIASES };
    for (const [c, list] of Object.entries(opts.aliases ?? {})) aliases[c] = [...(aliases[c] ?? []), ...list];
    for (const [c, list] of Object.entries(aliases)) {
      this.table.set(c.toUpperCase(), c);
      for (const a of list) this.table.set(a.toUpperCase().replace(/\s+/g, ''), c);
    }
    for (const s of [...US_STOCKS, ...(opts.known ?? [])]) this.table.set(s.toUpperCase(), s);
  }

  /** Canonical name for a broker symbol, or the broker name itself when nothing matches. */
  map(broker: string): SymbolMapping {
    const up = broker.toUpperCase();
    const o = this.overrides.get(up);
    if (o !== undefined) return { broker, canonical: o === '' ? broker : o, how: o === '' ? 'none' : 'override' };
    const norm = up.replace(/\s+/g, '');
    const direct = this.table.get(norm);
    if (direct) return { broker, canonical: direct, how: direct.toUpperCase() === norm ? 'canonical' : 'alias' };
    // breadth-first over strip operations (at most 3), first known name wins
    let frontier = [norm];
    const seen = new Set(frontier);
    for (let depth = 0; depth < 3 && frontier.length; depth++) {
      const next: string[] = [];
      for (const s of frontier) {
        for (const cand of this.strips(s)) {
          if (seen.has(cand)) continue;
          seen.add(cand);
          const hit = this.table.get(cand);
          if (hit) return { broker, canonical: hit, how: 'stripped' };
          const fx = fxCore(cand);
          if (fx && cand.length === 6) return { broker, canonical: fx, how: 'fx' };
          next.push(cand);
        }
      }
      frontier = next;
    }
    const fx = fxCore(norm);
    if (fx && norm.length === 6) return { broker, canonical: fx, how: 'fx' };
    return { broker, canonical: broker, how: 'none' };
  }

  private strips(s: string): string[] {
    const out: string[] = [];
    for (const suf of this.ownSuffixes) if (s.length > suf.length + 1 && s.endsWith(suf)) out.push(s.slice(0, -suf.length));
    for (const pre of this.ownPrefixes) if (s.length > pre.length + 1 && s.startsWith(pre)) out.push(s.slice(pre.length));
    // a bare letter is a broker suffix only where the rest cannot be a word-like ticker (see top)
    const letterOk = (rest: string): boolean => fxCore(rest) !== undefined || /\d/.test(rest);
    for (const suf of this.suffixes) {
      if (!(s.length > suf.length + 1 && s.endsWith(suf))) continue;
      const rest = s.slice(0, -suf.length);
      if (/^[A-Z]/.test(suf) && !letterOk(rest)) continue;
      out.push(rest);
    }
    for (const pre of this.prefixes) {
      if (!(s.length > pre.length + 1 && s.startsWith(pre))) continue;
      const rest = s.slice(pre.length);
      if (/^[A-Z]/.test(pre) && fxCore(rest) === undefined) continue;
      out.push(rest);
    }
    // separators inside a name: "EUR/USD", "EUR-USD", "EUR_USD"
    if (/[/_-]/.test(s)) out.push(s.replace(/[/_-]/g, ''));
    return out;
  }
}

/** A 6-letter FX pair of two known currencies, else undefined. */
export function fxCore(s: string): string | undefined {
  if (s.length !== 6 || !/^[A-Z]{6}$/.test(s)) return undefined;
  return CURRENCIES.has(s.slice(0, 3)) && CURRENCIES.has(s.slice(3)) && s.slice(0, 3) !== s.slice(3) ? s : undefined;
}

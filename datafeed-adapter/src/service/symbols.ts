/**
 * Charting Library symbol metadata from the instrument registry (charting-hosts.md §1.4, §2.2).
 *  - pricescale = 10^decimals of the tick size, minmov = tick size in those units
 *    (0.25 → pricescale 100, minmov 25; 0.10 → 100, 10; 0.00001 → 100000, 1).
 *  - session: "HHMM-HHMM:days" in the instrument's time zone, TradingView weekday digits
 *    (1 = Sunday … 7 = Saturday). A whole-day session is "0000-0000"; 24/7 is "24x7". A session that
 *    crosses midnight is listed on the day it ENDS (TradingView's convention), whereas our calendar
 *    keys it by the day it opens, hence the +1 day shift.
 *  - timezone: the session's IANA zone ("UTC" → "Etc/UTC").
 *  - session_holidays: the session's holidays as "YYYYMMDD,YYYYMMDD" (only when it has any, e.g. NSE via Kite).
 */
import type { Instrument } from '../../../engine/src/core/instruments.js';
import { INTRADAY_MULTIPLIERS, SECONDS_MULTIPLIERS, SUPPORTED_RESOLUTIONS } from './resolution.js';

export function priceFormat(inst: Instrument): { pricescale: number; minmov: number } {
  return { pricescale: 10 ** inst.price.decimals, minmov: inst.price.stepUnits };
}

function hhmm(s: string): string { return s.replace(':', '').padStart(4, '0'); }

export function sessionString(inst: Instrument): string {
  const s = inst.session;
  const wholeDay = s.end === '24:00' || s.end === s.start;
  const days = [...new Set(s.days)].sort();
  if (wholeDay && s.start === '00:00' && days.length === 7) return '24x7';
  const crosses = !wholeDay && s.end < s.start;
  const tv = days.map((d) => ((d + (crosses ? 1 : 0)) % 7) + 1).sort();
  const range = wholeDay ? `${hhmm(s.start)}-${hhmm(s.start)}` : `${hhmm(s.start)}-${hhmm(s.end)}`;
  return `${range}:${tv.join('')}`;
}

export function tvTimezone(inst: Instrument): string {
  const tz = inst.session.timezone;
  return tz === 'UTC' || tz === 'Etc/UTC' || tz === 'GMT' ? 'Etc/UTC' : tz;
}

export function symbolType(inst: Instrument): string {
  switch (inst.assetClass) {
    case 'crypto': return 'crypto';
    case 'forex': return 'forex';
    case 'stock': return 'stock';
    case 'index': return 'index';
    default: return 'commodity';
  }
}

/** LibrarySymbolInfo (v29-compatible: no full_name; visible_plots_set, not has_no_volume). */
export interface LibrarySymbolInfo {
  name: string;
  ticker: string;
  description: string;
  type: string;
  session: string;
  timezone: string;
  exchange: string;
  listed_exchange: string;
  format: 'price';
  pricescale: number;
  minmov: number;
  has_intraday: boolean;
  intraday_multipliers: string[];
  has_seconds: boolean;
  seconds_multipliers: string[];
  has_ticks: boolean;
  has_daily: boolean;
  daily_multipliers: string[];
  has_weekly_and_monthly: boolean;
  weekly_multipliers: string[];
  monthly_multipliers: string[];
  has_empty_bars: boolean;
  visible_plots_set: 'ohlcv';
  volume_precision: number;
  supported_resolutions: string[];
  data_status: 'streaming';
  delay: number;
  session_holidays?: string;
  library_custom_fields: Record<string, unknown>;
}

export function symbolInfo(inst: Instrument): LibrarySymbolInfo {
  const { pricescale, minmov } = priceFormat(inst);
  return {
    name: inst.id,
    ticker: inst.id,
    description: inst.description,
    type: symbolType(inst),
    session: sessionString(inst),
    timezone: tvTimezone(inst),
    exchange: inst.venue,
    listed_exchange: inst.venue,
    format: 'price',
    pricescale,
    minmov,
    has_intraday: true,
    intraday_multipliers: [...INTRADAY_MULTIPLIERS],
    has_seconds: true,
    seconds_multipliers: [...SECONDS_MULTIPLIERS],
    has_ticks: true,
    has_daily: true,
    daily_multipliers: ['1'],
    has_weekly_and_monthly: true,
    weekly_multipliers: ['1'],
    monthly_multipliers: ['1'],
    has_empty_bars: false,
    visible_plots_set: 'ohlcv',
    volume_precision: inst.qty.decimals,
    supported_resolutions: [...SUPPORTED_RESOLUTIONS],
    data_status: 'streaming',
    delay: 0,
    ...(inst.session.holidays?.length ? { session_holidays: inst.session.holidays.map((d) => d.replaceAll('-', '')).join(',') } : {}),
    library_custom_fields: { tickSize: inst.tickSize, lotStep: inst.lotStep, flow: inst.flow, assetClass: inst.assetClass, footprintRow: inst.footprintRow ?? inst.profileRow, profileRow: inst.profileRow },
  };
}

/** UDF group table (/symbol_info): one column per field, one row per instrument. */
export function symbolInfoTable(list: Instrument[]): Record<string, unknown[]> {
  const infos = list.map(symbolInfo);
  const col = <T>(f: (i: LibrarySymbolInfo) => T): T[] => infos.map(f);
  return {
    symbol: col((i) => i.name),
    ticker: col((i) => i.ticker),
    description: col((i) => i.description),
    'exchange-listed': col((i) => i.listed_exchange),
    'exchange-traded': col((i) => i.exchange),
    minmovement: col((i) => i.minmov),
    minmovement2: col(() => 0),
    fractional: col(() => false),
    pricescale: col((i) => i.pricescale),
    'has-intraday': col(() => true),
    'has-seconds': col(() => true),
    'seconds-multipliers': col((i) => i.seconds_multipliers),
    'has-ticks': col(() => true),
    'visible-plots-set': col(() => 'ohlcv'),
    type: col((i) => i.type),
    timezone: col((i) => i.timezone),
    'session-regular': col((i) => i.session),
    'supported-resolutions': col((i) => i.supported_resolutions),
    'has-daily': col(() => true),
    'intraday-multipliers': col((i) => i.intraday_multipliers),
    'volume-precision': col((i) => i.volume_precision),
    'has-weekly-and-monthly': col(() => true),
    'has-empty-bars': col(() => false),
  };
}

/**
 * Our own declarations of the TradingView Charting Library datafeed API that TapeFlowDatafeed
 * implements (IBasicDataFeed + IDatafeedQuotesApi + subscribeDepth). Written from the field lists in
 * shared/docs/charting-hosts.md §1, structurally compatible with the library typings v25–v29:
 * optional members cover fields that were added or removed across versions (full_name, searchSource,
 * DatafeedErrorCallback vs ErrorCallback). Not a copy of TradingView's files.
 */

/**
 * Nominal resolution string: '1', '5', '60', '1D', '1W', '1M', '15S', '100T'. The library brands its
 * nominal strings under the `Symbol.species` key; the same brand here makes the two interchangeable.
 * Make one with `resolution('5')` (or `'5' as ResolutionString`).
 */
export type ResolutionString = string & { [Symbol.species]: 'ResolutionString' };
export const resolution = (r: string): ResolutionString => r as ResolutionString;

/**
 * Exchange timezones the library accepts (`'Etc/UTC'` or an Olson name from its list, charting-hosts
 * §1.4). The names TapeFlow's instruments and sessions use, plus the major exchange zones; every one of
 * them is in the library's list, so a LibrarySymbolInfo typed here is assignable to the library's.
 */
export type Timezone =
  | 'Etc/UTC' | 'America/New_York' | 'America/Chicago' | 'America/Los_Angeles' | 'America/Toronto' | 'America/Sao_Paulo'
  | 'Europe/London' | 'Europe/Berlin' | 'Europe/Paris' | 'Europe/Zurich' | 'Europe/Amsterdam' | 'Europe/Moscow'
  | 'Asia/Tokyo' | 'Asia/Hong_Kong' | 'Asia/Shanghai' | 'Asia/Singapore' | 'Asia/Seoul' | 'Asia/Kolkata' | 'Asia/Dubai'
  | 'Australia/Sydney' | 'Pacific/Auckland';

/** v22–v28 `ErrorCallback`, v29 `DatafeedErrorCallback` (same shape; aliased locally on purpose). */
export type DatafeedErrorCallback = (reason: string) => void;
export type ErrorCallback = DatafeedErrorCallback;

export interface Exchange { value: string; name: string; desc: string }
export interface DatafeedSymbolType { name: string; value: string }
export interface Unit { id: string; name: string; description: string }
export interface CurrencyItem { id: string; code: string; logoUrl?: string; description?: string }

export interface DatafeedConfiguration {
  exchanges?: Exchange[];
  supported_resolutions?: ResolutionString[];
  units?: Record<string, Unit[]>;
  currency_codes?: (string | CurrencyItem)[];
  supports_marks?: boolean;
  supports_timescale_marks?: boolean;
  supports_time?: boolean;
  symbols_types?: DatafeedSymbolType[];
  symbols_grouping?: Record<string, string>;
}
export type OnReadyCallback = (configuration: DatafeedConfiguration) => void;

export interface SearchSymbolResultItem {
  symbol: string;
  description: string;
  exchange: string;
  type: string;
  ticker?: string;
  logo_urls?: [string] | [string, string];
  exchange_logo?: string;
}
export type SearchSymbolsCallback = (items: SearchSymbolResultItem[]) => void;

/** 'hlc' exists in some v29 builds only (absent from v29.2): not offered, so the type fits every version */
export type VisiblePlotsSet = 'ohlcv' | 'ohlc' | 'c';
export type SeriesFormat = 'price' | 'volume';
export type DataStatus = 'streaming' | 'endofday' | 'delayed_streaming';

export type LibrarySessionId = 'regular' | 'extended' | 'premarket' | 'postmarket';
export interface LibrarySubsessionInfo { description: string; id: LibrarySessionId; session: string; 'session-correction'?: string; 'session-display'?: string }

export interface LibrarySymbolInfo {
  name: string;
  // no full_name: required up to v26, removed in v27 (an excess property on v27+)
  /** typed as a one-element tuple by the library */
  base_name?: [string];
  ticker?: string;
  description: string;
  long_description?: string;
  type: string;
  session: string;
  session_display?: string;
  session_holidays?: string;
  corrections?: string;
  exchange: string;
  listed_exchange: string;
  timezone: Timezone;
  format: SeriesFormat;
  pricescale: number;
  minmov: number;
  fractional?: boolean;
  minmove2?: number;
  variable_tick_size?: string;
  has_intraday?: boolean;
  /** required up to v25, optional from v26 */
  supported_resolutions?: ResolutionString[];
  intraday_multipliers?: string[];
  has_seconds?: boolean;
  seconds_multipliers?: string[];
  has_ticks?: boolean;
  has_daily?: boolean;
  daily_multipliers?: string[];
  has_weekly_and_monthly?: boolean;
  weekly_multipliers?: string[];
  monthly_multipliers?: string[];
  has_empty_bars?: boolean;
  visible_plots_set?: VisiblePlotsSet;
  volume_precision?: number;
  data_status?: DataStatus;
  delay?: number;
  expired?: boolean;
  expiration_date?: number;
  sector?: string;
  industry?: string;
  currency_code?: string;
  original_currency_code?: string;
  unit_id?: string;
  original_unit_id?: string;
  unit_conversion_types?: string[];
  subsession_id?: string;
  subsessions?: LibrarySubsessionInfo[];
  price_source_id?: string;
  price_sources?: { id: string; name: string }[];
  logo_urls?: [string] | [string, string];
  exchange_logo?: string;
  library_custom_fields?: Record<string, unknown>;
}
export interface SymbolResolveExtension { currencyCode?: string; unitId?: string; session?: string }
export type ResolveCallback = (symbolInfo: LibrarySymbolInfo) => void;

export interface Bar { time: number; open: number; high: number; low: number; close: number; volume?: number }
export interface PeriodParams { from: number; to: number; countBack: number; firstDataRequest: boolean }
export interface HistoryMetadata { noData?: boolean; nextTime?: number | null }
export type HistoryCallback = (bars: Bar[], meta?: HistoryMetadata) => void;
export type SubscribeBarsCallback = (bar: Bar) => void;

export type MarkConstColors = 'red' | 'green' | 'blue' | 'yellow';
export interface MarkCustomColor { border: string; background: string }
export interface Mark {
  id: string | number; time: number; color: MarkConstColors | MarkCustomColor; text: string; label: string; labelFontColor: string; minSize: number;
  borderWidth?: number; hoveredBorderWidth?: number; imageUrl?: string; showLabelWhenImageLoaded?: boolean;
}
export interface TimescaleMark {
  id: string | number; time: number; color: MarkConstColors | string; label: string; tooltip: string[];
  labelFontColor?: string; shape?: 'circle' | 'earningUp' | 'earningDown' | 'earning'; imageUrl?: string; showLabelWhenImageLoaded?: boolean;
}
export type GetMarksCallback<T> = (marks: T[]) => void;
export type ServerTimeCallback = (serverTime: number) => void;

export interface DatafeedQuoteValues {
  ch?: number; chp?: number; short_name?: string; exchange?: string; description?: string;
  lp?: number; ask?: number; bid?: number; spread?: number;
  open_price?: number; high_price?: number; low_price?: number; prev_close_price?: number; volume?: number;
  original_name?: string;
  rtc?: number; rtc_time?: number; rch?: number; rchp?: number;
  [key: string]: string | number | string[] | number[] | undefined;
}
export interface QuoteOkData { s: 'ok'; n: string; v: DatafeedQuoteValues }
export interface QuoteErrorData { s: 'error'; n: string; v: object; errmsg?: string }
export type QuoteData = QuoteOkData | QuoteErrorData;
export type QuotesCallback = (data: QuoteData[]) => void;
export type QuotesErrorCallback = (reason: string) => void;

export interface DOMLevel { price: number; volume: number }
export interface DOMData { snapshot: boolean; asks: DOMLevel[]; bids: DOMLevel[] }
export type DOMCallback = (data: DOMData) => void;

export interface IExternalDatafeed { onReady(callback: OnReadyCallback): void }

export interface IDatafeedChartApi {
  searchSymbols(userInput: string, exchange: string, symbolType: string, onResult: SearchSymbolsCallback, searchSource?: string): void;
  resolveSymbol(symbolName: string, onResolve: ResolveCallback, onError: DatafeedErrorCallback, extension?: SymbolResolveExtension): void;
  getBars(symbolInfo: LibrarySymbolInfo, resolution: ResolutionString, periodParams: PeriodParams, onResult: HistoryCallback, onError: DatafeedErrorCallback): void;
  subscribeBars(symbolInfo: LibrarySymbolInfo, resolution: ResolutionString, onTick: SubscribeBarsCallback, listenerGuid: string, onResetCacheNeededCallback: () => void): void;
  unsubscribeBars(listenerGuid: string): void;
  getMarks?(symbolInfo: LibrarySymbolInfo, from: number, to: number, onDataCallback: GetMarksCallback<Mark>, resolution: ResolutionString): void;
  getTimescaleMarks?(symbolInfo: LibrarySymbolInfo, from: number, to: number, onDataCallback: GetMarksCallback<TimescaleMark>, resolution: ResolutionString): void;
  getServerTime?(callback: ServerTimeCallback): void;
  subscribeDepth?(symbol: string, callback: DOMCallback): string;
  unsubscribeDepth?(subscriberUID: string): void;
  getVolumeProfileResolutionForPeriod?(currentResolution: ResolutionString, from: number, to: number, symbolInfo: LibrarySymbolInfo): ResolutionString;
}

export interface IDatafeedQuotesApi {
  getQuotes(symbols: string[], onDataCallback: QuotesCallback, onErrorCallback: QuotesErrorCallback): void;
  subscribeQuotes(symbols: string[], fastSymbols: string[], onRealtimeCallback: QuotesCallback, listenerGUID: string): void;
  unsubscribeQuotes(listenerGUID: string): void;
}

export type IBasicDataFeed = IDatafeedChartApi & IExternalDatafeed;

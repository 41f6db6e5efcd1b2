/**
 * The Charting Library's typings as the HOST sees them, in the strict form the v29 typings take
 * (written for the contract test from charting-hosts.md §1 and §3, not copied from the library):
 * nominal strings branded under Symbol.species, real enums (nominal: only a same-named enum with matching
 * members relates to them), a Timezone union, a one-element base_name tuple, no full_name, readonly
 * metainfo, a title on every style, createShape generic over its overrides and limited to single-point
 * tools. tests/unit/cl-contract-types.test.ts assigns the project's objects to these with no casts;
 * `npm test` type-checks it.
 */
type Nominal<T, Name extends string> = T & { [Symbol.species]: Name };
export type ResolutionString = Nominal<string, 'ResolutionString'>;
export type EntityId = Nominal<string, 'EntityId'>;
export type Timezone = 'Etc/UTC' | 'America/New_York' | 'America/Chicago' | 'America/Los_Angeles' | 'America/Toronto' | 'America/Sao_Paulo' | 'Europe/London'
  | 'Europe/Berlin' | 'Europe/Paris' | 'Europe/Zurich' | 'Europe/Amsterdam' | 'Europe/Moscow' | 'Europe/Madrid' | 'Asia/Tokyo' | 'Asia/Hong_Kong'
  | 'Asia/Shanghai' | 'Asia/Singapore' | 'Asia/Seoul' | 'Asia/Kolkata' | 'Asia/Dubai' | 'Australia/Sydney' | 'Pacific/Auckland' | 'US/Mountain';

export interface LibrarySymbolInfo {
  name: string; base_name?: [string]; ticker?: string; description: string; long_description?: string; type: string; session: string;
  session_display?: string; session_holidays?: string; corrections?: string; exchange: string; listed_exchange: string; timezone: Timezone;
  format: 'price' | 'volume'; pricescale: number; minmov: number; fractional?: boolean; variable_tick_size?: string; has_intraday?: boolean;
  supported_resolutions?: ResolutionString[]; intraday_multipliers?: string[]; has_seconds?: boolean; has_ticks?: boolean; seconds_multipliers?: string[];
  build_seconds_from_ticks?: boolean; has_daily?: boolean; daily_multipliers?: string[]; has_weekly_and_monthly?: boolean; weekly_multipliers?: string[];
  monthly_multipliers?: string[]; has_empty_bars?: boolean; visible_plots_set?: 'ohlcv' | 'ohlc' | 'c'; volume_precision?: number;
  data_status?: 'streaming' | 'endofday' | 'delayed_streaming'; delay?: number; expired?: boolean; expiration_date?: number; sector?: string; industry?: string;
  currency_code?: string; original_currency_code?: string; unit_id?: string; original_unit_id?: string; unit_conversion_types?: string[]; subsession_id?: string;
  subsessions?: { description: string; id: 'regular' | 'extended' | 'premarket' | 'postmarket'; session: string; 'session-correction'?: string; 'session-display'?: string }[];
  price_source_id?: string; price_sources?: { id: string; name: string }[]; logo_urls?: [string] | [string, string]; exchange_logo?: string; library_custom_fields?: Record<string, unknown>;
}
export interface Bar { time: number; open: number; high: number; low: number; close: number; volume?: number }
export interface PeriodParams { from: number; to: number; countBack: number; firstDataRequest: boolean }
export interface DatafeedConfiguration {
  exchanges?: { value: string; name: string; desc: string }[]; supported_resolutions?: ResolutionString[]; units?: Record<string, { id: string; name: string; description: string }[]>;
  currency_codes?: (string | { id: string; code: string; logoUrl?: string; description?: string })[]; supports_marks?: boolean; supports_time?: boolean;
  supports_timescale_marks?: boolean; symbols_types?: { name: string; value: string }[]; symbols_grouping?: Record<string, string>;
}
export interface Mark { id: string | number; time: number; color: 'red' | 'green' | 'blue' | 'yellow' | { border: string; background: string }; text: string; label: string; labelFontColor: string; minSize: number; borderWidth?: number; hoveredBorderWidth?: number; imageUrl?: string; showLabelWhenImageLoaded?: boolean }
export interface TimescaleMark { id: string | number; time: number; color: string; labelFontColor?: string; label: string; tooltip: string[]; shape?: 'circle' | 'earningUp' | 'earningDown' | 'earning'; imageUrl?: string; showLabelWhenImageLoaded?: boolean }
export interface DatafeedQuoteValues {
  ch?: number; chp?: number; short_name?: string; exchange?: string; description?: string; lp?: number; ask?: number; bid?: number; spread?: number; open_price?: number;
  high_price?: number; low_price?: number; prev_close_price?: number; volume?: number; original_name?: string; rtc?: number; rtc_time?: number; rch?: number; rchp?: number;
  [valueName: string]: string | number | string[] | number[] | undefined;
}
export type QuoteData = { s: 'ok'; n: string; v: DatafeedQuoteValues } | { s: 'error'; n: string; v: object };
type Err = (reason: string) => void;
export interface IDatafeedChartApi {
  searchSymbols(userInput: string, exchange: string, symbolType: string, onResult: (items: { symbol: string; description: string; exchange: string; ticker?: string; type: string }[]) => void, searchSource?: 'symbolSearch' | 'watchlist' | 'compare' | 'indicatorInputs'): void;
  resolveSymbol(symbolName: string, onResolve: (symbolInfo: LibrarySymbolInfo) => void, onError: Err, extension?: { currencyCode?: string; unitId?: string; session?: string }): void;
  getBars(symbolInfo: LibrarySymbolInfo, resolution: ResolutionString, periodParams: PeriodParams, onResult: (bars: Bar[], meta?: { noData?: boolean; nextTime?: number | null }) => void, onError: Err): void;
  subscribeBars(symbolInfo: LibrarySymbolInfo, resolution: ResolutionString, onTick: (bar: Bar) => void, listenerGuid: string, onResetCacheNeededCallback: () => void): void;
  unsubscribeBars(listenerGuid: string): void;
  getMarks?(symbolInfo: LibrarySymbolInfo, from: number, to: number, onDataCallback: (marks: Mark[]) => void, resolution: ResolutionString): void;
  getTimescaleMarks?(symbolInfo: LibrarySymbolInfo, from: number, to: number, onDataCallback: (marks: TimescaleMark[]) => void, resolution: ResolutionString): void;
  getServerTime?(callback: (serverTime: number) => void): void;
  subscribeDepth?(symbol: string, callback: (data: { snapshot: boolean; asks: { price: number; volume: number }[]; bids: { price: number; volume: number }[] }) => void): string;
  unsubscribeDepth?(subscriberUID: string): void;
  getVolumeProfileResolutionForPeriod?(currentResolution: ResolutionString, from: number, to: number, symbolInfo: LibrarySymbolInfo): ResolutionString;
}
export interface IExternalDatafeed { onReady(callback: (configuration: DatafeedConfiguration) => void): void }
export type IBasicDataFeed = IDatafeedChartApi & IExternalDatafeed;
export interface IDatafeedQuotesApi {
  getQuotes(symbols: string[], onDataCallback: (data: QuoteData[]) => void, onErrorCallback: (reason: string) => void): void;
  subscribeQuotes(symbols: string[], fastSymbols: string[], onRealtimeCallback: (data: QuoteData[]) => void, listenerGUID: string): void;
  unsubscribeQuotes(listenerGUID: string): void;
}

// ---- custom indicators (the enums are declared here, so they are the host's, not the project's) ----
// (TypeScript relates two same-named enums when every member of the source exists in the target)
export enum StudyPlotType {
  Line = 'line', Colorer = 'colorer', BarColorer = 'bar_colorer', BgColorer = 'bg_colorer', TextColorer = 'text_colorer', OhlcColorer = 'ohlc_colorer',
  CandleWickColorer = 'wick_colorer', CandleBorderColorer = 'border_colorer', UpColorer = 'up_colorer', DownColorer = 'down_colorer', Shapes = 'shapes',
  Chars = 'chars', Arrows = 'arrows', Data = 'data', DataOffset = 'dataoffset', OhlcOpen = 'ohlc_open', OhlcHigh = 'ohlc_high', OhlcLow = 'ohlc_low', OhlcClose = 'ohlc_close',
}
export enum LineStudyPlotStyle { Line = 0, Histogram = 1, Cross = 3, Area = 4, Columns = 5, Circles = 6, LineWithBreaks = 7, AreaWithBreaks = 8, StepLine = 9, StepLineWithDiamonds = 10, StepLineWithBreaks = 11 }
export enum OhlcStudyPlotStyle { OhlcBars = 'ohlc_bars', OhlcCandles = 'ohlc_candles' }
export enum MarkLocation { AboveBar = 'AboveBar', BelowBar = 'BelowBar', Top = 'Top', Bottom = 'Bottom', Right = 'Right', Left = 'Left', Absolute = 'Absolute', AbsoluteUp = 'AbsoluteUp', AbsoluteDown = 'AbsoluteDown' }
export enum StudyInputType { Integer = 'integer', Float = 'float', Price = 'price', Bool = 'bool', Text = 'text', Symbol = 'symbol', Session = 'session', Source = 'source', Resolution = 'resolution', Time = 'time', BarTime = 'bar_time', Color = 'color', Textarea = 'text_area' }
export enum StudyPlotDisplayTarget { None = 0, Pane = 1, DataWindow = 2, PriceScale = 4, StatusLine = 8, All = 15 }
export enum LineStyle { Solid = 0, Dotted = 1, Dashed = 2 }
export enum PlotSymbolSize { Auto = 'auto', Tiny = 'tiny', Small = 'small', Normal = 'normal', Large = 'large', Huge = 'huge' }
type PlotInfo =
  | { readonly id: string; readonly type: StudyPlotType.Line | StudyPlotType.Shapes | StudyPlotType.Chars | StudyPlotType.Arrows }
  | { readonly id: string; readonly type: StudyPlotType.Data; readonly target: string }
  | { readonly id: string; readonly type: StudyPlotType.Colorer | StudyPlotType.OhlcColorer; readonly target: string; readonly palette: string }
  | { readonly id: string; readonly type: StudyPlotType.OhlcOpen | StudyPlotType.OhlcHigh | StudyPlotType.OhlcLow | StudyPlotType.OhlcClose; readonly target: string };
type Display = StudyPlotDisplayTarget | Nominal<number, 'StudyPlotDisplayTarget'>;
type LinePrefs = { plottype: LineStudyPlotStyle; color: string; linestyle: LineStyle; linewidth: number; trackPrice: boolean; transparency?: number; display: Display; visible?: boolean };
type ShapePrefs = { plottype: 'shape_arrow_down' | 'shape_arrow_up' | 'shape_circle' | 'shape_cross' | 'shape_xcross' | 'shape_diamond' | 'shape_flag' | 'shape_square' | 'shape_label_down' | 'shape_label_up' | 'shape_triangle_down' | 'shape_triangle_up'; location: MarkLocation; color: string; textColor: string; transparency?: number; display: Display; visible?: boolean };
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
export interface StudyMetaInfo {
  readonly id: Nominal<string, 'RawStudyMetaInfoId'>; readonly description: string; readonly shortDescription: string; readonly name?: string; readonly _metainfoVersion?: number;
  readonly format: { type: 'inherit' } | { type: 'price' | 'volume' | 'percent'; precision?: number };
  readonly is_price_study?: boolean; readonly isCustomIndicator?: boolean; readonly linkedToSeries?: boolean;
  readonly plots?: readonly PlotInfo[];
  readonly styles?: { readonly [id: string]: { readonly title: string; readonly histogramBase?: number; readonly isHidden?: boolean; readonly text?: string; readonly size?: PlotSymbolSize | number } | undefined };
  readonly ohlcPlots?: { readonly [id: string]: { readonly title: string; readonly isHidden?: boolean; readonly drawBorder?: boolean } | undefined };
  readonly palettes?: { readonly [id: string]: { readonly colors: { readonly [k: string]: { readonly name: string } }; readonly valToIndex?: { readonly [k: string]: number }; readonly addDefaultColor?: boolean } | undefined };
  readonly inputs?: readonly ({ readonly id: string; readonly name: string; readonly type: StudyInputType.Integer | StudyInputType.Float | StudyInputType.Price; readonly defval: number; readonly min?: number; readonly max?: number; readonly step?: number } | { readonly id: string; readonly name: string; readonly type: StudyInputType.Bool; readonly defval: boolean })[];
  readonly defaults?: DeepPartial<{
    styles: { [id: string]: LinePrefs | ShapePrefs }; inputs: { [id: string]: string | number | boolean }; precision: number | string;
    palettes: { [id: string]: { colors: { [k: string]: { color: string; width: number; style: number } } } };
    ohlcPlots: { [id: string]: { plottype: OhlcStudyPlotStyle; color: string; display: Display; visible?: boolean; drawWick: boolean; drawBorder: boolean; wickColor: string; borderColor: string } };
  }>;
}
export interface IPineSeries { get(n?: number): number; set(v: number): void; adopt(source: IPineSeries, destination: IPineSeries, mode: 0 | 1): number }
export interface IContext {
  symbol: { time: number; tickerid: string; ticker: string; period: string; isLastBar: boolean };
  new_sym(tickerid: string, period: string, currencyCode?: string, unitId?: string, subsessionId?: string): unknown;
  select_sym(i: number): void; new_var(value?: number): IPineSeries; new_unlimited_var(value?: number): IPineSeries;
}
type StdFn = (ctx: IContext) => number;
export interface PineJS { Std: { ticker(ctx: IContext): string; tickerid(ctx: IContext): string; period(ctx: IContext): string; time: StdFn; open: StdFn; high: StdFn; low: StdFn; close: StdFn; volume: StdFn; sma(s: IPineSeries, n: number, ctx: IContext): number } }
export interface LibraryPineStudy {
  init?(ctx: IContext, inputs: <T extends string | number | boolean>(index: number) => T): void;
  main(ctx: IContext, inputs: <T extends string | number | boolean>(index: number) => T): number[] | { value: number; offset: number }[] | number | null;
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}
export interface CustomIndicator { readonly name: string; readonly metainfo: StudyMetaInfo; readonly constructor: (new () => LibraryPineStudy) | ((this: LibraryPineStudy) => void) }
export interface WidgetOptions { datafeed: IBasicDataFeed | (IBasicDataFeed & IDatafeedQuotesApi); custom_indicators_getter?: (PineJS: PineJS) => Promise<readonly CustomIndicator[]> }

// ---- drawings ----
export type ShapePoint = { time: number } | { time: number; price: number } | { time: number; channel: 'open' | 'high' | 'low' | 'close' };
interface ShapeOptionsBase<T extends object> { text?: string; lock?: boolean; disableSelection?: boolean; disableSave?: boolean; disableUndo?: boolean; overrides?: T; zOrder?: 'top' | 'bottom'; showInObjectsTree?: boolean; ownerStudyId?: EntityId; filled?: boolean }
export interface IChartWidgetApi {
  createShape<T extends object>(point: ShapePoint, options: ShapeOptionsBase<T> & { shape?: 'arrow_up' | 'arrow_down' | 'flag' | 'vertical_line' | 'horizontal_line' | 'text' | 'note' | 'icon' }): Promise<EntityId>;
  createMultipointShape<T extends object>(points: ShapePoint[], options: ShapeOptionsBase<T> & { shape?: 'horizontal_ray' | 'trend_line' | 'rectangle' | 'price_label' | 'ray' | 'fib_retracement' }): Promise<EntityId>;
  removeEntity(entityId: EntityId, options?: { disableUndo: boolean }): void;
}

/**
 * Our declarations of the Charting Library custom-indicator API surface we use (charting-hosts §3),
 * written from the documented field lists. They are shaped so that a metainfo typed here is assignable
 * to the library's own `CustomIndicator` (checked against the v29 typings): the enums carry the
 * library's enum names, member names and values (TypeScript relates two enums with the same name whose
 * members match), plots are a union per plot kind, every style entry has its `title`, and the default
 * styles carry every field the renderer reads.
 */
export enum StudyPlotType {
  Line = 'line', Colorer = 'colorer', BarColorer = 'bar_colorer', BgColorer = 'bg_colorer', TextColorer = 'text_colorer',
  OhlcColorer = 'ohlc_colorer', CandleWickColorer = 'wick_colorer', CandleBorderColorer = 'border_colorer', UpColorer = 'up_colorer',
  DownColorer = 'down_colorer', Shapes = 'shapes', Chars = 'chars', Arrows = 'arrows', Data = 'data', DataOffset = 'dataoffset',
  OhlcOpen = 'ohlc_open', OhlcHigh = 'ohlc_high', OhlcLow = 'ohlc_low', OhlcClose = 'ohlc_close',
}
/** A line plot's drawing style (`plottype`): 1 = histogram (there is no histogram plot type). */
export enum LineStudyPlotStyle { Line = 0, Histogram = 1, Cross = 3, Area = 4, Columns = 5, Circles = 6, LineWithBreaks = 7, AreaWithBreaks = 8, StepLine = 9, StepLineWithDiamonds = 10, StepLineWithBreaks = 11 }
export enum OhlcStudyPlotStyle { OhlcBars = 'ohlc_bars', OhlcCandles = 'ohlc_candles' }
export enum MarkLocation { AboveBar = 'AboveBar', BelowBar = 'BelowBar', Top = 'Top', Bottom = 'Bottom', Right = 'Right', Left = 'Left', Absolute = 'Absolute', AbsoluteUp = 'AbsoluteUp', AbsoluteDown = 'AbsoluteDown' }
export enum StudyInputType { Integer = 'integer', Float = 'float', Price = 'price', Bool = 'bool', Text = 'text', Symbol = 'symbol', Session = 'session', Source = 'source', Resolution = 'resolution', Time = 'time', BarTime = 'bar_time', Color = 'color', Textarea = 'text_area' }
/** Where a plot shows (bitmask); All = pane, data window, price scale and status line. */
export enum StudyPlotDisplayTarget { None = 0, Pane = 1, DataWindow = 2, PriceScale = 4, StatusLine = 8, All = 15 }
export enum LineStyle { Solid = 0, Dotted = 1, Dashed = 2 }
/** Size of a shapes/chars plot's symbol. */
export enum PlotSymbolSize { Auto = 'auto', Tiny = 'tiny', Small = 'small', Normal = 'normal', Large = 'large', Huge = 'huge' }

export const PLOT_TYPES = Object.values(StudyPlotType);
export const INPUT_TYPES = Object.values(StudyInputType);
export const SHAPE_STYLES = ['shape_arrow_down', 'shape_arrow_up', 'shape_circle', 'shape_cross', 'shape_xcross', 'shape_diamond', 'shape_flag', 'shape_square', 'shape_label_down', 'shape_label_up', 'shape_triangle_down', 'shape_triangle_up'] as const;
export type PlotShapeId = (typeof SHAPE_STYLES)[number];
export const MARK_LOCATIONS = Object.values(MarkLocation);
export const LINE_PLOT_STYLES = Object.values(LineStudyPlotStyle).filter((x): x is LineStudyPlotStyle => typeof x === 'number');

/** Study ids are nominal strings in the library (same Symbol.species brand). */
export type StudyId = string & { [Symbol.species]: 'RawStudyMetaInfoId' };
export const studyId = (name: string): StudyId => `${name}@tv-basicstudies-1` as StudyId;

export type StudyPlot =
  | { id: string; type: StudyPlotType.Line }
  | { id: string; type: StudyPlotType.Shapes }
  | { id: string; type: StudyPlotType.Colorer | StudyPlotType.OhlcColorer; target: string; palette: string }
  | { id: string; type: StudyPlotType.OhlcOpen | StudyPlotType.OhlcHigh | StudyPlotType.OhlcLow | StudyPlotType.OhlcClose; target: string };

export type StudyInput =
  | { id: string; name: string; type: StudyInputType.Integer | StudyInputType.Float | StudyInputType.Price; defval: number; min?: number; max?: number; step?: number; isHidden?: boolean }
  | { id: string; name: string; type: StudyInputType.Bool; defval: boolean; isHidden?: boolean };

/** metainfo.styles[plotId]: what the legend and settings show */
export interface StudyStyleInfo { title: string; histogramBase?: number; isHidden?: boolean; text?: string; size?: PlotSymbolSize }
export interface StudyOhlcStyleInfo { title: string; isHidden?: boolean; drawBorder?: boolean }
export interface StudyPaletteInfo { colors: Record<string, { name: string }>; valToIndex?: Record<string, number>; addDefaultColor?: boolean }

interface PlotPrefsBase { display: StudyPlotDisplayTarget; visible?: boolean; transparency?: number }
export interface LinePlotPrefs extends PlotPrefsBase { plottype: LineStudyPlotStyle; color: string; linestyle: LineStyle; linewidth: number; trackPrice: boolean }
export interface ShapesPlotPrefs extends PlotPrefsBase { plottype: PlotShapeId; location: MarkLocation; color: string; textColor: string }
export interface OhlcCandlesPrefs { plottype: OhlcStudyPlotStyle.OhlcCandles; color: string; display: StudyPlotDisplayTarget; visible?: boolean; drawWick: boolean; drawBorder: boolean; wickColor: string; borderColor: string }
export interface PaletteColorPrefs { color: string; width: number; style: number }

export interface StudyMetaInfo {
  _metainfoVersion?: number;
  id: StudyId;
  name?: string;
  description: string;
  shortDescription: string;
  is_price_study?: boolean;
  isCustomIndicator?: boolean;
  linkedToSeries?: boolean;
  format: { type: 'inherit' } | { type: 'price' | 'volume' | 'percent'; precision?: number };
  plots: StudyPlot[];
  defaults: {
    styles?: Record<string, LinePlotPrefs | ShapesPlotPrefs>;
    inputs?: Record<string, number | boolean | string>;
    ohlcPlots?: Record<string, OhlcCandlesPrefs>;
    precision?: number;
    palettes?: Record<string, { colors: Record<string, PaletteColorPrefs> }>;
  };
  styles?: Record<string, StudyStyleInfo>;
  ohlcPlots?: Record<string, StudyOhlcStyleInfo>;
  inputs: StudyInput[];
  palettes?: Record<string, StudyPaletteInfo>;
}

/** Minimal PineJS surface used by our studies. */
export interface PineSeries { get(n?: number): number; set(v: number): void; adopt(src: PineSeries, dst: PineSeries, mode: 0 | 1): number }
export interface PineContext {
  symbol: { time: number; tickerid?: string; ticker?: string; period?: string };
  new_sym(tickerid: string, period: string, currencyCode?: string, unitId?: string, subsessionId?: string): unknown;
  select_sym(i: number): void;
  new_var(v?: number): PineSeries;
  new_unlimited_var(v?: number): PineSeries;
}
export interface PineStd {
  ticker(ctx: PineContext): string;
  tickerid(ctx: PineContext): string;
  period(ctx: PineContext): string;
  time(ctx: PineContext): number;
  open(ctx: PineContext): number;
  high(ctx: PineContext): number;
  low(ctx: PineContext): number;
  close(ctx: PineContext): number;
  volume(ctx: PineContext): number;
}
export interface PineJS { Std: PineStd }
/** The library's input getter: the value of the n-th input in metainfo order. */
export type StudyInputs = <T extends string | number | boolean>(i: number) => T;
/** What `this` holds in a study: the library calls init (optional) then main for every bar. */
export interface PineStudy {
  init?(ctx: PineContext, inputs: StudyInputs): void;
  /** ours return one number per plot; typed wide because the host's own result union is wider */
  main(ctx: PineContext, inputs: StudyInputs): unknown;
  [key: string]: unknown;
}
/** An ES5 constructor function (the library applies `new`). */
export type PineStudyConstructor = (this: PineStudy) => void;
export interface CustomIndicator { readonly name: string; readonly metainfo: StudyMetaInfo; readonly constructor: PineStudyConstructor }

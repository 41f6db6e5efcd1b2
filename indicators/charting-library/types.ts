/**
 * Our declarations of the Charting Library custom-indicator API surface we use (charting-hosts §3),
 * written from the documented field lists; structurally compatible with the library typings v24–v29.
 */
export const PLOT_TYPES = ['line', 'colorer', 'bar_colorer', 'bg_colorer', 'text_colorer', 'ohlc_colorer', 'wick_colorer', 'border_colorer', 'up_colorer', 'down_colorer', 'shapes', 'chars', 'arrows', 'data', 'dataoffset', 'ohlc_open', 'ohlc_high', 'ohlc_low', 'ohlc_close'] as const;
export type StudyPlotType = (typeof PLOT_TYPES)[number];
export const INPUT_TYPES = ['integer', 'float', 'price', 'bool', 'text', 'symbol', 'session', 'source', 'resolution', 'time', 'bar_time', 'color', 'text_area'] as const;
export const SHAPE_STYLES = ['shape_arrow_down', 'shape_arrow_up', 'shape_circle', 'shape_cross', 'shape_xcross', 'shape_diamond', 'shape_flag', 'shape_square', 'shape_label_down', 'shape_label_up', 'shape_triangle_down', 'shape_triangle_up'] as const;
export const MARK_LOCATIONS = ['AboveBar', 'BelowBar', 'Top', 'Bottom', 'Right', 'Left', 'Absolute', 'AbsoluteUp', 'AbsoluteDown'] as const;
/** LineStudyPlotStyle: 0 Line, 1 Histogram, 3 Cross, 4 Area, 5 Columns, 6 Circles, 7–11 variants */
export const LINE_PLOT_STYLES = [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11] as const;

export interface StudyPlot { id: string; type: StudyPlotType; target?: string; palette?: string }
export interface StudyInput { id: string; name: string; type: (typeof INPUT_TYPES)[number]; defval?: unknown; min?: number; max?: number; step?: number; isHidden?: boolean }
export interface StudyMetaInfo {
  _metainfoVersion?: number;
  id: string;
  name?: string;
  description: string;
  shortDescription: string;
  is_price_study?: boolean;
  isCustomIndicator?: boolean;
  linkedToSeries?: boolean;
  format: { type: 'inherit' } | { type: 'price' | 'volume' | 'percent'; precision?: number };
  plots: StudyPlot[];
  defaults: { styles?: Record<string, Record<string, unknown>>; inputs?: Record<string, unknown>; ohlcPlots?: Record<string, Record<string, unknown>>; precision?: number; palettes?: Record<string, unknown> };
  styles?: Record<string, Record<string, unknown>>;
  ohlcPlots?: Record<string, { title: string; isHidden?: boolean; drawBorder?: boolean }>;
  inputs: StudyInput[];
  palettes?: Record<string, unknown>;
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
export type StudyInputs = (i: number) => unknown;
export interface CustomIndicator { name: string; metainfo: StudyMetaInfo; constructor: unknown }

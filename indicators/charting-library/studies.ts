/**
 * Charting Library custom indicators (`custom_indicators_getter`): Cumulative Delta (candles), Bar
 * Delta (histogram), VWAP bands, Order-flow Signals (shapes) and Imbalance Count. Each study reads a
 * derived ticker (derived.ts) with `ctx.new_sym(base#KIND, period)` in init, `select_sym(1)` in main,
 * aligns it to the main series with `adopt`, and returns one number per plot (NaN where undefined).
 * Constructors are ES5 functions (the library applies `new`).
 */
import type { CustomIndicator, LinePlotPrefs, PineContext, PineJS, PineSeries, PineStudy, PineStudyConstructor, StudyInputs, StudyMetaInfo } from './types.js';
import {
  PLOT_TYPES, INPUT_TYPES, SHAPE_STYLES, MARK_LOCATIONS, LINE_PLOT_STYLES, LineStudyPlotStyle, LineStyle, MarkLocation, OhlcStudyPlotStyle,
  PlotSymbolSize, StudyInputType, StudyPlotDisplayTarget, StudyPlotType, studyId,
} from './types.js';
import { SIGNAL_BITS, type DerivedKind } from './derived.js';

const VERSION = 51;
const ALL = StudyPlotDisplayTarget.All;

function base(id: string, description: string, short: string, extra: Partial<StudyMetaInfo>): StudyMetaInfo {
  return {
    _metainfoVersion: VERSION, id: studyId(id), name: description, description, shortDescription: short,
    is_price_study: false, isCustomIndicator: true, linkedToSeries: true, format: { type: 'volume' }, plots: [], defaults: { styles: {}, inputs: {} }, styles: {}, inputs: [],
    ...extra,
  };
}

const line = (color: string, plottype: LineStudyPlotStyle, linewidth: number, o: Partial<LinePlotPrefs> = {}): LinePlotPrefs =>
  ({ plottype, color, linewidth, linestyle: LineStyle.Solid, trackPrice: false, display: ALL, visible: true, transparency: 0, ...o });

export const METAINFO: Record<'cvd' | 'delta' | 'vwap' | 'signals' | 'imbalance', StudyMetaInfo> = {
  cvd: base('TapeFlowCVD', 'TapeFlow Cumulative Delta', 'CVD', {
    plots: [
      { id: 'o', type: StudyPlotType.OhlcOpen, target: 'cvd' }, { id: 'h', type: StudyPlotType.OhlcHigh, target: 'cvd' },
      { id: 'l', type: StudyPlotType.OhlcLow, target: 'cvd' }, { id: 'c', type: StudyPlotType.OhlcClose, target: 'cvd' },
      // up/down colour per candle: palette index 0 when CVD closed at or above its open, 1 below
      { id: 'dir', type: StudyPlotType.OhlcColorer, target: 'cvd', palette: 'dir' },
    ],
    ohlcPlots: { cvd: { title: 'CVD', drawBorder: true } },
    palettes: { dir: { colors: { 0: { name: 'Rising' }, 1: { name: 'Falling' } }, valToIndex: { 0: 0, 1: 1 } } },
    styles: { dir: { title: 'Direction' } },
    defaults: {
      styles: {}, inputs: {},
      // every candle style field the renderer reads (borderColor missing threw on every frame)
      ohlcPlots: { cvd: { plottype: OhlcStudyPlotStyle.OhlcCandles, color: '#26a69a', drawWick: true, drawBorder: true, wickColor: '#787b86', borderColor: '#787b86', display: ALL, visible: true } },
      palettes: { dir: { colors: { 0: { color: '#26a69a', width: 1, style: 0 }, 1: { color: '#ef5350', width: 1, style: 0 } } } },
    },
  }),
  delta: base('TapeFlowBarDelta', 'TapeFlow Bar Delta', 'Δ', {
    plots: [{ id: 'delta', type: StudyPlotType.Line }, { id: 'col', type: StudyPlotType.Colorer, target: 'delta', palette: 'pal' }],
    palettes: { pal: { colors: { 0: { name: 'Buy' }, 1: { name: 'Sell' } }, valToIndex: { 0: 0, 1: 1 } } },
    styles: { delta: { title: 'Bar delta', histogramBase: 0 }, col: { title: 'Delta colour' } },
    defaults: { styles: { delta: line('#26a69a', LineStudyPlotStyle.Histogram, 3) }, palettes: { pal: { colors: { 0: { color: '#26a69a', width: 1, style: 0 }, 1: { color: '#ef5350', width: 1, style: 0 } } } }, inputs: {} },
  }),
  vwap: base('TapeFlowVWAP', 'TapeFlow VWAP Bands', 'VWAP', {
    is_price_study: true, format: { type: 'inherit' },
    inputs: [
      { id: 'k1', name: 'Band 1 (σ)', type: StudyInputType.Float, defval: 1, min: 0.1, max: 5, step: 0.1 },
      { id: 'k2', name: 'Band 2 (σ)', type: StudyInputType.Float, defval: 2, min: 0.1, max: 5, step: 0.1 },
    ],
    plots: ['vwap', 'u1', 'l1', 'u2', 'l2'].map((id) => ({ id, type: StudyPlotType.Line as const })),
    styles: { vwap: { title: 'VWAP' }, u1: { title: '+1' }, l1: { title: '−1' }, u2: { title: '+2' }, l2: { title: '−2' } },
    defaults: {
      inputs: { k1: 1, k2: 2 },
      styles: Object.fromEntries(['vwap', 'u1', 'l1', 'u2', 'l2'].map((id) => [id, line(id === 'vwap' ? '#ffca28' : '#42a5f5', LineStudyPlotStyle.Line, id === 'vwap' ? 2 : 1, { linestyle: id === 'vwap' ? LineStyle.Solid : LineStyle.Dashed })])),
    },
  }),
  signals: base('TapeFlowSignals', 'TapeFlow Order-flow Signals', 'OF signals', {
    is_price_study: true, format: { type: 'inherit' },
    plots: [{ id: 'buy', type: StudyPlotType.Shapes }, { id: 'sell', type: StudyPlotType.Shapes }, { id: 'kinds', type: StudyPlotType.Line }],
    styles: { buy: { title: 'Bullish signal', text: 'OF', size: PlotSymbolSize.Small }, sell: { title: 'Bearish signal', text: 'OF', size: PlotSymbolSize.Small }, kinds: { title: 'Kinds bitmask', isHidden: true } },
    defaults: {
      inputs: {},
      styles: {
        buy: { plottype: 'shape_triangle_up', location: MarkLocation.BelowBar, color: '#00e5ff', textColor: '#00e5ff', display: ALL, visible: true, transparency: 0 },
        sell: { plottype: 'shape_triangle_down', location: MarkLocation.AboveBar, color: '#ff4081', textColor: '#ff4081', display: ALL, visible: true, transparency: 0 },
        // the kinds bitmask (buy × 256 + sell): data window only
        kinds: line('#787b86', LineStudyPlotStyle.Line, 1, { display: StudyPlotDisplayTarget.DataWindow, visible: false }),
      },
    },
  }),
  imbalance: base('TapeFlowImbalances', 'TapeFlow Imbalance Count', 'Imb', {
    format: { type: 'price', precision: 0 },
    plots: [{ id: 'buy', type: StudyPlotType.Line }, { id: 'sell', type: StudyPlotType.Line }, { id: 'stacked', type: StudyPlotType.Line }],
    styles: { buy: { title: 'Buy imbalances' }, sell: { title: 'Sell imbalances' }, stacked: { title: 'Stacked runs' } },
    defaults: {
      inputs: {},
      styles: {
        buy: line('#26a69a', LineStudyPlotStyle.Columns, 1, { transparency: 20 }),
        sell: line('#ef5350', LineStudyPlotStyle.Columns, 1, { transparency: 20 }),
        stacked: line('#ffb300', LineStudyPlotStyle.Circles, 3),
      },
    },
  }),
};

const KIND: Record<keyof typeof METAINFO, DerivedKind> = { cvd: 'CVD', delta: 'DELTA', vwap: 'VWAP', signals: 'SIG', imbalance: 'IMB' };

/** Validation against our declarations and checklist item 22; returns the problems found. */
export function validateMetainfo(m: StudyMetaInfo): string[] {
  const errs: string[] = [];
  if (!m.id.endsWith('@tv-basicstudies-1')) errs.push('id must end with @tv-basicstudies-1');
  if (m.isCustomIndicator !== true) errs.push('isCustomIndicator must be true');
  if (!m.format || !['inherit', 'price', 'volume', 'percent'].includes(m.format.type)) errs.push('format.type');
  if (!m.description || !m.shortDescription) errs.push('description/shortDescription');
  const ids = new Set<string>();
  for (const p of m.plots) {
    if (ids.has(p.id)) errs.push(`duplicate plot ${p.id}`);
    ids.add(p.id);
    if (!(PLOT_TYPES as readonly string[]).includes(p.type)) errs.push(`plot ${p.id}: invalid type ${p.type}`);
    if ((p.type as string) === 'histogram') errs.push(`plot ${p.id}: histogram is a style (plottype 1), not a type`);
    const target = 'target' in p ? p.target : undefined;
    const palette = 'palette' in p ? p.palette : undefined;
    if (p.type.startsWith('ohlc_') || p.type.endsWith('colorer') || (p.type as string) === 'dataoffset') {
      if ((p.type as string) !== 'bar_colorer' && (p.type as string) !== 'bg_colorer' && !target) errs.push(`plot ${p.id}: ${p.type} needs a target`);
    }
    if (p.type.startsWith('ohlc_') && p.type !== StudyPlotType.OhlcColorer && !m.ohlcPlots?.[target!]) errs.push(`plot ${p.id}: ohlcPlots.${target} missing`);
    if (p.type.endsWith('colorer') && !palette) errs.push(`plot ${p.id}: a colorer needs a palette`);
    if (palette && !m.palettes?.[palette]) errs.push(`plot ${p.id}: palette ${palette} missing`);
    if (!m.styles?.[p.id]?.title && !p.type.startsWith('ohlc_')) errs.push(`plot ${p.id}: styles.${p.id}.title missing`);
    if (p.type === 'line') {
      const st = m.defaults.styles?.[p.id];
      if (!st) errs.push(`plot ${p.id}: defaults.styles missing`);
      else if (!(LINE_PLOT_STYLES as readonly number[]).includes(st.plottype as number)) errs.push(`plot ${p.id}: plottype ${String(st.plottype)} is not a LineStudyPlotStyle`);
    }
    if (p.type === 'shapes') {
      const st = m.defaults.styles?.[p.id];
      if (!st || !(SHAPE_STYLES as readonly string[]).includes(st.plottype as string)) errs.push(`plot ${p.id}: shapes plottype`);
      if (!st || !(MARK_LOCATIONS as readonly string[]).includes('location' in st ? st.location : '')) errs.push(`plot ${p.id}: shapes location`);
    }
  }
  for (const p of m.plots) if ('target' in p && !ids.has(p.target) && !m.ohlcPlots?.[p.target]) errs.push(`plot ${p.id}: unknown target ${p.target}`);
  for (const [k, o] of Object.entries(m.defaults.ohlcPlots ?? {})) for (const f of ['color', 'wickColor', 'borderColor'] as const) if (!o[f]) errs.push(`ohlcPlots.${k}.${f} missing`);
  const inIds = new Set<string>();
  for (const i of m.inputs) {
    if (inIds.has(i.id)) errs.push(`duplicate input ${i.id}`);
    inIds.add(i.id);
    if (!(INPUT_TYPES as readonly string[]).includes(i.type)) errs.push(`input ${i.id}: type ${i.type}`);
    if (m.defaults.inputs?.[i.id] === undefined) errs.push(`input ${i.id}: no default`);
  }
  return errs;
}

/** Number of values main() returns (= plots). */
export const plotCount = (m: StudyMetaInfo): number => m.plots.length;

/** Builds the ES5 constructor of a study reading `<ticker>#<kind>`. */
function makeConstructor(PineJS: PineJS, kind: DerivedKind, compute: (o: number, h: number, l: number, c: number, v: number, inputs: StudyInputs) => number[]): PineStudyConstructor {
  return function (this: PineStudy) {
    this.init = function (this: PineStudy, ctx: PineContext, inputs: StudyInputs) {
      this._context = ctx; this._input = inputs;
      ctx.new_sym(`${PineJS.Std.ticker(ctx)}#${kind}`, PineJS.Std.period(ctx));
    };
    this.main = function (this: PineStudy, ctx: PineContext, inputs: StudyInputs) {
      this._context = ctx; this._input = inputs;
      ctx.select_sym(1);
      const t1 = ctx.new_unlimited_var(ctx.symbol.time);
      const s: PineSeries[] = [PineJS.Std.open(ctx), PineJS.Std.high(ctx), PineJS.Std.low(ctx), PineJS.Std.close(ctx), PineJS.Std.volume(ctx)].map((x) => ctx.new_unlimited_var(x));
      ctx.select_sym(0);
      const t0 = ctx.new_unlimited_var(ctx.symbol.time);
      const v = s.map((x) => x.adopt(t1, t0, 0));
      if (v.some((x) => typeof x !== 'number' || Number.isNaN(x))) return compute(NaN, NaN, NaN, NaN, NaN, inputs).map(() => NaN);
      return compute(v[0], v[1], v[2], v[3], v[4], inputs);
    };
  };
}

export interface StudyOptions { /** prefix of study names (default "TapeFlow") */ prefix?: string }

/** The value of the widget option `custom_indicators_getter`. */
export function tapeflowIndicators(PineJS: PineJS): Promise<CustomIndicator[]> {
  const num = (x: unknown, d: number) => (typeof x === 'number' && Number.isFinite(x) ? x : d);
  const list: [keyof typeof METAINFO, (o: number, h: number, l: number, c: number, v: number, i: StudyInputs) => number[]][] = [
    ['cvd', (o, h, l, c) => [o, h, l, c, c >= o ? 0 : 1]],
    ['delta', (_o, _h, _l, c) => [c, c >= 0 ? 0 : 1]],
    ['vwap', (o, h, _l, _c, _v, i) => { const sd = h - o; const k1 = num(i<number>(0), 1), k2 = num(i<number>(1), 2); return [o, o + k1 * sd, o - k1 * sd, o + k2 * sd, o - k2 * sd]; }],
    ['signals', (o, h, l, c) => [o > 0 ? o : NaN, c > 0 ? c : NaN, h * 256 + l]],
    ['imbalance', (o, _h, _l, c, v) => [o, c, v > 0 ? v : NaN]],
  ];
  return Promise.resolve(list.map(([k, fn]) => ({ name: METAINFO[k].description, metainfo: METAINFO[k], constructor: makeConstructor(PineJS, KIND[k], fn) })));
}

export { SIGNAL_BITS };

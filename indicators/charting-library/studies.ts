/**
 * Charting Library custom indicators (`custom_indicators_getter`): Cumulative Delta (candles), Bar
 * Delta (histogram), VWAP bands, Order-flow Signals (shapes) and Imbalance Count. Each study reads a
 * derived ticker (derived.ts) with `ctx.new_sym(base#KIND, period)` in init, `select_sym(1)` in main,
 * aligns it to the main series with `adopt`, and returns one number per plot (NaN where undefined).
 * Constructors are ES5 functions (the library applies `new`).
 */
import type { CustomIndicator, PineContext, PineJS, PineSeries, StudyInputs, StudyMetaInfo } from './types.js';
import { PLOT_TYPES, INPUT_TYPES, SHAPE_STYLES, MARK_LOCATIONS, LINE_PLOT_STYLES } from './types.js';
import { SIGNAL_BITS, type DerivedKind } from './derived.js';

const VERSION = 51;

function base(id: string, description: string, short: string, extra: Partial<StudyMetaInfo>): StudyMetaInfo {
  return {
    _metainfoVersion: VERSION, id: `${id}@tv-basicstudies-1`, name: description, description, shortDescription: short,
    is_price_study: false, isCustomIndicator: true, linkedToSeries: true, format: { type: 'volume' }, plots: [], defaults: { styles: {}, inputs: {} }, styles: {}, inputs: [],
    ...extra,
  };
}

export const METAINFO: Record<'cvd' | 'delta' | 'vwap' | 'signals' | 'imbalance', StudyMetaInfo> = {
  cvd: base('TapeFlowCVD', 'TapeFlow Cumulative Delta', 'CVD', {
    plots: [
      { id: 'o', type: 'ohlc_open', target: 'cvd' }, { id: 'h', type: 'ohlc_high', target: 'cvd' }, { id: 'l', type: 'ohlc_low', target: 'cvd' }, { id: 'c', type: 'ohlc_close', target: 'cvd' },
      // up/down colour per candle: palette index 0 when CVD closed at or above its open, 1 below
      { id: 'dir', type: 'ohlc_colorer', target: 'cvd', palette: 'dir' },
    ],
    ohlcPlots: { cvd: { title: 'CVD', drawBorder: true } },
    palettes: { dir: { colors: { 0: { name: 'Rising' }, 1: { name: 'Falling' } }, valToIndex: { 0: 0, 1: 1 } } },
    defaults: {
      styles: {}, inputs: {},
      // every candle style field the renderer reads (borderColor missing threw on every frame)
      ohlcPlots: { cvd: { plottype: 'ohlc_candles', color: '#26a69a', drawWick: true, drawBorder: true, wickColor: '#787b86', borderColor: '#787b86', display: 15, visible: true } },
      palettes: { dir: { colors: { 0: { color: '#26a69a', width: 1, style: 0 }, 1: { color: '#ef5350', width: 1, style: 0 } } } },
    },
  }),
  delta: base('TapeFlowBarDelta', 'TapeFlow Bar Delta', 'Δ', {
    plots: [{ id: 'delta', type: 'line' }, { id: 'col', type: 'colorer', target: 'delta', palette: 'pal' }],
    palettes: { pal: { colors: { 0: { name: 'Buy' }, 1: { name: 'Sell' } }, valToIndex: { 0: 0, 1: 1 } } },
    styles: { delta: { title: 'Bar delta', histogramBase: 0 } },
    defaults: { styles: { delta: { plottype: 1, linewidth: 3, color: '#26a69a', histogramBase: 0, visible: true, transparency: 0 } }, palettes: { pal: { colors: { 0: { color: '#26a69a', width: 1, style: 0 }, 1: { color: '#ef5350', width: 1, style: 0 } } } }, inputs: {} },
  }),
  vwap: base('TapeFlowVWAP', 'TapeFlow VWAP Bands', 'VWAP', {
    is_price_study: true, format: { type: 'inherit' },
    inputs: [{ id: 'k1', name: 'Band 1 (σ)', type: 'float', defval: 1, min: 0.1, max: 5, step: 0.1 }, { id: 'k2', name: 'Band 2 (σ)', type: 'float', defval: 2, min: 0.1, max: 5, step: 0.1 }],
    plots: ['vwap', 'u1', 'l1', 'u2', 'l2'].map((id) => ({ id, type: 'line' as const })),
    styles: { vwap: { title: 'VWAP' }, u1: { title: '+1' }, l1: { title: '−1' }, u2: { title: '+2' }, l2: { title: '−2' } },
    defaults: {
      inputs: { k1: 1, k2: 2 },
      styles: Object.fromEntries(['vwap', 'u1', 'l1', 'u2', 'l2'].map((id) => [id, { plottype: 0, linewidth: id === 'vwap' ? 2 : 1, linestyle: id === 'vwap' ? 0 : 2, color: id === 'vwap' ? '#ffca28' : '#42a5f5', visible: true, transparency: 0, trackPrice: false }])),
    },
  }),
  signals: base('TapeFlowSignals', 'TapeFlow Order-flow Signals', 'OF signals', {
    is_price_study: true, format: { type: 'inherit' },
    plots: [{ id: 'buy', type: 'shapes' }, { id: 'sell', type: 'shapes' }, { id: 'kinds', type: 'data' }],
    styles: { buy: { title: 'Bullish signal', text: 'OF', size: 'small' }, sell: { title: 'Bearish signal', text: 'OF', size: 'small' }, kinds: { title: 'Kinds bitmask', isHidden: true } },
    defaults: {
      inputs: {},
      styles: {
        buy: { plottype: 'shape_triangle_up', location: 'BelowBar', color: '#00e5ff', textColor: '#00e5ff', visible: true, transparency: 0 },
        sell: { plottype: 'shape_triangle_down', location: 'AboveBar', color: '#ff4081', textColor: '#ff4081', visible: true, transparency: 0 },
        kinds: { visible: false },
      },
    },
  }),
  imbalance: base('TapeFlowImbalances', 'TapeFlow Imbalance Count', 'Imb', {
    format: { type: 'price', precision: 0 },
    plots: [{ id: 'buy', type: 'line' }, { id: 'sell', type: 'line' }, { id: 'stacked', type: 'line' }],
    styles: { buy: { title: 'Buy imbalances' }, sell: { title: 'Sell imbalances' }, stacked: { title: 'Stacked runs' } },
    defaults: {
      inputs: {},
      styles: {
        buy: { plottype: 5, linewidth: 1, color: '#26a69a', visible: true, transparency: 20 },
        sell: { plottype: 5, linewidth: 1, color: '#ef5350', visible: true, transparency: 20 },
        stacked: { plottype: 6, linewidth: 3, color: '#ffb300', visible: true, transparency: 0 },
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
    if (p.type.startsWith('ohlc_') || p.type.endsWith('colorer') || p.type === 'dataoffset') {
      if (p.type !== 'bar_colorer' && p.type !== 'bg_colorer' && !p.target) errs.push(`plot ${p.id}: ${p.type} needs a target`);
    }
    if (p.type.startsWith('ohlc_') && !m.ohlcPlots?.[p.target!]) errs.push(`plot ${p.id}: ohlcPlots.${p.target} missing`);
    if (p.palette && !m.palettes?.[p.palette]) errs.push(`plot ${p.id}: palette ${p.palette} missing`);
    if (p.type === 'line') {
      const st = m.defaults.styles?.[p.id];
      if (!st) errs.push(`plot ${p.id}: defaults.styles missing`);
      else if (!(LINE_PLOT_STYLES as readonly number[]).includes(st.plottype as number)) errs.push(`plot ${p.id}: plottype ${String(st.plottype)} is not a LineStudyPlotStyle`);
    }
    if (p.type === 'shapes') {
      const st = m.defaults.styles?.[p.id];
      if (!st || !(SHAPE_STYLES as readonly string[]).includes(st.plottype as string)) errs.push(`plot ${p.id}: shapes plottype`);
      if (!st || !(MARK_LOCATIONS as readonly string[]).includes(st.location as string)) errs.push(`plot ${p.id}: shapes location`);
    }
  }
  for (const p of m.plots) if (p.target && !ids.has(p.target) && !m.ohlcPlots?.[p.target]) errs.push(`plot ${p.id}: unknown target ${p.target}`);
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

interface StudyThis { _context: PineContext; _input: StudyInputs; init(ctx: PineContext, inputs: StudyInputs): void; main(ctx: PineContext, inputs: StudyInputs): number[] | null }

/** Builds the ES5 constructor of a study reading `<ticker>#<kind>`. */
function makeConstructor(PineJS: PineJS, kind: DerivedKind, compute: (o: number, h: number, l: number, c: number, v: number, inputs: StudyInputs) => number[]): unknown {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  return function (this: StudyThis) {
    this.init = function (this: StudyThis, ctx: PineContext, inputs: StudyInputs) {
      this._context = ctx; this._input = inputs;
      ctx.new_sym(`${PineJS.Std.ticker(ctx)}#${kind}`, PineJS.Std.period(ctx));
    };
    this.main = function (this: StudyThis, ctx: PineContext, inputs: StudyInputs) {
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
    ['vwap', (o, h, _l, _c, _v, i) => { const sd = h - o; const k1 = num(i(0), 1), k2 = num(i(1), 2); return [o, o + k1 * sd, o - k1 * sd, o + k2 * sd, o - k2 * sd]; }],
    ['signals', (o, h, l, c) => [o > 0 ? o : NaN, c > 0 ? c : NaN, h * 256 + l]],
    ['imbalance', (o, _h, _l, c, v) => [o, c, v > 0 ? v : NaN]],
  ];
  return Promise.resolve(list.map(([k, fn]) => ({ name: METAINFO[k].description, metainfo: METAINFO[k], constructor: makeConstructor(PineJS, KIND[k], fn) })));
}

export { SIGNAL_BITS };

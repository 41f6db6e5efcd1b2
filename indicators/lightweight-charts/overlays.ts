/**
 * Standard-series overlays derived from footprint bars: CVD candles and a bar-delta histogram in
 * their own panes, session VWAP with ±σ bands, and order-flow signal markers (createSeriesMarkers)
 * with SL/TP price lines for an open trade. Runtime LWC values are passed in (`lwc`), so the bundle
 * carries no copy of the library.
 */
import type { IChartApi, ISeriesApi, SeriesType, UTCTimestamp, SeriesMarker, Time, IPriceLine, ISeriesMarkersPluginApi, SeriesDefinition, ISeriesPrimitive, IPrimitivePaneView, IPrimitivePaneRenderer, SeriesAttachedParameter } from 'lightweight-charts';
import type { CanvasRenderingTarget2D } from 'fancy-canvas';
import type { FootprintBarData } from '../render/types.js';
import type { Theme } from '../render/theme.js';
import type { FootprintController } from './footprint-series.js';
import { SignalLabelsPrimitive, signalLabel } from './signal-labels.js';
import type { PaneTag, PaneTexts } from './pane-texts.js';
import { ClearOfLabels } from './axis-labels.js';

export interface LwcSeriesRuntime {
  CandlestickSeries: SeriesDefinition<'Candlestick'>;
  HistogramSeries: SeriesDefinition<'Histogram'>;
  createSeriesMarkers: (series: ISeriesApi<SeriesType>, markers?: SeriesMarker<Time>[]) => ISeriesMarkersPluginApi<Time>;
}

const sec = (ms: number): UTCTimestamp => Math.floor(ms / 1000) as UTCTimestamp;

/** CVD candles (pane `paneIndex`) and bar delta histogram (pane `paneIndex + 1`). */
export class DeltaPanes {
  readonly cvd: ISeriesApi<'Candlestick'>;
  readonly delta: ISeriesApi<'Histogram'>;
  constructor(chart: IChartApi, lwc: LwcSeriesRuntime, private readonly th: Theme, paneIndex = 1) {
    // each pane's axis: no tick label under the series' last-value label (axis-labels.ts)
    const cvdAxis = new ClearOfLabels(chart), deltaAxis = new ClearOfLabels(chart);
    this.cvd = chart.addSeries(lwc.CandlestickSeries, { upColor: th.buy, downColor: th.sell, wickUpColor: th.buy, wickDownColor: th.sell, borderVisible: false, priceFormat: cvdAxis.priceFormat, title: 'CVD' }, paneIndex);
    this.delta = chart.addSeries(lwc.HistogramSeries, { priceFormat: deltaAxis.priceFormat, title: 'Δ' }, paneIndex + 1);
    cvdAxis.attach(this.cvd);
    deltaAxis.attach(this.delta);
    // short panes: an axis tick label only where its whole text fits (a half label was cut at the pane's top on a phone),
    // and a margin so the candles / bars keep clear of the pane edges
    for (const s of [this.cvd, this.delta]) s.priceScale().applyOptions({ entireTextOnly: true, scaleMargins: { top: 0.15, bottom: 0.1 } });
    // new panes share the height equally: keep the price pane the main one (≈ 3/4 of the chart)
    const panes = chart.panes();
    panes[paneIndex]?.setStretchFactor(0.2);
    panes[paneIndex + 1]?.setStretchFactor(0.14);
  }
  setBars(bars: readonly FootprintBarData[]): void {
    this.cvd.setData(bars.filter((b) => b.cvd).map((b) => ({ time: sec(b.time), open: b.cvd!.open, high: b.cvd!.high, low: b.cvd!.low, close: b.cvd!.close })));
    this.delta.setData(bars.map((b) => ({ time: sec(b.time), value: b.delta, color: b.delta >= 0 ? this.th.buy : this.th.sell })));
  }
  update(b: FootprintBarData): void {
    if (b.cvd) this.cvd.update({ time: sec(b.time), open: b.cvd.open, high: b.cvd.high, low: b.cvd.low, close: b.cvd.close });
    this.delta.update({ time: sec(b.time), value: b.delta, color: b.delta >= 0 ? this.th.buy : this.th.sell });
  }
}

export { vwapFromBars, type VwapPoint } from '../render/vwap.js';
import type { VwapPoint } from '../render/vwap.js';

/**
 * Session VWAP and ±kσ bands, drawn by one primitive on the footprint's series: each line a polyline through
 * the points in view (one per bar, at the bar's time), the VWAP solid, the bands dashed. Five Lightweight
 * Charts line series drew them before, and every series costs the chart work each frame whatever it draws
 * (its views, its price-axis views, its share of the time scale): hiding the five took ~0.3 ms off a pan frame
 * of the workstation bench. They never took part in autoscale, and neither does this. With `texts` (the pane's
 * shared text layout) their titles ("VWAP", "+1σ"…) are tags at the newest point laid out with every other text
 * on the pane; without it the lines carry no titles (attachOrderFlow always passes it).
 */
export class VwapBands implements ISeriesPrimitive<Time> {
  private series: ISeriesApi<SeriesType> | null = null;
  private requestUpdate: (() => void) | null = null;
  private readonly views: IPrimitivePaneView[];
  /** oldest first, one per bar of the footprint's window */
  private pts: VwapPoint[] = [];
  readonly titles: string[];
  readonly colors: string[];
  constructor(private readonly fp: FootprintController, readonly multipliers: number[] = [1, 2], private readonly texts: PaneTexts | null = null) {
    const th = fp.theme;
    this.titles = ['VWAP', ...multipliers.flatMap((k) => [`+${k}σ`, `−${k}σ`])];
    this.colors = [th.vwap, ...multipliers.flatMap(() => [th.band, th.band])];
    const renderer: IPrimitivePaneRenderer = { draw: (t: CanvasRenderingTarget2D) => this.draw(t) };
    this.views = [{ renderer: () => renderer, zOrder: () => 'normal' }];
  }
  attached(p: SeriesAttachedParameter<Time>): void { this.series = p.series; this.requestUpdate = p.requestUpdate; }
  detached(): void { this.series = null; this.requestUpdate = null; }
  paneViews(): readonly IPrimitivePaneView[] { return this.views; }
  /** the points held (the footprint's window), oldest first */
  get points(): readonly VwapPoint[] { return this.pts; }
  /** line `k`'s value at a point: 0 the VWAP, then +σ / −σ for each multiplier */
  value(p: VwapPoint, k: number): number {
    if (k === 0) return p.vwap;
    const m = this.multipliers[(k - 1) >> 1];
    return k % 2 ? p.vwap + m * p.sd : p.vwap - m * p.sd;
  }
  /** the newest point's tags: VWAP first, then the bands from the nearest out */
  private tag(p: VwapPoint | undefined): void {
    if (!this.texts) return;
    const tags: PaneTag[] = [];
    if (p) for (let k = 0; k < this.titles.length; k++) tags.push({ price: this.value(p, k), text: this.titles[k], color: this.colors[k], rank: k ? 10 + ((k + 1) >> 1) : 10 });
    this.texts.setTags('vwap', tags);
  }
  /** Add or replace the newest point (live updates); an older point than the newest is ignored. */
  updatePoint(p: VwapPoint): void {
    const n = this.pts.length, last = n ? this.pts[n - 1] : null;
    if (last && p.time < last.time) return;
    if (last && p.time === last.time) this.pts[n - 1] = p; else this.pts.push(p);
    this.tag(p);
    this.requestUpdate?.();
  }
  setPoints(pts: VwapPoint[]): void {
    this.pts = pts.slice();
    this.tag(pts[pts.length - 1]);
    this.requestUpdate?.();
  }

  private draw(target: CanvasRenderingTarget2D): void {
    const s = this.series, fp = this.fp, d = this.pts;
    if (!s || d.length < 2) return;
    target.useBitmapCoordinateSpace(({ context: ctx, horizontalPixelRatio: hpr, verticalPixelRatio: vpr, mediaSize }) => {
      // only the points whose segments can reach the pane: from the last one left of it to the first one right of it
      // (x is non-decreasing in time, so binary searches find both)
      // a point sits at its bar's centre, as a line series' point did
      const W = mediaSize.width, xAt = (i: number): number => fp.xOfIndex(fp.indexAt(d[i].time));
      let i0 = 0, i1 = d.length - 1;
      for (let lo = 0, hi = d.length - 1; lo <= hi;) { const m = (lo + hi) >> 1; if (xAt(m) < 0) { i0 = m; lo = m + 1; } else hi = m - 1; }
      for (let lo = i0, hi = d.length - 1; lo <= hi;) { const m = (lo + hi) >> 1; if (xAt(m) > W) { i1 = m; hi = m - 1; } else lo = m + 1; }
      const xs: number[] = [];
      for (let i = i0; i <= i1; i++) xs.push(Math.round(xAt(i) * hpr) + 0.5);
      ctx.save();
      ctx.lineJoin = 'round';
      for (let k = 0; k < this.titles.length; k++) {
        // Lightweight Charts' line geometry: the VWAP 2 px solid, the bands 1 px dashed (dash and gap 2 × the width)
        const w = Math.max(1, Math.floor((k ? 1 : 2) * hpr));
        ctx.lineWidth = w;
        ctx.setLineDash(k ? [2 * w, 2 * w] : []);
        ctx.strokeStyle = this.colors[k];
        ctx.beginPath();
        let open = false;
        for (let i = i0; i <= i1; i++) {
          const y = s.priceToCoordinate(this.value(d[i], k)), x = xs[i - i0];
          if (y === null || Number.isNaN(x)) { open = false; continue; }
          if (open) ctx.lineTo(x, Math.round(y * vpr) + 0.5); else { ctx.moveTo(x, Math.round(y * vpr) + 0.5); open = true; }
        }
        ctx.stroke();
      }
      ctx.restore();
    });
  }
}

/** A signal as the API / SignalEngine report it (time in ms; kind = SignalKind or entry/exit). */
export interface SignalMark {
  id?: string | number;
  time: number;
  kind: 'absorption' | 'initiative' | 'sweep' | 'exhaustion' | 'divergence' | 'iceberg' | 'entry' | 'exit' | string;
  side?: 'buy' | 'sell';
  price?: number;
  /** the full reasoning (price units): tooltips and cards, never drawn on the chart */
  text?: string;
  /** extra fields the page shows in cards (score, grade, entry/SL/TP…) */
  data?: Record<string, unknown>;
}


/** Converts signal records into markers at the bar containing each signal's time. */
export function signalMarkers(fp: FootprintController, signals: readonly SignalMark[], th: Theme): SeriesMarker<Time>[] {
  const out: SeriesMarker<Time>[] = [];
  for (const s of signals) {
    const i = fp.indexAt(s.time);
    if (i < 0) continue;
    const buy = s.side !== 'sell';
    const isTrade = s.kind === 'entry' || s.kind === 'exit';
    // custom series have no high/low for aboveBar/belowBar: anchor at the bar's row edges instead
    const b = fp.prepared.bars[i];
    const edge = b && b.n ? (buy ? b.row0 * b.data.rowSize : (b.row0 + b.n) * b.data.rowSize) : s.price;
    out.push({
      time: sec(fp.times[i]), id: s.id !== undefined ? String(s.id) : undefined,
      ...(edge !== undefined ? { position: buy ? 'atPriceTop' : 'atPriceBottom', price: edge } : { position: buy ? 'belowBar' : 'aboveBar' }),
      shape: isTrade ? (buy ? 'arrowUp' : 'arrowDown') : s.kind === 'iceberg' || s.kind === 'absorption' ? 'square' : 'circle',
      color: s.kind === 'exit' ? th.textDim : buy ? th.markerBuy : th.markerSell,
      text: signalLabel(s.kind),
    });
  }
  return out.sort((a, b) => (a.time as number) - (b.time as number));
}

/**
 * Signals on the footprint: short labels laid out clear of the cells and of each other
 * (`SignalLabelsPrimitive`), plus the open trade's entry/SL/TP price lines. `markers` (the LWC
 * series-markers plugin) stays attached for callers that add their own markers; signals no longer
 * go there because its text is not collision-aware.
 */
export class SignalLayer {
  readonly markers: ISeriesMarkersPluginApi<Time>;
  readonly labels: SignalLabelsPrimitive;
  private lines: IPriceLine[] = [];
  /** the open trade's levels as drawn: [price, title] */
  levels: { price: number; title: string }[] = [];
  /** with `texts` (the pane's shared text layout) the level titles are its tags, else Lightweight Charts' price-line titles */
  constructor(private readonly fp: FootprintController, lwc: LwcSeriesRuntime, private readonly texts: PaneTexts | null = null) {
    this.markers = lwc.createSeriesMarkers(fp.series, []);
    this.labels = new SignalLabelsPrimitive(fp);
    fp.series.attachPrimitive(this.labels);
  }
  setSignals(signals: readonly SignalMark[]): void { this.labels.setSignals(signals); }
  addSignal(s: SignalMark): void { this.labels.add(s); }
  /** SL / TP (and entry) price lines of the open trade; null clears them. */
  setOpenTrade(t: { side: 'buy' | 'sell'; entry: number; stop?: number; targets?: number[] } | null): void {
    for (const l of this.lines) this.fp.series.removePriceLine(l);
    this.lines = [];
    this.levels = [];
    this.texts?.setTags('trade', []);
    if (!t) { if (this.labels.keepInView.length) { this.labels.keepInView = []; this.labels.requestRedraw(); } return; }
    const th = this.fp.theme;
    // levels at the same price share one line and one title ("LONG · SL" after a move to break-even): two titles would overlap
    const levels: { price: number; color: string; title: string }[] = [];
    const add = (price: number, color: string, title: string): void => {
      const same = levels.find((l) => l.price === price);
      if (same) same.title += ` · ${title}`; else levels.push({ price, color, title });
    };
    add(t.entry, th.text, t.side === 'buy' ? 'LONG' : 'SHORT');
    if (t.stop !== undefined) add(t.stop, th.sell, 'SL');
    (t.targets ?? []).forEach((p, k) => add(p, th.buy, `TP${k + 1}`));
    // the chart's autoscale keeps every level of the open trade in view (a TP off-screen says nothing)
    this.labels.keepInView = levels.map((l) => l.price);
    this.labels.requestRedraw();
    for (const l of levels) this.lines.push(this.fp.series.createPriceLine({ price: l.price, color: l.color, title: this.texts ? '' : l.title, lineWidth: 1, lineStyle: 2, axisLabelVisible: true }));
    this.levels = levels.map((l) => ({ price: l.price, title: l.title }));
    // the trade's tags come first: they keep their levels, VWAP / σ tags move around them
    this.texts?.setTags('trade', levels.map((l, k) => ({ price: l.price, text: l.title, color: l.color, rank: k })));
  }
  get priceLines(): number { return this.lines.length; }
  /**
   * Where the price lines' titles sit (media px): with `texts`, its tags for these levels; else where
   * Lightweight Charts draws them, at the pane's right edge beside the axis (8 px per character +
   * padding is an upper bound for its 12 px font).
   */
  titleBoxes(): { x: number; y: number; w: number; h: number }[] {
    if (this.texts) return this.texts.tags.filter((t) => this.levels.some((l) => l.price === t.price && l.title === t.text));
    const w = this.fp.chart.timeScale().width();
    const out: { x: number; y: number; w: number; h: number }[] = [];
    for (const l of this.lines) {
      const o = l.options(), y = this.fp.series.priceToCoordinate(o.price);
      if (!o.title) continue;
      if (y === null) continue;
      const tw = o.title.length * 8 + 12;
      out.push({ x: w - tw, y: y - 10, w: tw, h: 20 });
    }
    return out;
  }
}

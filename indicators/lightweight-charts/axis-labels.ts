/**
 * Price-axis tick labels that keep clear of the axis' value labels, as TradingView draws its axes.
 * Lightweight Charts draws a scale's tick labels first and the last-value and price-line labels over
 * them, so half a number showed beside a label ("-200" half under "-227.47" on the CVD pane, "61640.00"
 * under the price's "61645.30"). Here a tick whose text a label would touch is left blank. The labels
 * counted: the last value of every visible series on the scale that shows one, and every price line
 * with an axis label.
 */
import type { BarPrice, IChartApi, ISeriesApi, ISeriesPrimitive, PriceFormatCustom, SeriesType, Time } from 'lightweight-charts';

/** at most `digits` decimals without trailing zeros, thousands as K, millions as M, billions as B */
export function compactNumber(v: number, digits = 2): string {
  const a = Math.abs(v), top = 1000 - 0.5 * 10 ** -digits; // the largest value that rounds below 1000
  const [n, unit] = a < top ? [a, ''] : a < top * 1e3 ? [a / 1e3, 'K'] : a < top * 1e6 ? [a / 1e6, 'M'] : [a / 1e9, 'B'];
  const s = String(Number(n.toFixed(digits)));
  return s === '0' ? '0' : `${v < 0 ? '-' : ''}${s}${unit}`;
}

export interface ClearOfLabelsOptions {
  /** the scale's numbers (default compactNumber with 2 decimals) */
  format?: (price: number) => string;
  /** the smallest price step (default 0.01) */
  minMove?: number;
}

/**
 * Give the series `priceFormat`, then `attach(series)`: the series' scale then draws no tick label under a
 * value label. Attached as a series primitive: each time Lightweight Charts updates the series' views
 * (new data, a pan, a price line, a resize: after the scale's autoscale) it checks whether another tick
 * came under a label and asks for the tick labels again (LWC rebuilds them only when the scale's range
 * changes, and a label can move without it: a live update, a pan with the scale held).
 */
export class ClearOfLabels implements ISeriesPrimitive<Time> {
  private series: ISeriesApi<SeriesType> | null = null;
  /** the ticks of the scale's last build, and which of them were left blank */
  private ticks: number[] = [];
  private blank = '';
  /** where the first and last of those ticks were when they were built (media px) */
  private tickY0: number | null = null;
  private tickY1: number | null = null;
  private asked = false;
  private due = false;
  private readonly format: (price: number) => string;
  private readonly minMove: number;
  constructor(private readonly chart: IChartApi, o: ClearOfLabelsOptions = {}) {
    this.format = o.format ?? ((p) => compactNumber(p));
    this.minMove = o.minMove ?? 0.01;
  }

  /** the series' `priceFormat`: `format`'s numbers, tick labels clear of the value labels */
  get priceFormat(): PriceFormatCustom {
    return { type: 'custom', minMove: this.minMove, formatter: (p) => this.format(p), tickmarksFormatter: (ps) => this.tickLabels(ps) };
  }
  /** the series whose scale is kept clear (it must carry `priceFormat`) */
  attach(series: ISeriesApi<SeriesType>): void {
    this.series = series;
    series.attachPrimitive(this);
  }
  /** Lightweight Charts updates the views many times a frame (16 on the workstation's price pane in a pan): check once, after them */
  updateAllViews(): void {
    if (this.due) return;
    this.due = true;
    queueMicrotask(() => { this.due = false; this.recheck(); });
  }

  private tickLabels(prices: BarPrice[]): string[] {
    this.ticks = prices.slice();
    this.tickY0 = prices.length ? this.series?.priceToCoordinate(prices[0]) ?? null : null;
    this.tickY1 = prices.length ? this.series?.priceToCoordinate(prices[prices.length - 1]) ?? null : null;
    const hit = this.covered(prices);
    this.blank = hit.join();
    return prices.map((p, i) => (hit[i] ? '' : this.format(p)));
  }

  /** the y of every value label on the series' scale (media px) */
  private labelYs(): number[] {
    const s = this.series!, scale = s.options().priceScaleId, ys: number[] = [];
    for (const x of s.getPane().getSeries()) {
      const o = x.options();
      if (o.priceScaleId !== scale || !o.visible) continue;
      const last = o.lastValueVisible ? x.lastValueData(false) : null;
      const add = (price: number): void => { const y = s.priceToCoordinate(price); if (y !== null) ys.push(y); };
      if (last && !last.noData) add(last.price);
      for (const l of x.priceLines()) { const lo = l.options(); if (lo.axisLabelVisible) add(lo.price); }
    }
    return ys;
  }

  /** which ticks a value label touches, in Lightweight Charts' geometry (media px) */
  private covered(prices: readonly number[]): boolean[] {
    if (!this.series) return prices.map(() => false);
    const s = this.series, fs = this.chart.options().layout.fontSize, h = s.getPane().getHeight();
    // a label: the font plus 2.5/12 of it above and below; one crossing the pane's top or bottom edge is drawn inside it
    const half = Math.floor((fs * 17) / 24);
    const ys = this.labelYs().map((y) => (y > -half && y < half ? half : y > h - half && y < h + half ? h - half : y));
    // a tick's text is a font high, centred on its price; 1 px kept between the two
    const clear = (fs * 17) / 24 + fs / 2 + 1;
    return prices.map((p) => { const t = s.priceToCoordinate(p); return t !== null && ys.some((y) => Math.abs(t - y) < clear); });
  }

  /** ask for the tick labels again when another tick is now under a label (once per change: after the current frame) */
  recheck(): void {
    if (!this.series || !this.ticks.length || this.asked) return;
    // the scale moved (a pan or a live update that autoscaled): Lightweight Charts builds the tick labels
    // again itself when it draws this frame, so there is nothing to ask; asking anyway cost every pan frame
    // a second full redraw of the chart
    const s = this.series, n = this.ticks.length;
    if (s.priceToCoordinate(this.ticks[0]) !== this.tickY0 || s.priceToCoordinate(this.ticks[n - 1]) !== this.tickY1) return;
    if (this.covered(this.ticks).join() === this.blank) return;
    this.asked = true;
    queueMicrotask(() => { this.asked = false; this.series?.priceScale().applyOptions({}); });
  }
}

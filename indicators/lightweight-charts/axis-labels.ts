/**
 * Price-axis tick labels that keep clear of a series' last-value label, as TradingView draws its axes.
 * Lightweight Charts draws the tick labels first and the last-value label over them, so half a number
 * showed beside it ("-200" half under "-227.47" on the CVD pane). Here a tick whose text the label
 * would touch is left blank. Used by the CVD and Δ panes, whose price scales carry one series each;
 * their numbers are compact ("-227.47", "457.22K", "2.12M").
 */
import type { BarPrice, IChartApi, ISeriesApi, PriceFormatCustom, SeriesType } from 'lightweight-charts';

/** at most `digits` decimals without trailing zeros, thousands as K, millions as M, billions as B */
export function compactNumber(v: number, digits = 2): string {
  const a = Math.abs(v), top = 1000 - 0.5 * 10 ** -digits; // the largest value that rounds below 1000
  const [n, unit] = a < top ? [a, ''] : a < top * 1e3 ? [a / 1e3, 'K'] : a < top * 1e6 ? [a / 1e6, 'M'] : [a / 1e9, 'B'];
  const s = String(Number(n.toFixed(digits)));
  return s === '0' ? '0' : `${v < 0 ? '-' : ''}${s}${unit}`;
}

export class ClearOfLastValue {
  private series: ISeriesApi<SeriesType> | null = null;
  /** the ticks of the scale's last build, and which of them were left blank */
  private ticks: number[] = [];
  private blank = '';
  constructor(private readonly chart: IChartApi, private readonly digits = 2) {}

  /** the series' `priceFormat`: compact numbers, tick labels clear of the last-value label */
  get priceFormat(): PriceFormatCustom {
    return { type: 'custom', minMove: 10 ** -this.digits, formatter: (p) => compactNumber(p, this.digits), tickmarksFormatter: (ps) => this.tickLabels(ps) };
  }
  /** the series whose last value is kept clear (created with `priceFormat`) */
  attach(series: ISeriesApi<SeriesType>): void { this.series = series; }

  private tickLabels(prices: BarPrice[]): string[] {
    this.ticks = prices.slice();
    const hit = this.covered(prices);
    this.blank = hit.join();
    return prices.map((p, i) => (hit[i] ? '' : compactNumber(p, this.digits)));
  }

  /** which ticks the last-value label touches, in Lightweight Charts' geometry (media px) */
  private covered(prices: readonly number[]): boolean[] {
    const s = this.series, none = prices.map(() => false);
    if (!s || !s.options().visible || !s.options().lastValueVisible) return none;
    const last = s.lastValueData(false);
    const at = last.noData ? null : s.priceToCoordinate(last.price);
    if (at === null) return none;
    let y: number = at;
    // the label: the font plus 2.5/12 of it above and below; one crossing the pane's top or bottom edge is drawn inside it
    const fs = this.chart.options().layout.fontSize, half = Math.floor((fs * 17) / 24), h = s.getPane().getHeight();
    if (y > -half && y < half) y = half;
    if (y > h - half && y < h + half) y = h - half;
    // a tick's text is a font high, centred on its price; 1 px kept between the two
    const clear = (fs * 17) / 24 + fs / 2 + 1;
    return prices.map((p) => { const t = s.priceToCoordinate(p); return t !== null && Math.abs(t - y) < clear; });
  }

  /**
   * After the last value or the view moved: Lightweight Charts rebuilds the tick labels only when the
   * scale's range changes, so when another tick is now under the label, ask for a rebuild.
   */
  recheck(): void {
    if (this.series && this.ticks.length && this.covered(this.ticks).join() !== this.blank) this.series.priceScale().applyOptions({});
  }
}

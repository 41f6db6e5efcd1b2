/**
 * Lightweight Charts v5 footprint custom series. Data items are `{ time, i }` (i = index into the
 * controller's prepared series; items without rows are whitespace). The view draws in bitmap space
 * through the host-independent renderer, visiting only `visibleRange`; everything per bar is
 * prepared once when data changes (setBars / update), never in draw.
 *
 * The chart holds a window of the bars, not all of them: Lightweight Charts maps every item of a
 * custom series to a new object on every frame and re-walks every item of every series on each data
 * change, so 50,000 bars cost tens of ms per frame. The controller keeps all bars (prepared, by
 * index) and gives the series only the bars around the visible range (`window`), growing it to the
 * left as the user pans into history (prepending keeps Lightweight Charts' right offset, so a drag in
 * progress does not jump) and re-centring it when no pointer is down.
 */
import type {
  CustomData, CustomSeriesOptions, ICustomSeriesPaneRenderer, ICustomSeriesPaneView, IChartApi, ISeriesApi, PaneRendererCustomData,
  PriceToCoordinateConverter, Time, UTCTimestamp, CustomSeriesWhitespaceData, CustomSeriesHitTestResult, Coordinate, SeriesType,
} from 'lightweight-charts';
import type { CanvasRenderingTarget2D } from 'fancy-canvas';
import type { Ctx2D, FootprintBarData, PreparedBar } from '../render/types.js';
import { prepareBar, prepareSeries, stackedZones, type PrepareOptions, type PreparedSeries } from '../render/prepare.js';
import { drawFootprint, newStats, ZoneIndex, DEFAULT_FOOTPRINT, type FootprintOptions, type RenderStats, type RenderView } from '../render/footprint.js';
import { themeByName, type Theme } from '../render/theme.js';

export interface FootprintItem extends CustomData<Time> { time: UTCTimestamp; i: number }

export interface FootprintSeriesOptions extends CustomSeriesOptions {
  footprint: Partial<FootprintOptions>;
  theme: 'dark' | 'light';
}

export interface RowHit { time: number; index: number; price: number; bid: number; ask: number; delta: number; volume: number; poc: boolean; imbalance: 'buy' | 'sell' | 'both' | null }

/** The pane view handed to `chart.addCustomSeries`. */
export class FootprintPaneView implements ICustomSeriesPaneView<Time, FootprintItem, FootprintSeriesOptions> {
  private data: PaneRendererCustomData<Time, FootprintItem> | null = null;
  private opts: FootprintSeriesOptions | null = null;
  readonly stats: RenderStats = newStats();
  /** draw durations (ms) of recent frames, newest last (bounded) */
  readonly frameMs: number[] = [];
  constructor(private readonly ctl: FootprintController) {}

  renderer(): ICustomSeriesPaneRenderer {
    return {
      draw: (target: CanvasRenderingTarget2D, pc: PriceToCoordinateConverter) => this.draw(target, pc),
      hitTest: (x: Coordinate, y: Coordinate, pc: PriceToCoordinateConverter): CustomSeriesHitTestResult | null => {
        const hit = this.ctl.rowAtPixel(x, y, pc);
        return hit ? { distance: 0, objectId: `${hit.time}:${hit.price}`, type: 'custom', hitTestData: hit } : null;
      },
    };
  }

  update(data: PaneRendererCustomData<Time, FootprintItem>, options: FootprintSeriesOptions): void { this.data = data; this.opts = options; }

  priceValueBuilder(item: FootprintItem): number[] {
    const p = this.ctl.prepared.bars[item.i];
    if (!p || !p.n) return [];
    const rs = p.data.rowSize;
    return [Math.max(p.data.high, (p.row0 + p.n) * rs), Math.min(p.data.low, p.row0 * rs), p.data.close];
  }

  isWhitespace(item: FootprintItem | CustomSeriesWhitespaceData<Time>): item is CustomSeriesWhitespaceData<Time> {
    const i = (item as FootprintItem).i;
    return i === undefined || !(this.ctl.prepared.bars[i]?.n > 0);
  }

  defaultOptions(): FootprintSeriesOptions {
    return { ...(this.ctl.lwcDefaults as CustomSeriesOptions), footprint: {}, theme: 'dark', priceLineVisible: false, lastValueVisible: true } as FootprintSeriesOptions;
  }

  private draw(target: CanvasRenderingTarget2D, pc: PriceToCoordinateConverter): void {
    const d = this.data;
    if (!d || !d.visibleRange || !d.bars.length) return;
    const t0 = performance.now();
    target.useBitmapCoordinateSpace((scope) => {
      const bars = d.bars;
      const from = Math.max(0, d.visibleRange!.from), to = Math.min(bars.length - 1, d.visibleRange!.to);
      if (to < from) return;
      const sp = d.barSpacing * (d.conflationFactor || 1);
      // x by the chart's own placement of each bar's time: the chart may hold other series with extra or
      // missing timestamps, so footprint index k is not logical index k (nor first.x + k × spacing)
      const i0 = bars[from].originalData.i, i1 = bars[to].originalData.i;
      const xs = new Float64Array(i1 - i0 + 1).fill(NaN);
      for (let j = from; j <= to; j++) xs[bars[j].originalData.i - i0] = bars[j].x;
      const view: RenderView = {
        hpr: scope.horizontalPixelRatio, vpr: scope.verticalPixelRatio, width: scope.mediaSize.width, height: scope.mediaSize.height,
        barSpacing: sp, from: i0, to: i1,
        priceToY: (p: number) => pc(p),
        xOf: (k: number) => (k >= i0 && k <= i1 ? xs[k - i0] : this.ctl.xOfIndex(k)),
      };
      const o = { ...DEFAULT_FOOTPRINT, ...(this.opts?.footprint ?? {}), ...this.ctl.footprintOptions };
      drawFootprint(scope.context as unknown as Ctx2D, this.ctl.prepared, view, o, this.ctl.theme, this.ctl.zoneIndex, this.stats);
      this.ctl.lastView = view;
    });
    const ms = performance.now() - t0;
    this.stats.ms = ms;
    this.frameMs.push(ms);
    if (this.frameMs.length > 2000) this.frameMs.splice(0, 1000);
  }
}

export interface LwcRuntime {
  customSeriesDefaultOptions?: CustomSeriesOptions;
}

export interface FootprintControllerOptions {
  footprint?: Partial<FootprintOptions>;
  prepare?: Partial<PrepareOptions>;
  theme?: 'dark' | 'light' | Theme;
  paneIndex?: number;
  seriesOptions?: Record<string, unknown>;
  /**
   * Bars given to the chart at a time: the window grows by `chunk` bars when the visible range comes
   * within a margin of its edge and is cut back to the visible range ± `chunk` when it exceeds `max`.
   * Series of up to `max` bars are held whole. `false` gives the chart every bar (O(bars) per frame).
   */
  window?: { chunk?: number; max?: number } | false;
}

/** The bars the chart holds: indexes [from, to) of `FootprintController.bars`. */
export interface BarWindow { from: number; to: number }

type Listener = () => void;

/**
 * Owns the footprint data: prepared bars, stacked-imbalance zone index, the custom series. Use
 * `setBars` for history and `update` for realtime bars (same time = replace the last, later = append;
 * older bars are ignored, so `Cannot update oldest data` never happens).
 */
export class FootprintController {
  prepared: PreparedSeries = { bars: [], zones: [], maxBarVolume: 0, maxBarDelta: 0 };
  zoneIndex: ZoneIndex = new ZoneIndex(this.prepared.zones, 0);
  bars: FootprintBarData[] = [];
  readonly view: FootprintPaneView;
  readonly series: ISeriesApi<SeriesType>;
  footprintOptions: Partial<FootprintOptions>;
  theme: Theme;
  lastView: RenderView | null = null;
  readonly lwcDefaults: CustomSeriesOptions | undefined;
  private readonly prepOpts: Partial<PrepareOptions>;
  private readonly listeners = new Set<Listener>();
  private readonly windowListeners = new Set<(w: BarWindow) => void>();
  /** bar times in ms (ascending) for time → index lookups */
  times: number[] = [];
  /** the bars the chart holds (see `FootprintControllerOptions.window`) */
  window: BarWindow = { from: 0, to: 0 };
  /** how many times the window was re-set (bench / tests) */
  windowMoves = 0;
  private readonly chunk: number;
  private readonly maxWindow: number;
  private pointerDown = false;
  private busy = false;
  private pending = false;

  constructor(readonly chart: IChartApi, lwc: LwcRuntime, o: FootprintControllerOptions = {}) {
    this.lwcDefaults = lwc.customSeriesDefaultOptions;
    this.footprintOptions = o.footprint ?? {};
    this.prepOpts = o.prepare ?? {};
    this.theme = typeof o.theme === 'object' ? o.theme : themeByName(o.theme);
    this.view = new FootprintPaneView(this);
    this.series = chart.addCustomSeries(this.view, { ...(o.seriesOptions ?? {}) } as never, o.paneIndex ?? 0) as unknown as ISeriesApi<SeriesType>;
    const w = o.window === false ? { chunk: Infinity, max: Infinity } : (o.window ?? {});
    this.chunk = Math.max(50, w.chunk ?? 1000);
    this.maxWindow = Math.max(2 * this.chunk, w.max ?? 4000);
    if (o.window !== false) {
      chart.timeScale().subscribeVisibleLogicalRangeChange(() => this.schedule());
      // a drag in progress must only see bars prepended (see the header); the rest waits for pointer up
      const el = chart.chartElement();
      el.addEventListener('pointerdown', () => { this.pointerDown = true; }, { capture: true });
      const up = (): void => { if (this.pointerDown) { this.pointerDown = false; this.schedule(); } };
      el.ownerDocument.addEventListener('pointerup', up, { capture: true });
      el.ownerDocument.addEventListener('pointercancel', up, { capture: true });
    }
  }

  /** The bar the last data change touched (`update`), or -1 when every bar may have changed (`setBars`). */
  lastChange = -1;
  /** Called after every data change (primitives recompute their geometry here, not per frame; `lastChange` says which bar). */
  onData(fn: Listener): () => void { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  private changed(): void { for (const fn of this.listeners) fn(); }
  /** Called when the chart is given another window of bars (companion series re-set their data to the same bars). */
  onWindow(fn: (w: BarWindow) => void): () => void { this.windowListeners.add(fn); return () => this.windowListeners.delete(fn); }
  /** true when the chart holds the newest bar (live updates go to the chart) */
  get holdsLast(): boolean { return this.window.to === this.bars.length; }
  /** The chart's logical index of bar k (k − window.from; any k, held or not). */
  logicalOf(k: number): number { return k - this.window.from; }

  /** Show bars [from, to] (indexes of `bars`, any part of the history): moves the window there first. */
  showBars(from: number, to: number): void {
    const n = this.bars.length;
    if (!n) return;
    const span = Math.max(1, to - from);
    const a = Math.max(0, Math.floor(from - span - this.chunk)), b = Math.min(n, Math.ceil(to + span + this.chunk));
    if (a < this.window.from || b > this.window.to || this.window.to - this.window.from > this.maxWindow) this.setWindow(a, n - b < this.chunk ? n : b);
    this.chart.timeScale().setVisibleLogicalRange({ from: from - this.window.from, to: to - this.window.from });
  }

  private schedule(): void {
    if (this.pending || this.busy) return;
    this.pending = true;
    // after Lightweight Charts finishes the scroll that called us, before the frame is drawn
    queueMicrotask(() => { this.pending = false; this.reconcile(); });
  }

  /** Grow / move the window so the visible range keeps a margin of held bars on both sides. */
  private reconcile(): void {
    const n = this.bars.length, w = this.window;
    if (!n || (w.from === 0 && w.to === n)) return;
    const lr = this.chart.timeScale().getVisibleLogicalRange();
    if (!lr) return;
    const vis = Math.max(1, lr.to - lr.from), margin = Math.max(vis, this.chunk / 4);
    const g0 = w.from + lr.from, g1 = w.from + lr.to;
    let from = w.from, to = w.to;
    if (g0 - w.from < margin && w.from > 0) from = Math.max(0, Math.floor(g0 - margin - this.chunk));
    if (!this.pointerDown) {
      if (w.to - g1 < margin && w.to < n) to = Math.min(n, Math.ceil(g1 + margin + this.chunk));
      if (to - from > this.maxWindow + vis) {
        from = Math.max(from, Math.floor(g0 - margin - this.chunk));
        to = Math.min(to, Math.ceil(g1 + margin + this.chunk));
      }
      if (n - to < this.chunk) to = n;
    }
    if (from !== w.from || to !== w.to) this.setWindow(from, to, lr);
  }

  /**
   * Give the chart bars [from, to). When the right end changes the visible bars are kept in place by
   * logical range (`keep`); a pure prepend keeps them by itself.
   */
  private setWindow(from: number, to: number, keep?: { from: number; to: number } | null): void {
    if (this.busy) return;
    this.busy = true;
    try {
      const shift = from - this.window.from, rightMoved = to !== this.window.to;
      this.window = { from, to };
      this.windowMoves++;
      this.series.setData(this.items(from, to) as never);
      for (const fn of this.windowListeners) fn(this.window);
      if (keep && rightMoved) this.chart.timeScale().setVisibleLogicalRange({ from: keep.from - shift, to: keep.to - shift });
    } finally { this.busy = false; }
  }

  private items(from: number, to: number): (FootprintItem | CustomSeriesWhitespaceData<Time>)[] {
    const out: (FootprintItem | CustomSeriesWhitespaceData<Time>)[] = new Array(to - from);
    for (let i = from; i < to; i++) out[i - from] = this.item(this.bars[i], i);
    return out;
  }

  setBars(bars: readonly FootprintBarData[]): void {
    const sorted: FootprintBarData[] = [];
    for (const b of [...bars].sort((a, b) => a.time - b.time)) {
      if (sorted.length && sorted[sorted.length - 1].time === b.time) sorted[sorted.length - 1] = b; else sorted.push(b);
    }
    this.bars = sorted;
    this.prepared = prepareSeries(sorted, this.prepOpts);
    this.times = sorted.map((b) => b.time);
    this.zoneIndex = new ZoneIndex(this.prepared.zones, sorted.length);
    const n = sorted.length;
    // at the live end: all of a small series, else the newest 2 × chunk bars
    this.setWindow(n <= this.maxWindow ? 0 : n - 2 * this.chunk, n);
    this.lastChange = -1;
    this.changed();
  }

  private item(b: FootprintBarData, i: number): FootprintItem | CustomSeriesWhitespaceData<Time> {
    return b.rows.length ? { time: Math.floor(b.time / 1000) as UTCTimestamp, i } : ({ time: Math.floor(b.time / 1000) as UTCTimestamp, i } as FootprintItem);
  }

  /** Realtime bar: replace the last (same time) or append (later); older times are ignored (returns false). */
  update(b: FootprintBarData): boolean {
    const n = this.bars.length;
    const last = n ? this.bars[n - 1].time : -Infinity;
    if (b.time < last) return false;
    const p = prepareBar(b, this.prepOpts);
    let i: number;
    if (b.time === last) { i = n - 1; this.bars[i] = b; this.prepared.bars[i] = p; }
    else { i = n; this.bars.push(b); this.prepared.bars.push(p); this.times.push(b.time); }
    if (b.volume > this.prepared.maxBarVolume) this.prepared.maxBarVolume = b.volume;
    this.refreshZones(i);
    // the chart holds the newest bar (following live): append / replace there; else the bar waits in
    // `bars` until the window reaches it
    if (this.window.to === n) {
      if (i === n) this.window = { from: this.window.from, to: n + 1 };
      this.series.update(this.item(b, i) as never);
      if (this.window.to - this.window.from > this.maxWindow + this.chunk) this.schedule();
    }
    this.lastChange = i;
    this.changed();
    return true;
  }

  /**
   * Zones after a change at bar i (the newest or a new one): drop zones created at i, reopen zones closed
   * at i, re-apply bar i. Incremental (ZoneIndex.refreshLast): a live update costs O(open zones), not
   * O(every zone of the series) as a rebuild did on each update.
   */
  private refreshZones(i: number): void {
    const p = this.prepared.bars[i];
    const span = p.n ? { lo: p.data.low, hi: p.data.high + p.data.rowSize * 0.5 } : null;
    this.zoneIndex.refreshLast(i, span, p.n ? stackedZones(p, i, this.prepOpts.stackedMinRows ?? 3) : []);
  }

  setFootprintOptions(o: Partial<FootprintOptions>): void {
    this.footprintOptions = { ...this.footprintOptions, ...o };
    this.series.applyOptions({} as never);
    this.chart.applyOptions({});
  }

  setTheme(t: 'dark' | 'light'): void { this.theme = themeByName(t); this.series.applyOptions({} as never); }

  /** Index of the bar containing time `ms` (the last bar starting at or before it), or -1. */
  indexAt(ms: number): number {
    let lo = 0, hi = this.times.length - 1, r = -1;
    while (lo <= hi) { const m = (lo + hi) >> 1; if (this.times[m] <= ms) { r = m; lo = m + 1; } else hi = m - 1; }
    return r;
  }

  /** Index of the bar starting exactly in the chart time slot `t` (seconds), or -1. */
  indexOfSlot(t: number): number {
    const i = this.indexAt(t * 1000 + 999);
    return i >= 0 && Math.floor(this.times[i] / 1000) === t ? i : -1;
  }

  /**
   * Media x of footprint bar k's centre (off-screen bars too), NaN when the chart does not place it.
   * Bars outside the held window are placed by logical index from the window's edge bar.
   */
  xOfIndex(k: number): number {
    const t = this.times[k];
    if (t === undefined) return NaN;
    const w = this.window, ts = this.chart.timeScale();
    if (k < w.from || k >= w.to) {
      const e = k < w.from ? w.from : w.to - 1;
      const xe = this.times[e] === undefined ? null : ts.timeToCoordinate(Math.floor(this.times[e] / 1000) as UTCTimestamp);
      return xe === null ? NaN : xe + (k - e) * ts.options().barSpacing;
    }
    const x = ts.timeToCoordinate(Math.floor(t / 1000) as UTCTimestamp);
    return x === null ? NaN : x;
  }

  /**
   * Media x of a time: inside the bar that contains it, interpolated between bar starts; before the first
   * bar, that bar's left edge. Works for times that are not bar starts (a session that opened without a
   * trade, a snapshot between bars). null when there are no bars or the chart does not place them.
   */
  xOfTime(ms: number): number | null {
    if (!this.times.length) return null;
    const sp = this.chart.timeScale().options().barSpacing;
    const i = this.indexAt(ms);
    if (i < 0) { const x = this.xOfIndex(0); return Number.isNaN(x) ? null : x - sp / 2; }
    const x = this.xOfIndex(i);
    if (Number.isNaN(x)) return null;
    const t0 = this.times[i], t1 = this.times[i + 1];
    const x1 = t1 !== undefined ? this.xOfIndex(i + 1) : NaN;
    const w = Number.isNaN(x1) ? sp : x1 - x;
    const frac = t1 !== undefined && t1 > t0 ? Math.min(1, (ms - t0) / (t1 - t0)) : 0;
    return x - sp / 2 + frac * w;
  }

  /** The footprint row under a media-space point (for tooltips). */
  rowAt(x: number, y: number): RowHit | null {
    return this.rowAtPixel(x, y, (p: number) => this.series.priceToCoordinate(p));
  }

  rowAtPixel(x: number, y: number, pc: (p: number) => number | null): RowHit | null {
    // by time: the chart's slot under x may hold another series' timestamp (then there is no cell)
    const t = this.chart.timeScale().coordinateToTime(x);
    if (t === null || typeof t !== 'number') return null;
    const idx = this.indexOfSlot(t);
    if (idx < 0) return null;
    const p: PreparedBar | undefined = this.prepared.bars[idx];
    if (!p || !p.n) return null;
    const price = this.series.coordinateToPrice(y);
    if (price === null) return null;
    const rs = p.data.rowSize;
    const k = Math.floor(price / rs + 1e-9) - p.row0;
    if (k < 0 || k >= p.n) return null;
    const top = pc((p.row0 + k + 1) * rs), bottom = pc((p.row0 + k) * rs);
    if (top === null || bottom === null) return null;
    const bid = p.bid[k], ask = p.ask[k];
    const f = p.imb[k];
    return { time: p.data.time, index: idx, price: (p.row0 + k) * rs, bid, ask, delta: ask - bid, volume: ask + bid, poc: k === p.poc, imbalance: f === 3 ? 'both' : f === 1 ? 'buy' : f === 2 ? 'sell' : null };
  }
}

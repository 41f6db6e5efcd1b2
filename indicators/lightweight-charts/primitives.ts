/**
 * Series primitives for Lightweight Charts v5: volume profiles (session profiles anchored to their
 * sessions, a visible-range profile recomputed from the footprint rows when the visible range or
 * the data changes, a composite on the right edge) and a depth heatmap from the book's depth
 * history. Views return the same array instance; geometry is recomputed on data/range changes only.
 */
import type { AutoscaleInfo, IChartApi, IPrimitivePaneRenderer, IPrimitivePaneView, ISeriesApi, ISeriesPrimitive, PrimitiveHoveredItem, SeriesAttachedParameter, SeriesType, Time, UTCTimestamp, IRange } from 'lightweight-charts';
import type { CanvasRenderingTarget2D } from 'fancy-canvas';
import type { Ctx2D, NakedSessionPoc, ProfileData } from '../render/types.js';
import { drawProfile, type ProfileOptions } from '../render/profile.js';
import { profileFromBars } from '../render/prepare.js';
import type { Theme } from '../render/theme.js';
import type { FootprintController } from './footprint-series.js';
import type { PaneTexts } from './pane-texts.js';

export interface VolumeProfileOptions {
  /** session profiles anchored at their session start (start/end ms set) */
  sessions: ProfileData[];
  /** a profile on the right edge (e.g. composite) */
  composite: ProfileData | null;
  /** recompute a visible-range profile from the footprint rows on pan/zoom */
  visibleRange: boolean;
  /** max histogram length, media px, for right-edge profiles */
  width: number;
  /** keep `width` (+ 8) px free right of the newest bar (`timeScale.rightOffsetPixels`), so the right-edge profile never covers bars */
  reserveSpace: boolean;
  /** autoscale includes the value areas (VAL…VAH) of the right-edge profile and of session profiles in view */
  autoscale: boolean;
  opacity: number;
  profile: Partial<ProfileOptions>;
}

/** A profile row under the pointer (`VolumeProfilePrimitive.rowAt`, `hitTest`). */
export interface ProfileHit { profile: 'right' | 'session'; price: number; volume: number; buy: number; sell: number; poc: boolean; inValueArea: boolean }

abstract class Base implements ISeriesPrimitive<Time> {
  protected chart: IChartApi | null = null;
  protected series: ISeriesApi<SeriesType> | null = null;
  protected requestUpdate: (() => void) | null = null;
  protected readonly views: IPrimitivePaneView[];
  constructor(zOrder: 'bottom' | 'normal' | 'top') {
    const renderer: IPrimitivePaneRenderer = { draw: (t: CanvasRenderingTarget2D) => this.draw(t) };
    this.views = [{ renderer: () => renderer, zOrder: () => zOrder }];
  }
  attached(p: SeriesAttachedParameter<Time>): void { this.chart = p.chart; this.series = p.series; this.requestUpdate = p.requestUpdate; this.onAttached(); }
  detached(): void { this.onDetached(); this.chart = null; this.series = null; this.requestUpdate = null; }
  paneViews(): readonly IPrimitivePaneView[] { return this.views; }
  protected onAttached(): void {}
  protected onDetached(): void {}
  protected abstract draw(t: CanvasRenderingTarget2D): void;
}

export class VolumeProfilePrimitive extends Base {
  private o: VolumeProfileOptions;
  private visible: ProfileData | null = null;
  private range: { from: number; to: number } | null = null;
  /** the visible time range (seconds), mapped to footprint bars by time */
  private timeRange: IRange<Time> | null = null;
  private unsub: (() => void) | null = null;
  private readonly onRange = (r: IRange<Time> | null): void => { this.timeRange = r; if (r) this.recomputeTimes(r); };
  /** where each profile was drawn last frame (media px), for hitTest */
  private placed: { p: ProfileData; x: number; width: number; dir: 1 | -1; kind: 'right' | 'session' }[] = [];
  /** recomputations of the visible-range profile (for tests) */
  recomputations = 0;
  /** the texts ("POC") drawn last frame, media px */
  textBoxes: { x: number; y: number; w: number; h: number }[] = [];
  /** earlier sessions' naked-POC rays drawn last frame (media px; `touched` = index of the bar that ended it, -1 none) */
  nakedRays: { price: number; time: number; from: number; to: number; touched: number }[] = [];
  /** the pane's shared text layout: the "POC" texts keep clear of its tags, the bar bodies and each other (null: drawn at their first spot) */
  texts: PaneTexts | null = null;
  private paneW = 0;
  private paneH = 0;
  private readonly placeText = (t: string, c: { x: number; y: number; w: number; h: number }[]): number => (this.texts ? this.texts.place(t, c, this.paneW, this.paneH) : 0);
  /** per naked POC: the first footprint bar after its session that traded its row (-1: none); reset with the data */
  private touches = new WeakMap<NakedSessionPoc, number>();

  constructor(private readonly fp: FootprintController, o: Partial<VolumeProfileOptions> = {}) {
    super('normal');
    this.o = { sessions: [], composite: null, visibleRange: true, width: 120, reserveSpace: true, autoscale: true, opacity: 0.85, profile: {}, ...o };
  }

  get theme(): Theme { return this.fp.theme; }
  get visibleProfile(): ProfileData | null { return this.visible; }

  applyOptions(o: Partial<VolumeProfileOptions>): void {
    this.o = { ...this.o, ...o };
    this.reserve();
    // the visible-range profile depends on the bars and `visibleRange` only: a new session profile (each
    // `profile` stream update) leaves it as it is
    if (this.timeRange && 'visibleRange' in o) this.recomputeTimes(this.timeRange, true);
    this.requestUpdate?.();
  }

  protected override onAttached(): void {
    this.chart!.timeScale().subscribeVisibleTimeRangeChange(this.onRange);
    const off = this.fp.onData(() => {
      this.touches = new WeakMap();
      if (!this.timeRange) { this.onRange(this.chart?.timeScale().getVisibleRange() ?? null); return; }
      // a live bar outside the visible time range changes neither the range's bars nor their rows (the
      // visible-range profile): skip the O(visible rows) rebuild, which ran on every stream update
      const t = this.fp.lastChange >= 0 ? this.fp.times[this.fp.lastChange] : undefined;
      if (t !== undefined && this.range && (t < (this.timeRange.from as number) * 1000 || t > (this.timeRange.to as number) * 1000 + 999)) return;
      this.recomputeTimes(this.timeRange, true);
    });
    this.unsub = () => { off(); this.chart?.timeScale().unsubscribeVisibleTimeRangeChange(this.onRange); };
    this.reserve();
    this.onRange(this.chart!.timeScale().getVisibleRange());
  }
  protected override onDetached(): void { this.unsub?.(); }

  /** Free space right of the newest bar for the right-edge profile (never shrinks a larger user offset). */
  private reserve(): void {
    if (!this.chart || !this.o.reserveSpace) return;
    const ts = this.chart.timeScale();
    const o = ts.options();
    const need = this.o.width + 8;
    const have = Math.max(o.rightOffsetPixels ?? 0, o.rightOffset * o.barSpacing);
    if (have < need) ts.applyOptions({ rightOffsetPixels: need });
  }

  /** Visible footprint bars by time: [first bar starting at/after `from`, last bar starting at/before `to`]. */
  private recomputeTimes(r: IRange<Time>, force = false): void {
    const a = (r.from as number) * 1000, b = (r.to as number) * 1000 + 999;
    const to = this.fp.indexAt(b);
    const before = this.fp.indexAt(a - 1);
    this.recompute(before + 1, to, force);
  }

  private recompute(from: number, to: number, force = false): void {
    const f = Math.max(0, from), t = Math.min(this.fp.prepared.bars.length, to + 1);
    if (!force && this.range && this.range.from === f && this.range.to === t) return;
    this.range = { from: f, to: t };
    if (!this.o.visibleRange) { this.visible = null; return; }
    this.visible = profileFromBars(this.fp.prepared.bars, f, t);
    this.recomputations++;
  }

  /** Index of the first loaded bar after the POC's session whose range reaches its row [price, price + rowSize), −1 when none. */
  private touchIndex(n: NakedSessionPoc, rowSize: number): number {
    let k = this.touches.get(n);
    if (k !== undefined) return k;
    k = -1;
    const bars = this.fp.prepared.bars;
    if (n.end != null) {
      for (let i = this.fp.indexAt(n.end - 1) + 1; i < bars.length; i++) {
        const d = bars[i].data;
        if (d.volume > 0 && d.low < n.price + rowSize && d.high >= n.price) { k = i; break; }
      }
    }
    this.touches.set(n, k);
    return k;
  }

  protected draw(target: CanvasRenderingTarget2D): void {
    const s = this.series, ch = this.chart;
    if (!s || !ch) return;
    target.useBitmapCoordinateSpace((scope) => {
      const ctx = scope.context as unknown as Ctx2D;
      const view = { hpr: scope.horizontalPixelRatio, vpr: scope.verticalPixelRatio, width: scope.mediaSize.width, height: scope.mediaSize.height, priceToY: (p: number) => s.priceToCoordinate(p) };
      const po = { ...this.o.profile, opacity: this.o.opacity };
      const placed: typeof this.placed = [];
      const boxes: typeof this.textBoxes = [];
      const rays: typeof this.nakedRays = [];
      const W = scope.mediaSize.width;
      this.paneW = W; this.paneH = scope.mediaSize.height;
      for (const p of this.o.sessions) {
        if (p.start == null) continue;
        // by time, not by bar: a session whose start is not a loaded bar is still placed
        const x0 = this.fp.xOfTime(p.start);
        const lastBar = p.end != null ? this.fp.indexAt(p.end - 1) : -1;
        const xe = p.end != null && lastBar >= 0 && this.fp.times[lastBar] >= p.start ? this.fp.xOfIndex(lastBar) : null;
        if (x0 === null) continue;
        const x1 = xe === null || Number.isNaN(xe) ? scope.mediaSize.width : xe;
        if (x1 < 0 || x0 > scope.mediaSize.width) continue;
        const w = Math.max(10, (x1 - x0) * 0.6);
        // the "POC" label right of the session's last bar, never over its cell numbers
        const half = ((ch.timeScale().options().barSpacing) * 0.5) + 2;
        // an earlier session's naked POC: a ray from its own session's start to the bar that traded it, else the right edge
        const nakedRay = (n: NakedSessionPoc): { from: number; to: number } | null => {
          const from = this.fp.xOfTime(n.time);
          const touched = this.touchIndex(n, p.rowSize);
          const to = touched >= 0 ? this.fp.xOfIndex(touched) : W;
          if (from === null || Number.isNaN(to) || to < 0 || from > W) return null;
          rays.push({ price: n.price, time: n.time, from, to, touched });
          return { from, to };
        };
        boxes.push(...drawProfile(ctx, p, view, { x: x0, width: w, lineFrom: x0, lineTo: x1, nakedRay, labelFrom: xe === null || Number.isNaN(xe) ? undefined : x1 + half, placeText: this.placeText }, this.theme, { ...po, opacity: 0.45 }).boxes);
        placed.push({ p, x: x0, width: w, dir: 1, kind: 'session' });
      }
      const right = this.visible ?? this.o.composite;
      if (right) {
        boxes.push(...drawProfile(ctx, right, view, { x: W, width: this.o.width, direction: 'left', lineFrom: W - this.o.width, lineTo: W, rayFrom: W - this.o.width, placeText: this.placeText }, this.theme, po).boxes);
        placed.push({ p: right, x: W, width: this.o.width, dir: -1, kind: 'right' });
      }
      this.placed = placed;
      this.textBoxes = boxes;
      this.nakedRays = rays;
    });
  }

  /** Autoscale: the value areas of the right-edge profile and of the session profiles overlapping the visible range. */
  autoscaleInfo(): AutoscaleInfo | null {
    if (!this.o.autoscale) return null;
    let lo = Infinity, hi = -Infinity;
    const add = (p: ProfileData | null): void => {
      if (!p || p.val === null || p.vah === null) return;
      if (p.val < lo) lo = p.val;
      if (p.vah + p.rowSize > hi) hi = p.vah + p.rowSize;
    };
    add(this.visible ?? this.o.composite);
    const r = this.timeRange;
    if (r) {
      const a = (r.from as number) * 1000, b = (r.to as number) * 1000 + 999;
      for (const p of this.o.sessions) if (p.start != null && p.start <= b && (p.end == null || p.end > a)) add(p);
    }
    return hi > lo ? { priceRange: { minValue: lo, maxValue: hi } } : null;
  }

  /** The profile row under a media-space point (right-edge or session profile), or null. */
  rowAt(x: number, y: number): ProfileHit | null {
    const s = this.series;
    if (!s) return null;
    const price = s.coordinateToPrice(y);
    if (price === null) return null;
    for (let k = this.placed.length - 1; k >= 0; k--) {
      const { p, x: x0, width, dir, kind } = this.placed[k];
      const a = dir > 0 ? x0 : x0 - width, b = dir > 0 ? x0 + width : x0;
      if (x < a || x > b || !(p.rowSize > 0)) continue;
      const row = Math.floor((price as number) / p.rowSize + 1e-9) * p.rowSize;
      const r = p.rows.find((q) => Math.abs(q.price - row) < p.rowSize * 1e-6);
      if (!r || !(r.volume > 0)) continue;
      const inVa = p.val !== null && p.vah !== null && r.price >= p.val - 1e-9 && r.price <= p.vah + 1e-9;
      return { profile: kind, price: r.price, volume: r.volume, buy: r.buy, sell: r.sell, poc: p.poc !== null && Math.abs(p.poc - r.price) < p.rowSize * 1e-6, inValueArea: inVa };
    }
    return null;
  }

  hitTest(x: number, y: number): PrimitiveHoveredItem | null {
    const h = this.rowAt(x, y);
    return h ? { externalId: `profile:${h.profile}:${h.price}`, zOrder: 'normal', cursorStyle: 'crosshair' } : null;
  }
}

export interface DepthSnapshot { ts: number; bids: [number, number][]; asks: [number, number][] }

/** Depth heatmap: one column per snapshot (until the next), cell intensity ∝ size / max size. */
export class DepthHeatmapPrimitive extends Base {
  private snaps: DepthSnapshot[] = [];
  private max = 0;
  private rowSize = 0;
  constructor(private readonly fp: FootprintController, private opacity = 0.6) { super('bottom'); }

  /** Replace the depth history (`/api/v1/orderbook/history` snapshots, ascending by ts). */
  setSnapshots(snaps: DepthSnapshot[], rowSize?: number): void {
    this.snaps = [...snaps].sort((a, b) => a.ts - b.ts);
    let m = 0;
    for (const s of this.snaps) { for (const [, q] of s.bids) if (q > m) m = q; for (const [, q] of s.asks) if (q > m) m = q; }
    this.max = m;
    this.rowSize = rowSize ?? this.fp.bars[0]?.rowSize ?? 0;
    this.requestUpdate?.();
  }

  /**
   * Append one live snapshot (e.g. a `orderbook` stream update): O(levels), keeps at most `keep`
   * columns. A snapshot older than the newest one is ignored.
   */
  addSnapshot(sn: DepthSnapshot, keep = 5000): void {
    const n = this.snaps.length;
    if (n && sn.ts < this.snaps[n - 1].ts) return;
    if (n && sn.ts === this.snaps[n - 1].ts) this.snaps[n - 1] = sn; else this.snaps.push(sn);
    if (this.snaps.length > keep) this.snaps.splice(0, this.snaps.length - keep);
    for (const [, q] of sn.bids) if (q > this.max) this.max = q;
    for (const [, q] of sn.asks) if (q > this.max) this.max = q;
    if (!this.rowSize) this.rowSize = this.fp.bars[0]?.rowSize ?? 0;
    this.requestUpdate?.();
  }
  get columns(): number { return this.snaps.length; }

  protected draw(target: CanvasRenderingTarget2D): void {
    const s = this.series, ch = this.chart;
    if (!s || !ch || !this.snaps.length || !(this.max > 0)) return;
    const ts = ch.timeScale();
    const vr = ts.getVisibleRange();
    if (!vr) return;
    const fromMs = (vr.from as number) * 1000, toMs = (vr.to as number) * 1000 + 60_000;
    // binary search the first visible snapshot
    let lo = 0, hi = this.snaps.length - 1, first = this.snaps.length;
    while (lo <= hi) { const m = (lo + hi) >> 1; if (this.snaps[m].ts >= fromMs) { first = m; hi = m - 1; } else lo = m + 1; }
    first = Math.max(0, first - 1);
    const th = this.fp.theme;
    target.useBitmapCoordinateSpace((scope) => {
      const ctx = scope.context as unknown as Ctx2D;
      const hpr = scope.horizontalPixelRatio, vpr = scope.verticalPixelRatio;
      ctx.globalAlpha = this.opacity;
      for (let i = first; i < this.snaps.length && this.snaps[i].ts <= toMs; i++) {
        const sn = this.snaps[i];
        const xa = this.xAt(sn.ts), xb = i + 1 < this.snaps.length ? this.xAt(this.snaps[i + 1].ts) : scope.mediaSize.width;
        if (xa === null || xb === null) continue;
        const l = Math.round(xa * hpr), r = Math.max(l + 1, Math.round(xb * hpr));
        // one column per device pixel: a snapshot whose successor starts in the same pixel is covered by it
        // (a fast book gives hundreds of snapshots per bar; drawing each was O(snapshots × levels) rects)
        if (i + 1 < this.snaps.length && Math.round(xb * hpr) <= l) continue;
        const rs = this.rowSize || 1;
        for (const [side, levels] of [[0, sn.bids], [1, sn.asks]] as const) {
          for (const [p, q] of levels) {
            const y0 = s.priceToCoordinate(p + rs), y1 = s.priceToCoordinate(p);
            if (y0 === null || y1 === null) continue;
            const lv = Math.min(7, Math.floor((q / this.max) * 8));
            ctx.fillStyle = side === 0 ? th.buyRamp[lv] : th.sellRamp[lv];
            const t = Math.round(y0 * vpr), b = Math.round(y1 * vpr);
            ctx.fillRect(l, Math.min(t, b), r - l, Math.max(1, Math.abs(b - t)));
          }
        }
      }
      ctx.globalAlpha = 1;
    });
  }

  /** media x of a time inside the bar grid, by time (interpolated between bar starts) */
  private xAt(ms: number): number | null { return this.fp.indexAt(ms) < 0 ? null : this.fp.xOfTime(ms); }
}

/**
 * Series primitives for Lightweight Charts v5: volume profiles (session profiles anchored to their
 * sessions, a visible-range profile recomputed from the footprint rows when the visible range or
 * the data changes, a composite on the right edge) and a depth heatmap from the book's depth
 * history. Views return the same array instance; geometry is recomputed on data/range changes only.
 */
import type { IChartApi, IPrimitivePaneRenderer, IPrimitivePaneView, ISeriesApi, ISeriesPrimitive, SeriesAttachedParameter, SeriesType, Time, UTCTimestamp, LogicalRange } from 'lightweight-charts';
import type { CanvasRenderingTarget2D } from 'fancy-canvas';
import type { Ctx2D, ProfileData } from '../render/types.js';
import { drawProfile, type ProfileOptions } from '../render/profile.js';
import { profileFromBars } from '../render/prepare.js';
import type { Theme } from '../render/theme.js';
import type { FootprintController } from './footprint-series.js';

export interface VolumeProfileOptions {
  /** session profiles anchored at their session start (start/end ms set) */
  sessions: ProfileData[];
  /** a profile on the right edge (e.g. composite) */
  composite: ProfileData | null;
  /** recompute a visible-range profile from the footprint rows on pan/zoom */
  visibleRange: boolean;
  /** max histogram length, media px, for right-edge profiles */
  width: number;
  opacity: number;
  profile: Partial<ProfileOptions>;
}

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
  protected x(ms: number): number | null {
    return this.chart ? this.chart.timeScale().timeToCoordinate(Math.floor(ms / 1000) as UTCTimestamp) : null;
  }
}

export class VolumeProfilePrimitive extends Base {
  private o: VolumeProfileOptions;
  private visible: ProfileData | null = null;
  private range: { from: number; to: number } | null = null;
  private unsub: (() => void) | null = null;
  private readonly onRange = (r: LogicalRange | null): void => { if (r) this.recompute(Math.floor(r.from), Math.ceil(r.to)); };
  /** recomputations of the visible-range profile (for tests) */
  recomputations = 0;

  constructor(private readonly fp: FootprintController, o: Partial<VolumeProfileOptions> = {}) {
    super('normal');
    this.o = { sessions: [], composite: null, visibleRange: true, width: 120, opacity: 0.85, profile: {}, ...o };
  }

  get theme(): Theme { return this.fp.theme; }
  get visibleProfile(): ProfileData | null { return this.visible; }

  applyOptions(o: Partial<VolumeProfileOptions>): void { this.o = { ...this.o, ...o }; if (this.range) this.recompute(this.range.from, this.range.to, true); this.requestUpdate?.(); }

  protected override onAttached(): void {
    this.chart!.timeScale().subscribeVisibleLogicalRangeChange(this.onRange);
    const off = this.fp.onData(() => { if (this.range) this.recompute(this.range.from, this.range.to, true); });
    this.unsub = () => { off(); this.chart?.timeScale().unsubscribeVisibleLogicalRangeChange(this.onRange); };
    const r = this.chart!.timeScale().getVisibleLogicalRange();
    if (r) this.onRange(r);
  }
  protected override onDetached(): void { this.unsub?.(); }

  private recompute(from: number, to: number, force = false): void {
    const f = Math.max(0, from), t = Math.min(this.fp.prepared.bars.length, to + 1);
    if (!force && this.range && this.range.from === f && this.range.to === t) return;
    this.range = { from: f, to: t };
    if (!this.o.visibleRange) { this.visible = null; return; }
    this.visible = profileFromBars(this.fp.prepared.bars, f, t);
    this.recomputations++;
  }

  protected draw(target: CanvasRenderingTarget2D): void {
    const s = this.series, ch = this.chart;
    if (!s || !ch) return;
    target.useBitmapCoordinateSpace((scope) => {
      const ctx = scope.context as unknown as Ctx2D;
      const view = { hpr: scope.horizontalPixelRatio, vpr: scope.verticalPixelRatio, width: scope.mediaSize.width, height: scope.mediaSize.height, priceToY: (p: number) => s.priceToCoordinate(p) };
      const po = { ...this.o.profile, opacity: this.o.opacity };
      for (const p of this.o.sessions) {
        if (p.start == null) continue;
        const x0 = this.x(p.start);
        const xe = p.end != null ? this.x(Math.max(p.start, p.end - 1)) : null;
        if (x0 === null) continue;
        const x1 = xe ?? scope.mediaSize.width;
        if (x1 < 0 || x0 > scope.mediaSize.width) continue;
        drawProfile(ctx, p, view, { x: x0, width: Math.max(10, (x1 - x0) * 0.6), lineFrom: x0, lineTo: x1, rayFrom: x1 }, this.theme, { ...po, opacity: 0.45 });
      }
      const W = scope.mediaSize.width;
      const right = this.visible ?? this.o.composite;
      if (right) drawProfile(ctx, right, view, { x: W, width: this.o.width, direction: 'left', lineFrom: W - this.o.width, lineTo: W, rayFrom: W - this.o.width }, this.theme, po);
    });
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

  /** media x of a time inside the bar grid (interpolated between bar starts) */
  private xAt(ms: number): number | null {
    const i = this.fp.indexAt(ms);
    const ts = this.chart!.timeScale();
    if (i < 0) return null;
    const x = ts.logicalToCoordinate(i as never);
    if (x === null) return null;
    const t0 = this.fp.times[i], t1 = this.fp.times[i + 1];
    const sp = ts.options().barSpacing;
    const frac = t1 !== undefined && t1 > t0 ? Math.min(1, (ms - t0) / (t1 - t0)) : 0;
    return x - sp / 2 + frac * sp;
  }
}

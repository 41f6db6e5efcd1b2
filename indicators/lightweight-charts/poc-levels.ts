/**
 * Developing and naked POC on the footprint pane (the session POC is the session profile's line).
 *  - developing POC: the session profile's POC as it stood at each time (`setDeveloping` with the
 *    server's points, `addDeveloping` for each live profile update), a step line across the bars.
 *  - naked POC (bar scope): a bar's POC row that no later trade reached, i.e. the row lies outside the
 *    price range (low…high) of every later bar; drawn as a dotted ray from the bar to the right edge.
 *    Products differ (ATAS "unfinished POC" per bar, session "virgin POC"): this one is per bar, over
 *    the loaded bars, the newest `maxNaked` of them. Recomputed when the footprint data changes.
 * No text is drawn, so nothing here can cover cell numbers or signal labels.
 */
import type { IChartApi, IPrimitivePaneRenderer, IPrimitivePaneView, ISeriesApi, ISeriesPrimitive, SeriesAttachedParameter, SeriesType, Time } from 'lightweight-charts';
import type { CanvasRenderingTarget2D } from 'fancy-canvas';
import type { FootprintController } from './footprint-series.js';
import type { Ctx2D } from '../render/types.js';
import { dashes } from '../render/dash.js';

export interface DevelopingPoint { ts: number; poc: number | null }
export interface NakedPoc { time: number; index: number; price: number; rowSize: number }

export class PocLevelsPrimitive implements ISeriesPrimitive<Time> {
  private chart: IChartApi | null = null;
  private series: ISeriesApi<SeriesType> | null = null;
  private requestUpdate: (() => void) | null = null;
  private readonly views: IPrimitivePaneView[];
  private developing: DevelopingPoint[] = [];
  private devRow = 0;
  private off: (() => void) | null = null;
  /** naked bar POCs of the last recomputation, oldest first */
  naked: NakedPoc[] = [];

  constructor(private readonly fp: FootprintController, private readonly o: { maxNaked: number; scanBars: number } = { maxNaked: 30, scanBars: 5000 }) {
    const renderer: IPrimitivePaneRenderer = { draw: (t: CanvasRenderingTarget2D) => this.draw(t) };
    this.views = [{ renderer: () => renderer, zOrder: () => 'normal' }];
  }
  attached(p: SeriesAttachedParameter<Time>): void {
    this.chart = p.chart; this.series = p.series; this.requestUpdate = p.requestUpdate;
    this.off = this.fp.onData(() => this.recompute());
    this.recompute();
  }
  detached(): void { this.off?.(); this.chart = null; this.series = null; this.requestUpdate = null; }
  paneViews(): readonly IPrimitivePaneView[] { return this.views; }

  /** The session's developing POC points (row lower edges, price units), oldest first; `rowSize` of the profile. */
  setDeveloping(points: readonly DevelopingPoint[], rowSize: number): void {
    this.developing = points.filter((p) => p.poc !== null).sort((a, b) => a.ts - b.ts);
    this.devRow = rowSize;
    this.requestUpdate?.();
  }
  /** One live point (a profile update at data time ts); a new session starts over (`reset`). */
  addDeveloping(p: DevelopingPoint, rowSize: number, reset = false): void {
    if (reset) this.developing = [];
    const n = this.developing.length;
    if (p.poc === null || (n && p.ts < this.developing[n - 1].ts)) return;
    this.devRow = rowSize;
    if (n && this.developing[n - 1].poc === p.poc) return; // a step line needs only the changes
    this.developing.push(p);
    this.requestUpdate?.();
  }
  get developingPoints(): readonly DevelopingPoint[] { return this.developing; }

  private recompute(): void {
    const bars = this.fp.prepared.bars, n = bars.length;
    const out: NakedPoc[] = [];
    let lo = Infinity, hi = -Infinity;
    for (let i = n - 1; i >= Math.max(0, n - this.o.scanBars); i--) {
      const b = bars[i];
      if (b.n > 0 && b.poc >= 0 && i < n - 1) {
        const rs = b.data.rowSize, p = (b.row0 + b.poc) * rs;
        // the POC row [p, p + rs) untouched by every later bar's low…high
        if (p > hi || p + rs <= lo) out.push({ time: b.data.time, index: i, price: p, rowSize: rs });
      }
      if (b.data.low < lo) lo = b.data.low;
      if (b.data.high > hi) hi = b.data.high;
      if (out.length >= this.o.maxNaked) break;
    }
    this.naked = out.reverse();
    this.requestUpdate?.();
  }

  private draw(target: CanvasRenderingTarget2D): void {
    const s = this.series, fp = this.fp;
    if (!s || !this.chart || !fp.times.length) return;
    const th = fp.theme;
    target.useBitmapCoordinateSpace((scope) => {
      const ctx = scope.context, hpr = scope.horizontalPixelRatio, vpr = scope.verticalPixelRatio, W = scope.bitmapSize.width;
      // only the dashes over the pane (a session's line at wide zoom spans tens of thousands of px), in phase with x0
      const dashed = (x0: number, x1: number, y: number, on: number, off: number, lw: number): void =>
        dashes(ctx as unknown as Ctx2D, x0, x1, Math.min(x1, W + 1), Math.round(y * vpr) - Math.floor(lw / 2), lw, on, on + off);
      ctx.save();
      // naked bar POCs: dotted rays from the bar's centre to the right edge
      ctx.fillStyle = th.nakedPoc;
      for (const k of this.naked) {
        const x = fp.xOfIndex(k.index), y = s.priceToCoordinate(k.price + k.rowSize / 2);
        if (Number.isNaN(x) || y === null) continue;
        dashed(Math.max(0, x * hpr), W, y, 2 * hpr, 2 * hpr, Math.max(1, Math.round(vpr)));
      }
      // developing POC: a dashed step line, each level from its time to the next point's
      const d = this.developing, half = this.devRow / 2;
      ctx.fillStyle = th.poc;
      ctx.globalAlpha = 0.8;
      const lw = Math.max(1, Math.round(1.5 * vpr));
      let prevY: number | null = null, prevX = 0;
      // only the points whose step can reach the pane (a session has thousands; placing each cost ~0.7 ms a
      // frame): from the last point left of x = −8 px (every earlier step and connector ends left of it) to
      // the first one right of the pane (x is non-decreasing in time, so a binary search finds the first)
      const Wm = scope.mediaSize.width;
      let i0 = 0;
      for (let lo = 0, hi = d.length - 1; lo <= hi;) {
        const m = (lo + hi) >> 1, x = fp.xOfTime(d[m].ts);
        if (x !== null && x < -8) { i0 = m; lo = m + 1; } else hi = m - 1;
      }
      for (let i = i0; i < d.length; i++) {
        const x0 = fp.xOfTime(d[i].ts), y = s.priceToCoordinate((d[i].poc as number) + half);
        if (x0 !== null && x0 > Wm + 8) break;
        if (x0 === null || y === null) { prevY = null; continue; }
        const next = i + 1 < d.length ? fp.xOfTime(d[i + 1].ts) : fp.xOfIndex(fp.times.length - 1) + this.chart!.timeScale().options().barSpacing / 2;
        const x1 = next === null || Number.isNaN(next) ? x0 : next;
        if (prevY !== null) { const a = Math.round(Math.min(prevY, y) * vpr), b = Math.round(Math.max(prevY, y) * vpr); ctx.fillRect(Math.round(prevX * hpr), a, lw, Math.max(1, b - a)); }
        dashed(x0 * hpr, x1 * hpr, y, 6 * hpr, 3 * hpr, lw);
        prevY = y; prevX = x1;
      }
      ctx.restore();
    });
  }
}

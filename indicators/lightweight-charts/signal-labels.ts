/**
 * Signal labels: short glyphs (ABS, SWP, EXH, DIV, INI, ICE, ENTRY, BE, TRAIL, EXIT) placed beside the
 * footprint bar of each signal, never over footprint cells, the bar-stats strip or another label.
 * Layout runs per frame in media px: each (bar, side) group becomes one label ("SWP ×3" when several
 * signals share it), tried below a buy / above a sell bar clear of every bar body its width spans, then
 * stacked away from the bar, then on the other side; a label that finds no free slot is counted into
 * the nearest placed label ("+2"). `placed` holds the last layout (for hit tests, tooltips and tests).
 */
import type { AutoscaleInfo, IChartApi, IPrimitivePaneRenderer, IPrimitivePaneView, ISeriesApi, ISeriesPrimitive, PrimitiveHoveredItem, SeriesAttachedParameter, SeriesType, Time } from 'lightweight-charts';
import type { CanvasRenderingTarget2D } from 'fancy-canvas';
import type { FootprintController } from './footprint-series.js';
import type { SignalMark } from './overlays.js';
import { visibleBarBodies } from './bar-bodies.js';

export const SIGNAL_LABELS: Record<string, string> = {
  absorption: 'ABS', sweep: 'SWP', exhaustion: 'EXH', divergence: 'DIV', initiative: 'INI', iceberg: 'ICE',
  entry: 'ENTRY', breakeven: 'BE', be: 'BE', trail: 'TRAIL', trailing: 'TRAIL', exit: 'EXIT',
};
export const signalLabel = (kind: string): string => SIGNAL_LABELS[kind] ?? kind.slice(0, 5).toUpperCase();

export interface Box { x: number; y: number; w: number; h: number }
export interface PlacedLabel extends Box { text: string; side: 'buy' | 'sell' | 'none'; signals: SignalMark[]; hidden: number }

const FONT_PX = 10, PAD = 3, GAP = 2, H = FONT_PX + 4, STRIP = 2 * 13 + 4, MAX_STACK = 3;

export const boxesIntersect = (a: Box, b: Box): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

export class SignalLabelsPrimitive implements ISeriesPrimitive<Time> {
  private chart: IChartApi | null = null;
  private series: ISeriesApi<SeriesType> | null = null;
  private requestUpdate: (() => void) | null = null;
  private signals: SignalMark[] = [];
  private readonly views: IPrimitivePaneView[];
  /** last layout, media px */
  placed: PlacedLabel[] = [];
  /** footprint bar bodies the last layout avoided, media px */
  bodies: Box[] = [];
  /** other text on the pane to keep clear of (the profiles' "POC", price-line titles), media px; read at each layout */
  obstacles: () => readonly Box[] = () => [];
  /** the visible bar bodies of this frame and their bar indexes, when another layer already computed them (PaneTexts) */
  sharedBodies: ((width: number) => { bodies: Box[]; index: number[] }) | null = null;
  /** prices kept inside the autoscaled range (the open trade's entry / SL / TP) */
  keepInView: number[] = [];
  autoscaleInfo(): AutoscaleInfo | null {
    if (!this.keepInView.length) return null;
    return { priceRange: { minValue: Math.min(...this.keepInView), maxValue: Math.max(...this.keepInView) } };
  }

  private widthOf: (s: string) => number = (s) => s.length * 6.2;
  constructor(private readonly fp: FootprintController) {
    const renderer: IPrimitivePaneRenderer = { draw: (t: CanvasRenderingTarget2D) => this.draw(t) };
    this.views = [{ renderer: () => renderer, zOrder: () => 'top' }];
  }
  attached(p: SeriesAttachedParameter<Time>): void { this.chart = p.chart; this.series = p.series; this.requestUpdate = p.requestUpdate; }
  detached(): void { this.chart = null; this.series = null; this.requestUpdate = null; }
  paneViews(): readonly IPrimitivePaneView[] { return this.views; }

  setSignals(s: readonly SignalMark[]): void { this.signals = [...s].sort((a, b) => a.time - b.time); this.requestUpdate?.(); }
  add(s: SignalMark): void {
    if (s.id !== undefined && this.signals.some((x) => x.id === s.id)) return;
    this.signals.push(s);
    if (this.signals.length > 1 && this.signals[this.signals.length - 2].time > s.time) this.signals.sort((a, b) => a.time - b.time);
    this.requestUpdate?.();
  }
  get count(): number { return this.signals.length; }
  requestRedraw(): void { this.requestUpdate?.(); }

  /** The label under a media-space point. */
  labelAt(x: number, y: number): PlacedLabel | null {
    for (const l of this.placed) if (x >= l.x && x <= l.x + l.w && y >= l.y && y <= l.y + l.h) return l;
    return null;
  }
  hitTest(x: number, y: number): PrimitiveHoveredItem | null {
    const l = this.labelAt(x, y);
    return l ? { externalId: `signal:${l.signals[0]?.id ?? l.text}`, zOrder: 'top', cursorStyle: 'pointer' } : null;
  }

  /** Compute the layout for a pane of `width` × `height` media px. */
  layout(width: number, height: number): PlacedLabel[] {
    const s = this.series, ch = this.chart, fp = this.fp;
    if (!s || !ch || !fp.prepared.bars.length) return (this.placed = []);
    // group by (bar, side), visible bars only
    const groups = new Map<string, { i: number; side: 'buy' | 'sell' | 'none'; sigs: SignalMark[] }>();
    for (const sg of this.signals) {
      const i = fp.indexAt(sg.time);
      if (i < 0) continue;
      // after the newest bar's span (its length taken from the bar before): not on this chart yet
      const nb = fp.times.length;
      if (i === nb - 1 && nb > 1 && sg.time >= fp.times[i] + (fp.times[i] - fp.times[i - 1])) continue;
      const side = sg.side === 'buy' || sg.side === 'sell' ? sg.side : 'none';
      const k = `${i}:${side}`;
      const g = groups.get(k);
      if (g) g.sigs.push(sg); else groups.set(k, { i, side, sigs: [sg] });
    }
    // bodies of the visible bars (cell text lives inside them): the pane text layout's of this frame when shared
    let bodies: Box[];
    const bodyOf = new Map<number, Box>();
    const shared = this.sharedBodies?.(width);
    if (shared) {
      bodies = shared.bodies;
      for (let k = 0; k < bodies.length; k++) bodyOf.set(shared.index[k], bodies[k]);
    } else {
      const index: number[] = [];
      bodies = visibleBarBodies(fp, s, ch, width, index);
      for (let k = 0; k < bodies.length; k++) bodyOf.set(index[k], bodies[k]);
    }
    const strip: Box = { x: 0, y: height - STRIP, w: width, h: STRIP };
    const placed: PlacedLabel[] = [];
    const other = this.obstacles();
    const free = (b: Box): boolean => b.y >= 0 && b.y + b.h <= height - STRIP && !boxesIntersect(b, strip)
      && !bodies.some((o) => boxesIntersect(b, o)) && !placed.some((o) => boxesIntersect(b, o)) && !other.some((o) => boxesIntersect(b, o));
    const ordered = [...groups.values()].sort((a, b) => a.i - b.i || a.side.localeCompare(b.side));
    for (const g of ordered) {
      const x = fp.xOfIndex(g.i);
      if (!Number.isFinite(x) || x < 0 || x > width) continue;
      const last = g.sigs[g.sigs.length - 1];
      const text = signalLabel(last.kind) + (g.sigs.length > 1 ? ` ×${g.sigs.length}` : '');
      const w = this.widthOf(text) + 2 * PAD;
      const bx = x - w / 2;
      // the extreme of every body the label's width spans
      let top = Infinity, bot = -Infinity;
      for (const o of bodies) if (o.x < bx + w && bx < o.x + o.w) { if (o.y < top) top = o.y; if (o.y + o.h > bot) bot = o.y + o.h; }
      const own = bodyOf.get(g.i);
      if (!Number.isFinite(top)) { top = own?.y ?? height / 2; bot = own ? own.y + own.h : height / 2; }
      const below = (k: number): Box => ({ x: bx, y: bot + GAP + k * (H + GAP), w, h: H });
      const above = (k: number): Box => ({ x: bx, y: top - GAP - H - k * (H + GAP), w, h: H });
      const first = g.side === 'sell' ? above : below, second = g.side === 'sell' ? below : above;
      let spot: Box | null = null;
      for (const f of [first, second]) { for (let k = 0; k < MAX_STACK && !spot; k++) { const c = f(k); if (free(c)) spot = c; } if (spot) break; }
      if (spot) placed.push({ ...spot, text, side: g.side, signals: g.sigs, hidden: 0 });
      else if (placed.length) {
        // no free slot: count these signals into the nearest placed label
        let best = placed[0];
        for (const p of placed) if (Math.abs(p.x + p.w / 2 - x) < Math.abs(best.x + best.w / 2 - x)) best = p;
        best.hidden += g.sigs.length; best.signals = [...best.signals, ...g.sigs];
      }
    }
    // "+n" suffixes widen labels: re-measure and drop the suffix when the wider box would collide
    for (const p of placed) {
      if (!p.hidden) continue;
      const t = `${p.text} +${p.hidden}`, w = this.widthOf(t) + 2 * PAD;
      const c = { x: p.x + p.w / 2 - w / 2, y: p.y, w, h: p.h };
      const others = placed.filter((o) => o !== p);
      if (c.x >= 0 && !bodies.some((o) => boxesIntersect(c, o)) && !others.some((o) => boxesIntersect(c, o)) && !other.some((o) => boxesIntersect(c, o))) { p.text = t; p.x = c.x; p.w = w; }
    }
    this.bodies = bodies;
    return (this.placed = placed);
  }

  private draw(target: CanvasRenderingTarget2D): void {
    const th = this.fp.theme;
    target.useBitmapCoordinateSpace((scope) => {
      const ctx = scope.context;
      const hpr = scope.horizontalPixelRatio, vpr = scope.verticalPixelRatio;
      ctx.save();
      ctx.font = `600 ${Math.round(FONT_PX * vpr)}px sans-serif`;
      this.widthOf = (t) => ctx.measureText(t).width / hpr;
      const labels = this.layout(scope.mediaSize.width, scope.mediaSize.height);
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'center';
      for (const l of labels) {
        const col = l.side === 'buy' ? th.markerBuy : l.side === 'sell' ? th.markerSell : th.textDim;
        ctx.fillStyle = col;
        ctx.fillRect(Math.round(l.x * hpr), Math.round(l.y * vpr), Math.round(l.w * hpr), Math.round(l.h * vpr));
        ctx.fillStyle = '#ffffff';
        ctx.fillText(l.text, Math.round((l.x + l.w / 2) * hpr), Math.round((l.y + l.h / 2) * vpr));
      }
      ctx.restore();
    });
  }
}

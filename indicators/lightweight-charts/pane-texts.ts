/**
 * One layout for every text the order-flow plugins put on the price pane, so that no two of them overlap
 * and none covers footprint cell text. Priority order, each step clear of everything placed before it:
 *  1. right-edge tags: the open trade's LONG / SHORT / SL / TP, then VWAP, then the ±kσ bands. Drawn here
 *     in Lightweight Charts' own title style instead of by LWC (whose series / price-line titles know
 *     nothing of the other plugins' text). A tag sits at its level's y. When footprint bars take that
 *     spot (the chart panned or zoomed so that bars reach the right edge) it stays on its level, just
 *     left of them; when a tag placed before it does (or there is no room left of the bars) it moves to
 *     the nearest free spot at the edge just above or below what is in the way (the price axis label
 *     keeps the exact level). With no free spot in the pane it is not drawn and listed in `dropped`.
 *  2. profile texts ("POC"): each tries its candidate boxes in order (`place`) and takes the first clear of
 *     the tags, of the footprint bar bodies and of the texts placed before it; none clear: not drawn
 *     (`droppedTexts`), the profile's line and its row tooltip still say POC.
 *  3. signal labels (SignalLabelsPrimitive) keep clear of all of the above (`boxes`) and of the bodies.
 * The frame starts in this primitive's 'bottom' view (drawn before every other view of the main canvas);
 * the tag layout is recomputed only when a tag's y, the set of tags, the pane's size or the bar bodies
 * under the tags' column changed; the bar bodies are computed once per frame.
 */
import type { IChartApi, IPrimitivePaneRenderer, IPrimitivePaneView, ISeriesApi, ISeriesPrimitive, SeriesAttachedParameter, SeriesType, Time } from 'lightweight-charts';
import type { CanvasRenderingTarget2D } from 'fancy-canvas';
import type { FootprintController } from './footprint-series.js';
import { boxesIntersect, type Box } from './signal-labels.js';
import { visibleBarBodies } from './bar-bodies.js';

/** A level's tag; lower `rank` is placed first (keeps its spot). */
export interface PaneTag { price: number; text: string; color: string; rank: number }
export interface PlacedTag extends Box { text: string; color: string; fg: string; price: number; levelY: number }
export interface PlacedText extends Box { text: string }

/** Lightweight Charts' pane title geometry for its 12 px layout font: 2.5 px padding above and below, 5 + 5 px beside, 1 px border. */
const TAG_FONT = 12, TAG_H = TAG_FONT + 5, TAG_PADX = 11, TAG_GAP = 1;
const LWC_FONT = `-apple-system, BlinkMacSystemFont, 'Trebuchet MS', Roboto, Ubuntu, sans-serif`;

/** black or white text on a tag (LWC's contrast rule: weighted grey > 160 → black) */
function contrast(hex: string): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return '#ffffff';
  const v = parseInt(m[1], 16), r = v >> 16, g = (v >> 8) & 255, b = v & 255;
  return 0.199 * r + 0.687 * g + 0.114 * b > 160 ? '#000000' : '#ffffff';
}

export class PaneTexts implements ISeriesPrimitive<Time> {
  private chart: IChartApi | null = null;
  private series: ISeriesApi<SeriesType> | null = null;
  private requestUpdate: (() => void) | null = null;
  private readonly views: IPrimitivePaneView[];
  private readonly groups = new Map<string, readonly PaneTag[]>();
  private all: PaneTag[] = [];
  private version = 0;
  private laidVersion = -1;
  private laidH = -1;
  private laidW = -1;
  private ys: number[] = [];
  /** the bar bodies in the tags' column at the last layout, flat [x, y, w, h, …] */
  private laidCol: number[] = [];
  private readonly widths = new Map<string, number>();
  private font = `${TAG_FONT}px ${LWC_FONT}`;
  private frame = 0;
  private bodiesFrame = -1;
  /** tags of the last layout (media px) */
  tags: PlacedTag[] = [];
  /** tags that found no free spot in the pane */
  dropped: PaneTag[] = [];
  /** profile texts placed this frame */
  texts: PlacedText[] = [];
  /** profile texts not drawn this frame (no clear candidate) */
  droppedTexts = 0;
  /** tags + texts: what signal labels keep clear of (the same array, refilled) */
  readonly boxes: Box[] = [];
  /** footprint bar bodies this frame (cell text lives inside them), media px, and each one's bar index */
  bodies: Box[] = [];
  bodyIndex: number[] = [];
  /** tag layouts computed (for tests: the layout is not redone while nothing moves) */
  layouts = 0;

  constructor(private readonly fp: FootprintController) {
    const start: IPrimitivePaneRenderer = { draw: (t: CanvasRenderingTarget2D) => this.startFrame(t) };
    const tags: IPrimitivePaneRenderer = { draw: (t: CanvasRenderingTarget2D) => this.drawTags(t) };
    this.views = [{ renderer: () => start, zOrder: () => 'bottom' }, { renderer: () => tags, zOrder: () => 'top' }];
  }
  attached(p: SeriesAttachedParameter<Time>): void { this.chart = p.chart; this.series = p.series; this.requestUpdate = p.requestUpdate; }
  detached(): void { this.chart = null; this.series = null; this.requestUpdate = null; }
  paneViews(): readonly IPrimitivePaneView[] { return this.views; }

  /** Replace one source's tags (e.g. 'trade', 'vwap'); [] removes them. */
  setTags(group: string, tags: readonly PaneTag[]): void {
    const old = this.groups.get(group);
    if (old && old.length === tags.length && old.every((t, i) => t.price === tags[i].price && t.text === tags[i].text && t.color === tags[i].color)) return;
    this.groups.set(group, tags);
    this.all = [...this.groups.values()].flat().sort((a, b) => a.rank - b.rank);
    this.version++;
    this.requestUpdate?.();
  }
  get tagCount(): number { return this.all.length; }

  /** A new frame of the main canvas: forget last frame's texts, lay the tags out again if they moved. */
  private startFrame(target: CanvasRenderingTarget2D): void {
    this.frame++;
    this.texts.length = 0;
    this.droppedTexts = 0;
    target.useMediaCoordinateSpace(({ context, mediaSize }) => {
      const lo = this.chart?.options().layout;
      const font = `${lo?.fontSize ?? TAG_FONT}px ${lo?.fontFamily ?? LWC_FONT}`;
      if (font !== this.font) { this.font = font; this.widths.clear(); this.laidVersion = -1; }
      context.font = font;
      for (const t of this.all) if (!this.widths.has(t.text)) this.widths.set(t.text, Math.ceil(context.measureText(t.text).width));
      this.layoutTags(mediaSize.width, mediaSize.height);
    });
    this.fillBoxes();
  }

  private layoutTags(width: number, height: number): void {
    const s = this.series, W = this.fp.chart.timeScale().width();
    if (!s) return;
    let same = this.laidVersion === this.version && this.laidH === height && this.laidW === W;
    for (let i = 0; i < this.all.length; i++) {
      const y = s.priceToCoordinate(this.all[i].price) ?? NaN;
      if (this.ys[i] !== y && !(Number.isNaN(y) && Number.isNaN(this.ys[i]))) { same = false; this.ys[i] = y; }
    }
    this.ys.length = this.all.length;
    // the bar bodies reaching into the tags' column (as wide as the widest tag): cell text a tag must not cover
    let widest = 0;
    for (const t of this.all) widest = Math.max(widest, (this.widths.get(t.text) ?? t.text.length * 7) + TAG_PADX);
    const col: Box[] = [];
    if (this.all.length) for (const b of this.barBodies(width)) if (b.x + b.w > W - widest) col.push(b);
    // a tag moved left of the bars depends on bodies outside the column too
    if (this.tags.some((t) => t.x + t.w < W)) same = false;
    if (col.length * 4 !== this.laidCol.length || col.some((b, i) => b.x !== this.laidCol[4 * i] || b.y !== this.laidCol[4 * i + 1] || b.w !== this.laidCol[4 * i + 2] || b.h !== this.laidCol[4 * i + 3])) {
      same = false;
      this.laidCol = col.flatMap((b) => [b.x, b.y, b.w, b.h]);
    }
    if (same) return;
    this.layouts++;
    this.laidVersion = this.version; this.laidH = height; this.laidW = W;
    const placed: PlacedTag[] = [], dropped: PaneTag[] = [];
    const bodies = col.length ? this.barBodies(width) : col;
    for (let i = 0; i < this.all.length; i++) {
      const t = this.all[i], y = this.ys[i];
      // a level off the pane has no line to tag (LWC's titles are not drawn there either)
      if (!(y >= 0 && y <= height)) continue;
      const w = (this.widths.get(t.text) ?? t.text.length * 7) + TAG_PADX;
      const want = Math.round(y - TAG_H / 2);
      // what a tag whose right edge is at `right` and top at `top` would cover: bar bodies, and placed tags (with a gap)
      const inWay = (right: number, top: number): Box[] => {
        const x = right - w, out: Box[] = [];
        for (const b of bodies) if (x < b.x + b.w && b.x < right && top < b.y + b.h && b.y < top + TAG_H) out.push(b);
        for (const p of placed) if (x < p.x + p.w + TAG_GAP && p.x < right + TAG_GAP && top < p.y + p.h + TAG_GAP && p.y < top + TAG_H + TAG_GAP) out.push(p);
        return out;
      };
      const inPane = (top: number): boolean => top >= 0 && top + TAG_H <= height;
      let right = W, best: number | null = inPane(want) && !inWay(W, want).length ? want : null;
      // bars reach the right edge at the level: the tag stays on its level, just left of the bars (and tags) in the way
      if (best === null && inPane(want) && bodies.some((b) => W - w < b.x + b.w && b.x < W && want < b.y + b.h && b.y < want + TAG_H)) {
        for (let r = W, hit = inWay(r, want); r - w >= 0; hit = inWay(r, want)) {
          if (!hit.length) { right = r; best = want; break; }
          r = Math.floor(Math.min(...hit.map((h) => h.x))) - TAG_GAP - 1;
        }
      }
      // else (a tag in the way, or no room left of the bars): the nearest free spot at the right edge just above or
      // below each tag or body in the way (ties: upper)
      if (best === null) {
        const c: number[] = [Math.min(Math.max(0, want), height - TAG_H)];
        for (const p of placed) c.push(p.y - TAG_H - TAG_GAP, p.y + p.h + TAG_GAP);
        for (const b of bodies) if (b.x + b.w > W - w) c.push(Math.floor(b.y - TAG_H - TAG_GAP), Math.ceil(b.y + b.h + TAG_GAP));
        for (const top of c) if (inPane(top) && !inWay(W, top).length && (best === null || Math.abs(top - want) < Math.abs(best - want) || (Math.abs(top - want) === Math.abs(best - want) && top < best))) best = top;
      }
      if (best === null) { dropped.push(t); continue; }
      placed.push({ x: right - w, y: best, w, h: TAG_H, text: t.text, color: t.color, fg: contrast(t.color), price: t.price, levelY: y });
    }
    this.tags = placed; this.dropped = dropped;
  }

  private fillBoxes(): void {
    this.boxes.length = 0;
    for (const t of this.tags) this.boxes.push(t);
    for (const t of this.texts) this.boxes.push(t);
  }

  /**
   * Place a text: the first of `candidates` (media px, in order of preference) clear of the tags, the bar
   * bodies and the texts placed before it this frame; its index, or −1 (then it is not to be drawn).
   */
  place(text: string, candidates: readonly Box[], width: number, height: number): number {
    const bodies = this.barBodies(width);
    for (let k = 0; k < candidates.length; k++) {
      const c = candidates[k];
      if (c.x < 0 || c.x + c.w > width || c.y < 0 || c.y + c.h > height) continue;
      if (this.tags.some((o) => boxesIntersect(c, o)) || this.texts.some((o) => boxesIntersect(c, o)) || bodies.some((o) => boxesIntersect(c, o))) continue;
      this.texts.push({ x: c.x, y: c.y, w: c.w, h: c.h, text });
      this.boxes.push(this.texts[this.texts.length - 1]);
      return k;
    }
    this.droppedTexts++;
    return -1;
  }

  /** The visible footprint bar bodies (cell text lives inside them), media px; computed once per frame (signal labels share them). */
  barBodies(width: number): Box[] {
    if (this.bodiesFrame === this.frame && this.frame > 0) return this.bodies;
    this.bodiesFrame = this.frame;
    const s = this.series, ch = this.chart, fp = this.fp, idx: number[] = [];
    this.bodyIndex = idx;
    this.bodies = s && ch && fp.prepared.bars.length ? visibleBarBodies(fp, s, ch, width, idx) : [];
    return this.bodies;
  }

  private drawTags(target: CanvasRenderingTarget2D): void {
    if (!this.tags.length) return;
    target.useBitmapCoordinateSpace(({ context: ctx, horizontalPixelRatio: hpr, verticalPixelRatio: vpr }) => {
      ctx.save();
      ctx.font = this.font.replace(/^(\d+(?:\.\d+)?)px/, (_, px) => `${Math.round(Number(px) * vpr)}px`);
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'right';
      const r = 2 * hpr;
      for (const t of this.tags) {
        const x = Math.round(t.x * hpr), y = Math.round(t.y * vpr), w = Math.round(t.w * hpr), h = Math.round(t.h * vpr);
        ctx.fillStyle = t.color;
        ctx.beginPath();
        ctx.moveTo(x + w, y); ctx.lineTo(x + r, y); ctx.arcTo(x, y, x, y + r, r); ctx.lineTo(x, y + h - r); ctx.arcTo(x, y + h, x + r, y + h, r);
        // at the pane's edge the right side is square (LWC's title style); a tag moved left of bars is rounded both sides
        if (t.x + t.w < this.laidW - 0.5) { ctx.arcTo(x + w, y + h, x + w, y + h - r, r); ctx.arcTo(x + w, y, x + w - r, y, r); } else ctx.lineTo(x + w, y + h);
        ctx.closePath();
        ctx.fill();
        ctx.fillStyle = t.fg;
        ctx.fillText(t.text, Math.round((t.x + t.w - 6) * hpr), Math.round((t.y + t.h / 2) * vpr));
      }
      ctx.restore();
    });
  }
}

/**
 * Host-independent footprint renderer. Draws in BITMAP space on a minimal 2D context: every media
 * (CSS-pixel) coordinate from the host is multiplied by the pixel ratio and rounded, and a cell's
 * edges are the rounded images of its two price edges, so neighbouring cells share edges exactly and
 * DPR 1 and 2 put them at the same CSS positions. Only bars in [from, to] are visited; all per-bar
 * numbers come from `prepareSeries` (computed once per data change).
 *
 * Level of detail (media px): row height < `minRowPx` → plain candles; otherwise cells with full text
 * when the bar spacing allows (`fullSpacing`), compact text (1.2k) at `compactSpacing`, colour-only
 * below. Text is measured before drawing and skipped if it would overflow its cell.
 */
import type { ColorBy, Ctx2D, FootprintMode, PreparedBar, StackedZone } from './types.js';
import type { PreparedSeries } from './prepare.js';
import { level, type Theme } from './theme.js';

export interface RenderView {
  /** horizontal / vertical pixel ratio (bitmap px per media px) */
  hpr: number;
  vpr: number;
  /** pane size, media px */
  width: number;
  height: number;
  /** distance between bar centres, media px */
  barSpacing: number;
  /** price → media y (null when not mappable) */
  priceToY(price: number): number | null;
  /** first and last series index to draw (inclusive) */
  from: number;
  to: number;
  /** series index → media x of the bar centre */
  xOf(index: number): number;
}

export interface FootprintOptions {
  mode: FootprintMode;
  colorBy: ColorBy;
  /** below this row height (media px) bars are drawn as candles */
  minRowPx: number;
  /** bar spacing (media px) for full text / compact text */
  fullSpacing: number;
  compactSpacing: number;
  /** fraction of the bar slot used by the cells */
  bodyFraction: number;
  showPoc: boolean;
  showValueArea: boolean;
  showImbalances: boolean;
  showStacked: boolean;
  showUnfinished: boolean;
  showBarStats: boolean;
  fontFamily: string;
  maxFontPx: number;
  minFontPx: number;
  /** decimals of volume text */
  volumeDecimals: number;
}

export const DEFAULT_FOOTPRINT: FootprintOptions = {
  mode: 'bidask', colorBy: 'volume', minRowPx: 2, fullSpacing: 64, compactSpacing: 30, bodyFraction: 0.86,
  showPoc: true, showValueArea: true, showImbalances: true, showStacked: true, showUnfinished: true, showBarStats: true,
  fontFamily: 'sans-serif', maxFontPx: 12, minFontPx: 7, volumeDecimals: 3,
};

export type Detail = 'candles' | 'color' | 'compact' | 'full';

/** Counters of the last draw (fillRect + strokes / fillText calls), for the O(visible) checks. */
export interface RenderStats { rects: number; texts: number; bars: number; detail: Detail; ms: number }

export function newStats(): RenderStats { return { rects: 0, texts: 0, bars: 0, detail: 'full', ms: 0 }; }

/** Compact number: 950, 9.5k, 12k, 1.2M. */
export function compact(v: number): string {
  const a = Math.abs(v);
  if (a < 1000) return a >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(a < 10 ? 2 : 1).replace(/\.?0+$/, '');
  if (a < 1e6) return (v / 1e3).toFixed(a < 1e4 ? 1 : 0).replace(/\.0$/, '') + 'k';
  return (v / 1e6).toFixed(a < 1e7 ? 1 : 0).replace(/\.0$/, '') + 'M';
}

export function full(v: number, decimals: number): string {
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(decimals).replace(/\.?0+$/, '');
}

/** Which level of detail a view gets. */
export function detailFor(rowPx: number, barSpacing: number, o: FootprintOptions): Detail {
  if (rowPx < o.minRowPx) return 'candles';
  const need = o.mode === 'bidask' || o.mode === 'ladder' ? 1 : 0.6;
  if (barSpacing >= o.fullSpacing * need && rowPx >= o.minFontPx + 1) return 'full';
  if (barSpacing >= o.compactSpacing * need && rowPx >= o.minFontPx + 1) return 'compact';
  return 'color';
}

/** Row height in media px at the view's price scale. */
export function rowPixels(view: RenderView, price: number, rowSize: number): number {
  const a = view.priceToY(price), b = view.priceToY(price + rowSize);
  return a === null || b === null ? 0 : Math.abs(a - b);
}

/** measured widths per context and font (contexts differ in their font engines) */
const textCaches = new WeakMap<object, Map<string, Map<string, number>>>();
function widthsFor(ctx: Ctx2D): Map<string, number> {
  let byFont = textCaches.get(ctx);
  if (!byFont) { byFont = new Map(); textCaches.set(ctx, byFont); }
  let c = byFont.get(ctx.font);
  if (!c) { if (byFont.size > 16) byFont.clear(); c = new Map(); byFont.set(ctx.font, c); }
  return c;
}
/**
 * The width cache of the font just set (`setFont`): cells look their text up here instead of reading
 * `ctx.font` back (a getter that serialises the font) and two map levels per cell.
 */
let current: { ctx: Ctx2D; font: string; widths: Map<string, number> } | null = null;
function setFont(ctx: Ctx2D, font: string): void {
  ctx.font = font;
  current = { ctx, font: ctx.font, widths: widthsFor(ctx) };
}
function measure(ctx: Ctx2D, s: string): number {
  const c = current && current.ctx === ctx ? current.widths : widthsFor(ctx);
  let w = c.get(s);
  if (w === undefined) { w = ctx.measureText(s).width; if (c.size > 20000) c.clear(); c.set(s, w); }
  return w;
}

/** Draws `s` centred in [x0, x1) at baseline-middle y if it fits (measured); returns whether drawn. */
function fitText(ctx: Ctx2D, s: string, x0: number, x1: number, y: number, pad: number, st: RenderStats, align: 'center' | 'left' | 'right' = 'center'): boolean {
  const w = measure(ctx, s);
  if (w > x1 - x0 - 2 * pad) return false;
  const x = align === 'center' ? (x0 + x1) / 2 - w / 2 : align === 'left' ? x0 + pad : x1 - pad - w;
  ctx.fillText(s, Math.round(x), y);
  st.texts++;
  return true;
}

interface Cell { top: number; bottom: number }

/** Bitmap rows [top, bottom) of a price range [lo, hi), or null. */
function cellRows(view: RenderView, lo: number, hi: number): Cell | null {
  const yl = view.priceToY(lo), yh = view.priceToY(hi);
  if (yl === null || yh === null) return null;
  const a = Math.round(yh * view.vpr), b = Math.round(yl * view.vpr);
  return a <= b ? { top: a, bottom: b } : { top: b, bottom: a };
}

/** Horizontal bitmap span [left, right) of a bar's body. */
export function bodySpan(view: RenderView, x: number, fraction: number): { left: number; right: number } {
  const half = (view.barSpacing * fraction) / 2;
  const left = Math.round((x - half) * view.hpr);
  const right = Math.max(left + 1, Math.round((x + half) * view.hpr));
  return { left, right };
}

function drawCandle(ctx: Ctx2D, view: RenderView, x: number, b: PreparedBar, th: Theme, st: RenderStats): void {
  const d = b.data;
  const up = d.close >= d.open;
  const { left, right } = bodySpan(view, x, 0.7);
  const body = cellRows(view, Math.min(d.open, d.close), Math.max(d.open, d.close));
  const wick = cellRows(view, d.low, d.high);
  if (!body || !wick) return;
  ctx.fillStyle = up ? th.buy : th.sell;
  const wx = Math.round(x * view.hpr - Math.max(1, Math.floor(view.hpr)) / 2);
  ctx.fillRect(wx, wick.top, Math.max(1, Math.floor(view.hpr)), Math.max(1, wick.bottom - wick.top));
  ctx.fillRect(left, body.top, right - left, Math.max(1, body.bottom - body.top));
  st.rects += 2;
}

function cellColor(b: PreparedBar, i: number, side: 0 | 1 | 2, o: FootprintOptions, th: Theme): string {
  // side 0: whole row, 1: bid cell, 2: ask cell
  const bid = b.bid[i], ask = b.ask[i];
  if (o.colorBy === 'delta') {
    const dd = ask - bid;
    if (dd === 0) return th.cellEmpty;
    const f = b.maxDelta > 0 ? Math.abs(dd) / b.maxDelta : 0;
    return dd > 0 ? th.buyRamp[level(f)] : th.sellRamp[level(f)];
  }
  if (side === 1) return bid > 0 ? th.sellRamp[level(b.maxCell ? bid / b.maxCell : 0)] : th.cellEmpty;
  if (side === 2) return ask > 0 ? th.buyRamp[level(b.maxCell ? ask / b.maxCell : 0)] : th.cellEmpty;
  const t = bid + ask;
  return t > 0 ? th.volumeRamp[level(b.maxRow ? t / b.maxRow : 0)] : th.cellEmpty;
}

/** Draws one footprint bar's cells; x = media centre. */
function drawBar(ctx: Ctx2D, view: RenderView, x: number, b: PreparedBar, o: FootprintOptions, th: Theme, detail: Detail, fontPx: number, st: RenderStats): void {
  const d = b.data, rs = d.rowSize;
  const { left, right } = bodySpan(view, x, o.bodyFraction);
  const w = right - left;
  const mid = left + Math.floor(w / 2);
  const pad = Math.max(1, Math.round(2 * view.hpr));
  const textMode = detail === 'full' || detail === 'compact';
  const isFull = detail === 'full';
  const dec = o.volumeDecimals;
  // full text falls back to compact text when the exact number does not fit the cell
  const put = (v: number, x0: number, x1: number, y: number, align: 'center' | 'left' | 'right' = 'center'): boolean =>
    (isFull && fitText(ctx, full(v, dec), x0, x1, y, pad, st, align)) || fitText(ctx, compact(v), x0, x1, y, pad, st, align);
  const paneBottom = view.height * view.vpr;
  // value-area strip on the left of the body
  if (o.showValueArea && b.vah >= 0) {
    const va = cellRows(view, (b.row0 + b.val) * rs, (b.row0 + b.vah + 1) * rs);
    if (va) {
      const sw = Math.max(1, Math.round(2 * view.hpr));
      ctx.fillStyle = th.valueArea;
      ctx.fillRect(left - sw - Math.max(1, Math.round(view.hpr)), va.top, sw, va.bottom - va.top);
      st.rects++;
    }
  }
  for (let i = 0; i < b.n; i++) {
    const bid = b.bid[i], ask = b.ask[i];
    if (bid === 0 && ask === 0) continue;
    const c = cellRows(view, (b.row0 + i) * rs, (b.row0 + i + 1) * rs);
    if (!c || c.bottom < 0 || c.top > paneBottom) continue;
    const h = Math.max(1, c.bottom - c.top - (c.bottom - c.top >= 4 ? 1 : 0));
    const ty = c.top + h / 2;
    const imb = o.showImbalances ? b.imb[i] : 0;
    switch (o.mode) {
      case 'bidask': {
        ctx.fillStyle = cellColor(b, i, 1, o, th); ctx.fillRect(left, c.top, mid - left, h);
        ctx.fillStyle = cellColor(b, i, 2, o, th); ctx.fillRect(mid, c.top, right - mid, h);
        st.rects += 2;
        if (textMode) {
          ctx.fillStyle = imb & 2 ? th.imbalanceText : th.text; put(bid, left, mid, ty, 'right');
          ctx.fillStyle = imb & 1 ? th.imbalanceText : th.text; put(ask, mid, right, ty, 'left');
        }
        break;
      }
      case 'delta':
      case 'volume': {
        ctx.fillStyle = cellColor(b, i, 0, o.mode === 'delta' ? { ...o, colorBy: 'delta' } : o, th);
        ctx.fillRect(left, c.top, w, h);
        st.rects++;
        if (textMode) { ctx.fillStyle = th.text; put(o.mode === 'delta' ? ask - bid : ask + bid, left, right, ty); }
        break;
      }
      case 'ladder': {
        ctx.fillStyle = th.cellEmpty; ctx.fillRect(left, c.top, w, h);
        const half = mid - left, halfR = right - mid;
        const lb = b.maxCell ? Math.round((half * bid) / b.maxCell) : 0, la = b.maxCell ? Math.round((halfR * ask) / b.maxCell) : 0;
        ctx.fillStyle = th.sellRamp[5]; if (lb > 0) ctx.fillRect(mid - lb, c.top, lb, h);
        ctx.fillStyle = th.buyRamp[5]; if (la > 0) ctx.fillRect(mid, c.top, la, h);
        st.rects += 3;
        if (textMode) {
          ctx.fillStyle = imb & 2 ? th.imbalanceText : th.text; put(bid, left, mid, ty, 'left');
          ctx.fillStyle = imb & 1 ? th.imbalanceText : th.text; put(ask, mid, right, ty, 'right');
        }
        break;
      }
      case 'profile': {
        const t = bid + ask;
        const len = b.maxRow ? Math.max(1, Math.round((w * t) / b.maxRow)) : 0;
        const ls = t ? Math.round((len * bid) / t) : 0;
        ctx.fillStyle = th.sellRamp[4]; if (ls > 0) ctx.fillRect(left, c.top, ls, h);
        ctx.fillStyle = th.buyRamp[4]; if (len - ls > 0) ctx.fillRect(left + ls, c.top, len - ls, h);
        st.rects += 2;
        if (textMode) { ctx.fillStyle = th.text; put(t, left, right, ty, 'left'); }
        break;
      }
    }
    if (imb && o.mode !== 'profile') {
      const iw = Math.max(1, Math.round(2 * view.hpr));
      if (imb & 2) { ctx.fillStyle = th.imbalanceSell; ctx.fillRect(left, c.top, iw, h); st.rects++; }
      if (imb & 1) { ctx.fillStyle = th.imbalanceBuy; ctx.fillRect(right - iw, c.top, iw, h); st.rects++; }
    }
  }
  // per-bar POC: an outline exactly on the POC cell's edges
  if (o.showPoc && b.poc >= 0) {
    const c = cellRows(view, (b.row0 + b.poc) * rs, (b.row0 + b.poc + 1) * rs);
    if (c) {
      const lw = Math.max(1, Math.round((fontPx >= 9 ? 1.5 : 1) * view.vpr));
      const lh = Math.max(1, Math.round((fontPx >= 9 ? 1.5 : 1) * view.hpr));
      const hgt = Math.max(1, c.bottom - c.top);
      ctx.fillStyle = th.poc;
      ctx.fillRect(left, c.top, w, Math.min(lw, hgt));
      ctx.fillRect(left, c.bottom - Math.min(lw, hgt), w, Math.min(lw, hgt));
      ctx.fillRect(left, c.top, lh, hgt);
      ctx.fillRect(right - lh, c.top, lh, hgt);
      st.rects += 4;
    }
  }
  // unfinished auctions: a short bar just outside the extreme row
  if (o.showUnfinished && (b.unfinishedHigh || b.unfinishedLow)) {
    const mh = Math.max(1, Math.round(2 * view.vpr));
    const qw = Math.max(2, Math.round(w / 3));
    ctx.fillStyle = th.unfinished;
    if (b.unfinishedHigh) { const c = cellRows(view, (b.row0 + b.n - 1) * rs, (b.row0 + b.n) * rs); if (c) { ctx.fillRect(mid - (qw >> 1), c.top - mh - 1, qw, mh); st.rects++; } }
    if (b.unfinishedLow) { const c = cellRows(view, (b.row0) * rs, (b.row0 + 1) * rs); if (c) { ctx.fillRect(mid - (qw >> 1), c.bottom + 1, qw, mh); st.rects++; } }
  }
}

function fontFor(rowPx: number, o: FootprintOptions, vpr: number): { px: number; font: string } {
  const px = Math.max(o.minFontPx, Math.min(o.maxFontPx, Math.floor(rowPx - 2)));
  return { px, font: `${Math.round(px * vpr)}px ${o.fontFamily}` };
}

/**
 * Block index of stacked zones (zones overlapping each 256-bar block), so a frame visits O(visible) zones.
 * `refreshLast` keeps it (and the zone list it indexes) up to date for a live change of the newest bar
 * in O(open zones + blocks of that bar) instead of a rebuild over every zone of the series.
 */
export class ZoneIndex {
  private blocks: number[][] = [];
  private stamp: Int32Array;
  private frame = 0;
  /** indexes of zones still open (to < 0), ascending */
  private open: number[] = [];
  /** indexes of zones closed at bar `closedAt` (the newest bar), ascending */
  private closed: number[] = [];
  private closedAt = -1;
  constructor(readonly zones: StackedZone[], public length: number) {
    this.stamp = new Int32Array(zones.length);
    this.closedAt = length - 1;
    for (let z = 0; z < zones.length; z++) {
      const a = zones[z].from >> 8, e = (zones[z].to < 0 ? length - 1 : zones[z].to) >> 8;
      for (let k = a; k <= e; k++) (this.blocks[k] ??= []).push(z);
      if (zones[z].to < 0) this.open.push(z); else if (zones[z].to === this.closedAt) this.closed.push(z);
    }
  }
  visit(from: number, to: number, fn: (z: StackedZone) => void): void {
    this.frame++;
    for (let k = Math.max(0, from >> 8); k <= to >> 8; k++) {
      const list = this.blocks[k];
      if (!list) continue;
      for (const z of list) { if (this.stamp[z] === this.frame) continue; this.stamp[z] = this.frame; fn(this.zones[z]); }
    }
  }

  /**
   * Bar i changed, i = the newest bar (replaced) or one past it (appended); `bar` is its [low, high +
   * rowSize/2) span (null: no rows) and `created` its own stacked zones. Leaves `zones` and this index
   * exactly as a rebuild would (prepareSeries' rule): zones created at i dropped, zones closed at i
   * reopened, open zones the bar trades into closed at i, then the bar's zones appended (open).
   */
  refreshLast(i: number, bar: { lo: number; hi: number } | null, created: readonly StackedZone[]): void {
    const zs = this.zones;
    if (i < this.length - 1 || i > this.length) throw new Error(`ZoneIndex.refreshLast: bar ${i} is not the newest (${this.length} bars)`);
    // zones created at i are the newest (open, in the blocks of i .. length - 1, last in each list)
    while (zs.length && zs[zs.length - 1].from === i) {
      const z = zs.length - 1;
      for (let k = i >> 8; k <= (this.length - 1) >> 8; k++) { const l = this.blocks[k]; if (l && l[l.length - 1] === z) l.pop(); }
      if (this.open[this.open.length - 1] === z) this.open.pop();
      zs.pop();
    }
    // reopen the zones bar i closed (a replaced bar): their blocks stay the same (they end at i either way)
    if (this.closedAt === i && this.closed.length) {
      for (const z of this.closed) zs[z].to = -1;
      this.open = mergeSorted(this.open, this.closed);
    }
    this.closed = [];
    this.closedAt = i;
    // an appended bar in a new block: every zone open until now spans it (as a later rebuild would list it)
    const len = Math.max(this.length, i + 1);
    if (len > this.length && (len - 1) >> 8 !== (this.length - 1) >> 8 && this.open.length) (this.blocks[(len - 1) >> 8] ??= []).push(...this.open);
    this.length = len;
    if (bar && this.open.length) {
      const still: number[] = [];
      for (const z of this.open) {
        const x = zs[z];
        if (x.from < i && bar.hi > x.low && bar.lo < x.high) { x.to = i; this.closed.push(z); } else still.push(z);
      }
      this.open = still;
    }
    for (const c of created) {
      const z = zs.length;
      zs.push(c);
      for (let k = c.from >> 8; k <= (len - 1) >> 8; k++) (this.blocks[k] ??= []).push(z);
      this.open.push(z);
    }
    if (zs.length > this.stamp.length) { const s = new Int32Array(Math.max(16, zs.length * 2)); s.set(this.stamp); this.stamp = s; }
  }
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0, j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i] < b[j]) ? a[i++] : b[j++]);
  return out;
}

/**
 * Draw a footprint series. `zoneIndex` (from the same prepared series) enables stacked-imbalance
 * zones. Returns the stats of this draw.
 */
export function drawFootprint(ctx: Ctx2D, series: PreparedSeries, view: RenderView, opts: Partial<FootprintOptions>, th: Theme, zoneIndex?: ZoneIndex, st: RenderStats = newStats()): RenderStats {
  const t0 = typeof performance !== 'undefined' ? performance.now() : 0;
  const o = { ...DEFAULT_FOOTPRINT, ...opts };
  st.rects = 0; st.texts = 0; st.bars = 0;
  const bars = series.bars;
  const from = Math.max(0, view.from), to = Math.min(bars.length - 1, view.to);
  if (to < from) { st.ms = 0; return st; }
  // row height from a representative visible bar
  let rowPx = 0;
  for (let i = to; i >= from && rowPx === 0; i--) if (bars[i].n) rowPx = rowPixels(view, bars[i].data.close, bars[i].data.rowSize);
  const detail = detailFor(rowPx, view.barSpacing, o);
  st.detail = detail;
  const f = fontFor(rowPx, o, view.vpr);
  ctx.save();
  if (detail !== 'candles' && o.showStacked && zoneIndex) {
    const W = view.width * view.hpr;
    zoneIndex.visit(from, to, (z) => {
      const c = cellRows(view, z.low, z.high);
      if (!c) return;
      const x0 = Math.round((view.xOf(z.from) + view.barSpacing / 2) * view.hpr);
      const x1 = z.to < 0 ? W : Math.round(view.xOf(z.to) * view.hpr);
      if (x1 <= 0 || x0 >= W) return;
      ctx.fillStyle = z.side === 'buy' ? th.zoneBuy : th.zoneSell;
      ctx.fillRect(x0, c.top, Math.max(1, x1 - x0), Math.max(1, c.bottom - c.top));
      st.rects++;
    });
  }
  setFont(ctx, f.font);
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  for (let i = from; i <= to; i++) {
    const b = bars[i];
    if (!b.n) continue;
    st.bars++;
    const x = view.xOf(i);
    if (detail === 'candles') drawCandle(ctx, view, x, b, th, st);
    else drawBar(ctx, view, x, b, o, th, detail, f.px, st);
  }
  if (o.showBarStats && detail !== 'candles' && view.barSpacing >= o.compactSpacing * 0.6) drawBarStats(ctx, series, view, from, to, o, th, st);
  ctx.restore();
  current = null;
  st.ms = typeof performance !== 'undefined' ? performance.now() - t0 : 0;
  return st;
}

/** Bar delta (coloured) and volume under each bar, along the bottom of the pane. */
function drawBarStats(ctx: Ctx2D, series: PreparedSeries, view: RenderView, from: number, to: number, o: FootprintOptions, th: Theme, st: RenderStats): void {
  const px = 10;
  setFont(ctx, `${Math.round(px * view.vpr)}px ${o.fontFamily}`);
  const lineH = Math.round(13 * view.vpr);
  const yVol = Math.round(view.height * view.vpr) - Math.round(lineH / 2) - 2;
  const yDelta = yVol - lineH;
  ctx.fillStyle = th.background;
  ctx.globalAlpha = 0.75;
  ctx.fillRect(0, yDelta - Math.round(lineH / 2), Math.round(view.width * view.hpr), lineH * 2 + 2);
  ctx.globalAlpha = 1;
  st.rects++;
  const fmt = view.barSpacing >= o.fullSpacing ? (v: number) => full(v, 1) : compact;
  for (let i = from; i <= to; i++) {
    const d = series.bars[i].data;
    const x = view.xOf(i);
    const x0 = Math.round((x - view.barSpacing / 2) * view.hpr), x1 = Math.round((x + view.barSpacing / 2) * view.hpr);
    ctx.fillStyle = d.delta > 0 ? th.buy : d.delta < 0 ? th.sell : th.textDim;
    fitText(ctx, fmt(d.delta), x0, x1, yDelta, 1, st);
    ctx.fillStyle = th.textDim;
    fitText(ctx, fmt(d.volume), x0, x1, yVol, 1, st);
  }
}

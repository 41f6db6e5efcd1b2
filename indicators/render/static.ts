/**
 * A self-contained chart layout (no host): background, price grid/labels, footprint bars and a
 * profile histogram on the right, on any Ctx2D in bitmap space. Used for Node image snapshots
 * (node-png.ts) and anywhere a picture of a bar range is wanted without a charting library.
 */
import type { Ctx2D, FootprintBarData, ProfileData } from './types.js';
import { prepareSeries, profileFromBars, type PrepareOptions } from './prepare.js';
import { drawFootprint, newStats, ZoneIndex, type FootprintOptions, type RenderStats, type RenderView } from './footprint.js';
import { drawProfile, type ProfileOptions } from './profile.js';
import { themeByName, type Theme } from './theme.js';

export interface StaticChartOptions {
  /** media size (CSS px) */
  width: number;
  height: number;
  pixelRatio: number;
  theme: 'dark' | 'light' | Theme;
  footprint: Partial<FootprintOptions>;
  profileOptions: Partial<ProfileOptions>;
  prepare: Partial<PrepareOptions>;
  /** media px given to the profile on the right (0 = none) */
  profileWidth: number;
  /** media px of the price axis on the right */
  axisWidth: number;
  /** price padding above/below the bars, in rows */
  padRows: number;
  title?: string;
  /** horizontal levels drawn across the bars with a label (an alert's entry / stop / target, a prior session's POC…); kept in view */
  levels?: ChartLevel[];
  /** a signal marker under (buy) or over (sell) the bar containing `time` */
  marker?: ChartMarker | null;
}

/** A labelled horizontal line; `role` picks its colour (entry: text, sl: sell, tp: buy, level: value area). */
export interface ChartLevel { price: number; label: string; role: 'entry' | 'sl' | 'tp' | 'level' }
export interface ChartMarker { time: number; side: 'buy' | 'sell' }

export const DEFAULT_STATIC: StaticChartOptions = {
  width: 1000, height: 600, pixelRatio: 1, theme: 'dark', footprint: {}, profileOptions: {}, prepare: {}, profileWidth: 160, axisWidth: 64, padRows: 2,
};

export interface StaticLayout {
  /** media geometry */
  priceToY(price: number): number;
  xOf(index: number): number;
  barSpacing: number;
  plotWidth: number;
  stats: RenderStats;
  profile: ProfileData | null;
}

/** Draw bars (+ profile; computed from the bars when null) into ctx, which must be width×pr by height×pr bitmap pixels. */
export function drawStaticChart(ctx: Ctx2D, bars: readonly FootprintBarData[], profile: ProfileData | null, options: Partial<StaticChartOptions> = {}): StaticLayout {
  const o = { ...DEFAULT_STATIC, ...options };
  const th = typeof o.theme === 'string' ? themeByName(o.theme) : o.theme;
  const pr = o.pixelRatio;
  const series = prepareSeries(bars, o.prepare);
  const prof = profile ?? (o.profileWidth > 0 ? profileFromBars(series.bars) : null);
  let lo = Infinity, hi = -Infinity, rs = 0;
  for (const b of bars) { if (b.low < lo) lo = b.low; if (b.high > hi) hi = b.high; rs = b.rowSize || rs; for (const r of b.rows) { if (r.price < lo) lo = r.price; if (r.price + b.rowSize > hi) hi = r.price + b.rowSize; } }
  if (prof) for (const r of prof.rows) { if (r.price < lo) lo = r.price; if (r.price + prof.rowSize > hi) hi = r.price + prof.rowSize; }
  // levels near the bars widen the range (the chart grows to at most ~2.5× the bars' span); farther ones are
  // pinned to the edge with an arrow, so a distant stop or target does not flatten the footprint
  if (Number.isFinite(lo)) {
    const span = Math.max(hi - lo, rs || 1), reachLo = lo - 0.75 * span, reachHi = hi + 0.75 * span;
    for (const l of o.levels ?? []) if (Number.isFinite(l.price) && l.price >= reachLo && l.price <= reachHi) { if (l.price < lo) lo = l.price; if (l.price > hi) hi = l.price; }
  }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  lo -= o.padRows * (rs || 1); hi += o.padRows * (rs || 1);
  const top = o.title ? 22 : 8, bottom = 34;
  const plotH = o.height - top - bottom;
  const priceToY = (p: number): number => top + ((hi - p) / (hi - lo)) * plotH;
  const plotWidth = o.width - o.axisWidth - o.profileWidth;
  const n = Math.max(1, bars.length);
  const barSpacing = plotWidth / n;
  const xOf = (i: number): number => (i + 0.5) * barSpacing;
  ctx.fillStyle = th.background;
  ctx.fillRect(0, 0, Math.round(o.width * pr), Math.round(o.height * pr));
  // price grid + labels
  ctx.font = `${Math.round(10 * pr)}px sans-serif`;
  ctx.textBaseline = 'middle';
  const step = niceStep((hi - lo) / 8);
  for (let p = Math.ceil(lo / step) * step; p <= hi; p += step) {
    const y = Math.round(priceToY(p) * pr);
    ctx.fillStyle = th.grid; ctx.fillRect(0, y, Math.round(plotWidth * pr), 1);
    ctx.fillStyle = th.textDim; ctx.fillText(String(Number(p.toFixed(8))), Math.round((o.width - o.axisWidth + 4) * pr), y);
  }
  if (o.title) { ctx.fillStyle = th.text; ctx.font = `${Math.round(12 * pr)}px sans-serif`; ctx.fillText(o.title, Math.round(6 * pr), Math.round(11 * pr)); }
  const view: RenderView = { hpr: pr, vpr: pr, width: plotWidth, height: o.height, barSpacing, priceToY, from: 0, to: bars.length - 1, xOf };
  const stats = drawFootprint(ctx, series, view, o.footprint, th, new ZoneIndex(series.zones, series.bars.length), newStats());
  if (prof && o.profileWidth > 0) {
    drawProfile(ctx, prof, { hpr: pr, vpr: pr, width: o.width - o.axisWidth, height: o.height, priceToY }, { x: plotWidth + 4, width: o.profileWidth - 8, lineFrom: 0, lineTo: plotWidth + o.profileWidth - 4 }, th, o.profileOptions);
  }
  for (const l of o.levels ?? []) {
    if (!Number.isFinite(l.price)) continue;
    const y = priceToY(l.price), above = y < top + 8, below = y > top + plotH - 8;
    // out of view: pinned inside the top / bottom edge, the label saying which way it is
    drawLevel(ctx, above || below ? { ...l, label: `${l.label} ${above ? '↑' : '↓'}` } : l, above ? top + 8 : below ? top + plotH - 8 : y, plotWidth, pr, th, !(above || below));
  }
  if (o.marker) drawMarker(ctx, o.marker, bars, xOf, priceToY, barSpacing, pr, th);
  return { priceToY, xOf, barSpacing, plotWidth, stats, profile: prof };
}

function levelColor(role: ChartLevel['role'], th: Theme): string {
  return role === 'sl' ? th.sell : role === 'tp' ? th.buy : role === 'entry' ? th.text : th.vah;
}

/** A dashed line across the plot (when in view) and its label in a filled tag at the left edge. */
function drawLevel(ctx: Ctx2D, l: ChartLevel, yMedia: number, plotWidth: number, pr: number, th: Theme, line: boolean): void {
  const color = levelColor(l.role, th);
  const y = Math.round(yMedia * pr) + 0.5;
  ctx.save();
  if (line) {
    ctx.strokeStyle = color;
    ctx.lineWidth = Math.max(1, Math.round(pr));
    ctx.setLineDash([Math.round(6 * pr), Math.round(4 * pr)]);
    ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(Math.round(plotWidth * pr), y); ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.font = `${Math.round(11 * pr)}px sans-serif`;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  const pad = Math.round(4 * pr), w = Math.ceil(ctx.measureText(l.label).width) + 2 * pad, h = Math.round(15 * pr);
  ctx.fillStyle = color;
  ctx.fillRect(Math.round(2 * pr), Math.round(y - h / 2), w, h);
  ctx.fillStyle = th.background;
  ctx.fillText(l.label, Math.round(2 * pr) + pad, Math.round(y));
  ctx.restore();
}

/** A triangle under the low (buy, pointing up) or over the high (sell, pointing down) of the bar containing `time`. */
function drawMarker(ctx: Ctx2D, m: ChartMarker, bars: readonly FootprintBarData[], xOf: (i: number) => number, priceToY: (p: number) => number, barSpacing: number, pr: number, th: Theme): void {
  let i = -1;
  for (let k = 0; k < bars.length; k++) if (bars[k].time <= m.time) i = k;
  if (i < 0) return;
  const b = bars[i];
  const x = xOf(i) * pr, s = Math.max(5, Math.min(10, barSpacing * 0.4)) * pr;
  const buy = m.side === 'buy';
  const y = (buy ? priceToY(b.low) + 6 : priceToY(b.high + b.rowSize) - 6) * pr;
  ctx.save();
  ctx.fillStyle = buy ? th.markerBuy : th.markerSell;
  ctx.beginPath();
  if (buy) { ctx.moveTo(x, y); ctx.lineTo(x - s, y + 1.6 * s); ctx.lineTo(x + s, y + 1.6 * s); } else { ctx.moveTo(x, y); ctx.lineTo(x - s, y - 1.6 * s); ctx.lineTo(x + s, y - 1.6 * s); }
  ctx.closePath();
  ctx.fill();
  ctx.restore();
}

function niceStep(x: number): number {
  if (!(x > 0)) return 1;
  const e = Math.pow(10, Math.floor(Math.log10(x)));
  const m = x / e;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
}

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
}

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
  return { priceToY, xOf, barSpacing, plotWidth, stats, profile: prof };
}

function niceStep(x: number): number {
  if (!(x > 0)) return 1;
  const e = Math.pow(10, Math.floor(Math.log10(x)));
  const m = x / e;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
}

/**
 * Node-only: render footprint bars + a profile to a PNG (via @napi-rs/canvas), e.g. for Telegram
 * alerts and image snapshots. Not part of the browser bundles.
 */
import { createCanvas } from '@napi-rs/canvas';
import type { Ctx2D, FootprintBarData, ProfileData } from './types.js';
import { drawStaticChart, type StaticChartOptions, type StaticLayout } from './static.js';

export type PngOptions = Partial<StaticChartOptions>;

/** Render and return the PNG bytes plus the layout (for tests). */
export function renderFootprintPngWithLayout(bars: readonly FootprintBarData[], profile: ProfileData | null, opts: PngOptions = {}): { png: Buffer; layout: StaticLayout; width: number; height: number } {
  const width = opts.width ?? 1000, height = opts.height ?? 600, pr = opts.pixelRatio ?? 1;
  const W = Math.round(width * pr), H = Math.round(height * pr);
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d') as unknown as Ctx2D;
  const layout = drawStaticChart(ctx, bars, profile, { ...opts, width, height, pixelRatio: pr });
  return { png: canvas.toBuffer('image/png'), layout, width: W, height: H };
}

/** PNG of footprint + profile for a bar range (profile computed from the bars when null). */
export function renderFootprintPng(bars: readonly FootprintBarData[], profile: ProfileData | null, opts: PngOptions = {}): Buffer {
  return renderFootprintPngWithLayout(bars, profile, opts).png;
}

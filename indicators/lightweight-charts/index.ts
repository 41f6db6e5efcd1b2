/**
 * TapeFlow indicators for Lightweight Charts v5 (`tapeflow/indicators/lightweight-charts`).
 * Pass the library module as `lwc` (ESM import or the standalone global `LightweightCharts`).
 */
import type { IChartApi } from 'lightweight-charts';
import { FootprintController, type FootprintControllerOptions, type LwcRuntime } from './footprint-series.js';
import { VolumeProfilePrimitive, DepthHeatmapPrimitive, type VolumeProfileOptions } from './primitives.js';
import { DeltaPanes, VwapBands, SignalLayer, type LwcSeriesRuntime } from './overlays.js';
import { VwapRun } from '../render/vwap.js';
import { PocLevelsPrimitive } from './poc-levels.js';
import { PaneTexts } from './pane-texts.js';
import { ClearOfLabels } from './axis-labels.js';
import type { FootprintBarData } from '../render/types.js';

export * from './footprint-series.js';
export * from './primitives.js';
export * from './overlays.js';
export * from './signal-labels.js';
export * from './poc-levels.js';
export * from './time-axis.js';
export * from './axis-labels.js';
export * from './pane-texts.js';
export * from '../render/index.js';

export interface OrderFlowOptions extends FootprintControllerOptions {
  profile?: Partial<VolumeProfileOptions> | false;
  heatmap?: boolean;
  deltaPanes?: boolean;
  vwap?: boolean;
  signals?: boolean;
  /** developing and naked POC (poc-levels.ts) */
  pocLevels?: boolean;
}

export interface OrderFlow {
  footprint: FootprintController;
  profile: VolumeProfilePrimitive | null;
  heatmap: DepthHeatmapPrimitive | null;
  delta: DeltaPanes | null;
  vwap: VwapBands | null;
  signals: SignalLayer | null;
  pocLevels: PocLevelsPrimitive | null;
  /** the price pane's shared text layout (tags, profile texts; signal labels keep clear of it) */
  texts: PaneTexts;
  setBars(bars: readonly FootprintBarData[]): void;
  update(bar: FootprintBarData): void;
}

/** Footprint series + every plugin on one chart, fed together. */
export function attachOrderFlow(chart: IChartApi, lwc: LwcRuntime & LwcSeriesRuntime, o: OrderFlowOptions = {}): OrderFlow {
  const footprint = new FootprintController(chart, lwc, o);
  // the price axis draws no tick label under the last-value or a price line's label (axis-labels.ts); prices with 2 decimals as before
  if (!o.seriesOptions?.priceFormat) {
    const axis = new ClearOfLabels(chart, { format: (p) => p.toFixed(2) });
    footprint.series.applyOptions({ priceFormat: axis.priceFormat });
    axis.attach(footprint.series);
  }
  // first: its 'bottom' view starts each frame before any other plugin draws
  const texts = new PaneTexts(footprint);
  footprint.series.attachPrimitive(texts);
  const profile = o.profile === false ? null : new VolumeProfilePrimitive(footprint, o.profile ?? {});
  const heatmap = o.heatmap === false ? null : new DepthHeatmapPrimitive(footprint);
  if (heatmap) footprint.series.attachPrimitive(heatmap);
  if (profile) { profile.texts = texts; footprint.series.attachPrimitive(profile); }
  const delta = o.deltaPanes === false ? null : new DeltaPanes(chart, lwc, footprint.theme, 1);
  const vwap = o.vwap === false ? null : new VwapBands(footprint, [1, 2], texts);
  const signals = o.signals === false ? null : new SignalLayer(footprint, lwc, texts);
  // CVD, delta and VWAP hold the same window of bars as the footprint (see FootprintController)
  const run = new VwapRun();
  let stale = true;
  footprint.onWindow((w) => {
    const bs = footprint.bars;
    delta?.setBars(bs.slice(w.from, w.to));
    if (!vwap) return;
    if (stale) { run.reset(bs); stale = false; }
    vwap.setPoints(w.to > w.from ? run.between(bs[w.from].time, bs[w.to - 1].time) : []);
  });
  const pocLevels = o.pocLevels === false ? null : new PocLevelsPrimitive(footprint);
  if (pocLevels) footprint.series.attachPrimitive(pocLevels);
  // after the other primitives: the lines over the cells, the profile and the POC levels, as the line series were
  if (vwap) footprint.series.attachPrimitive(vwap);
  // signal labels keep clear of every tag (open trade, VWAP, σ) and profile text ("POC") of the pane's layout
  if (signals) {
    signals.labels.obstacles = () => texts.boxes;
    signals.labels.sharedBodies = (w) => ({ bodies: texts.barBodies(w), index: texts.bodyIndex });
  }
  return {
    footprint, profile, heatmap, delta, vwap, signals, pocLevels, texts,
    setBars(bars) { stale = true; footprint.setBars(bars); },
    update(bar) {
      if (!footprint.update(bar)) return;
      // the newest VWAP point from running session sums: O(rows of the bar), never O(all bars)
      const pt = vwap ? run.add(bar) : null;
      if (!footprint.holdsLast) return;
      delta?.update(bar);
      if (pt) vwap!.updatePoint(pt);
    },
  };
}

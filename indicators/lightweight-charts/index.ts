/**
 * TapeFlow indicators for Lightweight Charts v5 (`tapeflow/indicators/lightweight-charts`).
 * Pass the library module as `lwc` (ESM import or the standalone global `LightweightCharts`).
 */
import type { IChartApi } from 'lightweight-charts';
import { FootprintController, type FootprintControllerOptions, type LwcRuntime } from './footprint-series.js';
import { VolumeProfilePrimitive, DepthHeatmapPrimitive, type VolumeProfileOptions } from './primitives.js';
import { DeltaPanes, VwapBands, SignalLayer, vwapFromBars, type LwcSeriesRuntime } from './overlays.js';
import type { FootprintBarData } from '../render/types.js';

export * from './footprint-series.js';
export * from './primitives.js';
export * from './overlays.js';
export * from './signal-labels.js';
export * from '../render/index.js';

export interface OrderFlowOptions extends FootprintControllerOptions {
  profile?: Partial<VolumeProfileOptions> | false;
  heatmap?: boolean;
  deltaPanes?: boolean;
  vwap?: boolean;
  signals?: boolean;
}

export interface OrderFlow {
  footprint: FootprintController;
  profile: VolumeProfilePrimitive | null;
  heatmap: DepthHeatmapPrimitive | null;
  delta: DeltaPanes | null;
  vwap: VwapBands | null;
  signals: SignalLayer | null;
  setBars(bars: readonly FootprintBarData[]): void;
  update(bar: FootprintBarData): void;
}

/** Footprint series + every plugin on one chart, fed together. */
export function attachOrderFlow(chart: IChartApi, lwc: LwcRuntime & LwcSeriesRuntime, o: OrderFlowOptions = {}): OrderFlow {
  const footprint = new FootprintController(chart, lwc, o);
  const profile = o.profile === false ? null : new VolumeProfilePrimitive(footprint, o.profile ?? {});
  const heatmap = o.heatmap === false ? null : new DepthHeatmapPrimitive(footprint);
  if (heatmap) footprint.series.attachPrimitive(heatmap);
  if (profile) footprint.series.attachPrimitive(profile);
  const delta = o.deltaPanes === false ? null : new DeltaPanes(chart, lwc, footprint.theme, 1);
  const vwap = o.vwap === false ? null : new VwapBands(chart, lwc, footprint.theme);
  const signals = o.signals === false ? null : new SignalLayer(footprint, lwc);
  return {
    footprint, profile, heatmap, delta, vwap, signals,
    setBars(bars) { footprint.setBars(bars); delta?.setBars(footprint.bars); vwap?.setPoints(vwapFromBars(footprint.bars)); },
    update(bar) {
      if (!footprint.update(bar)) return;
      delta?.update(bar);
      // the newest bar's VWAP point from its own UTC-day session only: O(session), never O(all bars)
      if (vwap) {
        const bs = footprint.bars, n = bs.length, day = Math.floor(bs[n - 1].time / 86_400_000);
        let i = n - 1;
        while (i > 0 && Math.floor(bs[i - 1].time / 86_400_000) === day) i--;
        const pts = vwapFromBars(bs.slice(i));
        const last = pts[pts.length - 1];
        if (last && last.time === bs[n - 1].time) vwap.updatePoint(last);
      }
    },
  };
}

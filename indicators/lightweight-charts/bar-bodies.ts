/**
 * The footprint bar bodies on screen (cell text lives inside them), in pane media px: what the pane text
 * layout and the signal labels must keep clear of. One pass over the visible range only.
 */
import type { IChartApi, ISeriesApi, SeriesType } from 'lightweight-charts';
import type { FootprintController } from './footprint-series.js';
import { DEFAULT_FOOTPRINT } from '../render/footprint.js';
import type { Box } from './signal-labels.js';

/** Bodies of the bars visible in a pane `width` px wide; `index` gets each body's bar index. */
export function visibleBarBodies(fp: FootprintController, series: ISeriesApi<SeriesType>, chart: IChartApi, width: number, index: number[] | null = null): Box[] {
  const out: Box[] = [];
  const sp = chart.timeScale().options().barSpacing;
  const half = (sp * (fp.footprintOptions.bodyFraction ?? DEFAULT_FOOTPRINT.bodyFraction)) / 2;
  const vr = chart.timeScale().getVisibleRange();
  const n = fp.prepared.bars.length;
  const lo = vr ? Math.max(0, fp.indexAt((vr.from as number) * 1000) - 2) : 0, hi = vr ? Math.min(n - 1, fp.indexAt((vr.to as number) * 1000 + 999) + 2) : n - 1;
  for (let i = lo; i <= hi; i++) {
    const x = fp.xOfIndex(i);
    if (!Number.isFinite(x) || x < -sp || x > width + sp) continue;
    const b = fp.prepared.bars[i];
    if (!b.n) continue;
    const yTop = series.priceToCoordinate((b.row0 + b.n) * b.data.rowSize), yBot = series.priceToCoordinate(b.row0 * b.data.rowSize);
    if (yTop === null || yBot === null) continue;
    out.push({ x: x - half, y: Math.min(yTop, yBot), w: 2 * half, h: Math.abs(yBot - yTop) });
    index?.push(i);
  }
  return out;
}

/**
 * Chart snapshots for alerts and /chart: the last N footprint bars and the current session profile of
 * an instrument, taken through the HistoryService (the /api/v1 JSON shapes) and drawn to PNG by
 * indicators/render/node-png.ts (@napi-rs/canvas). Node-only.
 *
 * Split in two so the drawing can run off the engine's thread: `data()` (engine thread) serialises just
 * what a snapshot needs into a compact, structured-clone-able `ChartData` (rows packed into one
 * Float64Array per bar, transferable), and `renderChartData()` (alerts worker) draws it.
 */
import type { Engine } from '../analytics/engine.js';
import { HistoryService } from '../../../datafeed-adapter/src/service/history.js';
import { fromApiBar, fromApiProfile } from '../../../indicators/render/prepare.js';
import type { ChartLevel, ChartMarker } from '../../../indicators/render/static.js';
import { packBar, renderChartData, type ChartData } from './chart-data.js';

export * from './chart-data.js';

export interface SnapshotRequest {
  /** '1m', '5m', '15m', '1h', '4h', '1D' or a UDF resolution ('5', '60', '1D'); default the engine's base timeframe */
  timeframe?: string;
  /** draw bars up to this time (default: the latest bar) */
  at?: number;
  /** the session whose profile is drawn (default: the session of `at`, else the current one) */
  profileSession?: string;
  /** levels and a marker drawn over the bars (an alert's entry / stop / target, a prior session's value area) */
  levels?: ChartLevel[];
  marker?: ChartMarker | null;
}

/** Where alert snapshots come from (a renderer, or a test stub). */
export interface ChartSnapshotProvider {
  /** PNG bytes, or null when there is nothing to draw; throws on a bad request (e.g. an unknown timeframe) */
  snapshot(symbol: string, req?: SnapshotRequest): Promise<Uint8Array | null>;
  /**
   * Optional: only the data of the snapshot (cheap, synchronous), to be drawn by `renderChartData`
   * elsewhere (the alerts worker). Providers without it are asked for the PNG on the engine's thread.
   */
  data?(symbol: string, req?: SnapshotRequest): ChartData | null;
}

/** '5m' → '5', '1h' → '60', '4h' → '240', '1d' → '1D'; other strings pass through (UDF resolutions). */
export function toResolution(tf: string): string {
  const m = /^(\d+)\s*([smhdw])$/i.exec(tf.trim());
  if (!m) return tf.trim();
  const n = Number(m[1]), u = m[2].toLowerCase();
  if (u === 's') return `${n}S`;
  if (u === 'm') return String(n);
  if (u === 'h') return String(n * 60);
  if (u === 'd') return `${n}D`;
  return `${n}W`;
}

export interface FootprintChartOptions { bars: number; width: number; height: number; theme: 'dark' | 'light'; service?: HistoryService }

export function footprintChartProvider(engine: Engine, o: Partial<FootprintChartOptions> = {}): ChartSnapshotProvider {
  const service = o.service ?? new HistoryService(engine);
  const nBars = o.bars ?? 30;
  const data = (symbol: string, req: SnapshotRequest = {}): ChartData | null => {
    const p = engine.pipelines.get(symbol);
    if (!p) return null;
    const last = p.openBar?.end ?? (p.bars.length ? p.bars[p.bars.length - 1].bar.end : NaN);
    if (!(last === last)) return null;
    const to = Math.min(req.at !== undefined ? req.at + 1 : last, last);
    const res = req.timeframe ? toResolution(req.timeframe) : '1';
    const fp = service.footprint(symbol, { agg: 'time', resolution: res, from: to, to, countback: nBars, rows: true }) as { bars: Record<string, unknown>[] };
    if (!fp.bars.length) return null;
    const bars = fp.bars.slice(-nBars).map((b) => packBar(fromApiBar(b)));
    // the profile of the session the chart ends in (an alert drawn later than it fired), else the current one
    let prof: Record<string, unknown>;
    const session = req.profileSession ?? (req.at !== undefined ? p.instrument.calendar.sessionFrom(req.at).key : '');
    try {
      prof = service.profile(symbol, session ? { type: 'session', session, rows: true } : { type: 'session', rows: true });
    } catch {
      prof = service.profile(symbol, { type: 'session', rows: true });
    }
    const profile = Array.isArray(prof.rows) && prof.rows.length ? fromApiProfile(prof) : null;
    const title = `${symbol} ${req.timeframe ?? (typeof engine.pipelineOptions.timeframe === 'string' ? engine.pipelineOptions.timeframe : '')}`.trim();
    return { title, width: o.width ?? 1000, height: o.height ?? 600, theme: o.theme ?? 'dark', bars, profile, ...(req.levels?.length ? { levels: req.levels } : {}), ...(req.marker ? { marker: req.marker } : {}) };
  };
  return {
    data,
    async snapshot(symbol, req = {}) {
      const d = data(symbol, req);
      return d ? renderChartData(d) : null;
    },
  };
}

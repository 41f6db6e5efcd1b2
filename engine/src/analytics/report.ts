/**
 * Human-facing summary of a pipeline: volumes in instrument units, prices in price units, and the
 * provenance of the buy/sell split (how each side was classified).
 */
import type { InstrumentPipeline } from './pipeline.js';
import { SIDE_SOURCES } from '../core/events.js';

export interface PipelineReport {
  instrument: string;
  flow: string;
  timeframe: string;
  bars: number;
  trades: number;
  quotes: number;
  volume: number;
  buyVolume: number;
  sellVolume: number;
  unknownVolume: number;
  delta: number;
  /** share of volume per classification rung, in % */
  sideSources: Record<string, number>;
  tradeIdGaps: number;
  /** trades older than a bar already closed (put into the next bar): the input was not in time order */
  lateTrades: number;
  firstTs: string | null;
  lastTs: string | null;
  sessionProfile: { session: string; poc: number; vah: number; val: number; volume: number; shape: string; pocPct: number } | null;
  cvd: number;
  vwap: { anchor: string; vwap: number; stdev: number; upper: number[]; lower: number[] } | null;
  checksum: string;
}

export function pipelineReport(p: InstrumentPipeline): PipelineReport {
  const inst = p.instrument;
  const vol = (lots: number): number => Number(inst.qty.format(lots));
  const px = (ticks: number): number => (Number.isFinite(ticks) ? Number(inst.price.format(ticks)) : NaN);
  const pxf = (ticks: number): number => Number((ticks * Number(inst.tickSize)).toFixed(inst.price.decimals + 2));
  const c = p.counters;
  const sources: Record<string, number> = {};
  SIDE_SOURCES.forEach((s, i) => { if (c.sourceVolume[i] > 0) sources[s] = Number(((100 * c.sourceVolume[i]) / c.volume).toFixed(2)); });
  const cur = p.profiles.current;
  const sum = cur ? cur.profile.summary({ valueArea: p.opts.valueArea }) : null;
  const prof = cur && sum ? { session: cur.key, poc: sum.pocPrice, vah: sum.vahPrice, val: sum.valPrice, volume: sum.totalVolume, shape: sum.shape, pocPct: sum.pocPct } : null;
  const first = p.bars[0]?.bar.firstTs ?? p.openBar?.firstTs;
  const v = p.sessionVwap;
  return {
    instrument: inst.id,
    flow: c.quoteActivityUnits > 0 ? 'quote-activity (buy/sell inferred from mid-price ticks; not order flow)' : 'orderflow',
    timeframe: p.spec.label,
    bars: p.bars.length + (p.openBar ? 1 : 0),
    trades: c.trades,
    quotes: c.quotes,
    volume: vol(c.volume),
    buyVolume: vol(c.buyVolume),
    sellVolume: vol(c.sellVolume),
    unknownVolume: vol(c.unknownVolume),
    delta: vol(c.buyVolume - c.sellVolume),
    sideSources: sources,
    tradeIdGaps: c.idGaps,
    lateTrades: p.lateTrades,
    firstTs: first ? new Date(first).toISOString() : null,
    lastTs: p.lastTs ? new Date(p.lastTs).toISOString() : null,
    sessionProfile: prof ? { session: prof.session, poc: px(prof.poc), vah: px(prof.vah), val: px(prof.val), volume: vol(prof.volume), shape: prof.shape, pocPct: Number(prof.pocPct.toFixed(1)) } : null,
    cvd: vol(p.cvd.value),
    vwap: v.weight > 0 ? { anchor: new Date(v.anchor).toISOString(), vwap: pxf(v.value), stdev: pxf(v.stdev), upper: [1, 2, 3].map((k) => pxf(v.band(k))), lower: [1, 2, 3].map((k) => pxf(v.band(-k))) } : null,
    checksum: p.checksum(),
  };
}

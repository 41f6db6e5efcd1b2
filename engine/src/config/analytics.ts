/** Pipeline options from the `analytics` section (the engine's other options keep their defaults). */
import { BarMemory, type PipelineOptions } from '../analytics/pipeline.js';
import type { AnalyticsConfig } from './types.js';

/**
 * The pipeline options `tapeflow start` runs with: the analytics section, UTC-aligned bars, and the
 * closed bars and profiles held in memory bounded by analytics.barMemoryMB (not by a bar count).
 */
export function pipelineOptionsFrom(c: { analytics: AnalyticsConfig }): Partial<PipelineOptions> {
  return { ...pipelineOptions(c.analytics), align: 'utc', keepBars: Infinity, barMemory: new BarMemory(c.analytics.barMemoryMB * 1_048_576) };
}

export function pipelineOptions(a: AnalyticsConfig): Pick<PipelineOptions, 'timeframe' | 'cvdReset' | 'valueArea' | 'imbalance' | 'imbalanceSizes' | 'stackedMinRows'> {
  const { minDominant, minOther, ...imbalance } = a.imbalance;
  return {
    timeframe: a.timeframe,
    cvdReset: a.cvdReset,
    valueArea: { pct: a.valueAreaPct },
    // minimums are instrument units in the config: each pipeline converts them to its instrument's lots
    imbalance,
    imbalanceSizes: { minDominant, minOther },
    stackedMinRows: a.stackedMinRows,
  };
}

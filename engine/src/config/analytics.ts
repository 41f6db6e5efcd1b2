/** Pipeline options from the `analytics` section (the engine's other options keep their defaults). */
import type { PipelineOptions } from '../analytics/pipeline.js';
import type { AnalyticsConfig } from './types.js';

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

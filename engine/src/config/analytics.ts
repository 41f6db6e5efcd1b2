/** Pipeline options from the `analytics` section (the engine's other options keep their defaults). */
import type { PipelineOptions } from '../analytics/pipeline.js';
import type { AnalyticsConfig } from './types.js';

export function pipelineOptions(a: AnalyticsConfig): Pick<PipelineOptions, 'timeframe' | 'cvdReset' | 'valueArea' | 'imbalance' | 'stackedMinRows'> {
  return {
    timeframe: a.timeframe,
    cvdReset: a.cvdReset,
    valueArea: { pct: a.valueAreaPct },
    imbalance: { ...a.imbalance },
    stackedMinRows: a.stackedMinRows,
  };
}

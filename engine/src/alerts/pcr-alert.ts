/** A PCR report → the Telegram alert sent when the bias changes (engine/src/alerts format 'pcr'). */
import type { PcrReport } from '../signals/pcr.js';
import type { PcrAlert } from './types.js';

const r3 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

export function pcrAlert(r: PcrReport, previousBias: string | null): PcrAlert | null {
  if (r.bias === null || r.bias === previousBias) return null;
  const t = r.thresholds;
  return {
    kind: 'pcr', symbol: r.underlying, ts: r.ts, key: `pcr:${r.underlying}:${r.ts}:${r.bias}`,
    bias: r.bias, previousBias, expiries: r.expiries, spot: r.spot, atmStrike: r.atmStrike,
    pcrOi: r3(r.overall.pcrOi), pcrVolume: r3(r.overall.pcrVolume), nearAtmPcrOi: r3(r.nearAtm?.pcrOi ?? null), changePcrOi: r3(r.changePcrOi),
    reasoning: [
      `bias from the ${r.nearAtm ? `near-the-money PCR by OI (ATM ± ${r.strikes} strikes, ${r.nearAtm.strikeLow}–${r.nearAtm.strikeHigh})` : 'overall PCR by OI (spot unknown)'}`,
      `thresholds: ≤ ${t.strongBearish} strong bearish, ≤ ${t.bearish} bearish, ≥ ${t.bullish} bullish, ≥ ${t.strongBullish} strong bullish`,
      `${r.legs} options of ${r.expiries.join(', ')}; put OI ${r.overall.putOi}, call OI ${r.overall.callOi}`,
    ],
  };
}

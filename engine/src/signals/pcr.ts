/**
 * Options-chain put-call ratio (PCR). Pure: the Kite feed supplies each leg's latest open interest and
 * cumulative day volume, and the underlying's price.
 *
 * - PCR by OI = Σ put OI / Σ call OI; PCR by volume = Σ put volume / Σ call volume (NaN → null when the
 *   call side is 0). Both overall (every strike of the selected expiries) and near the money: the ATM strike
 *   (the listed strike nearest the underlying; the lower one on a tie) and `strikes` listed strikes each side.
 * - Change over the session: the current PCR by OI minus the first PCR by OI computed in the same IST
 *   trading day (null before a second reading).
 * - Bias from the near-the-money PCR by OI with configurable thresholds (defaults below, the usual
 *   contrarian reading of option writers: many puts written = support = bullish):
 *     ≤ strongBearish 'strong bearish', ≤ bearish 'bearish', ≥ strongBullish 'strong bullish',
 *     ≥ bullish 'bullish', else 'neutral'.
 * Every report carries `derivation` saying exactly this, so a reader never has to guess.
 */

export interface PcrThresholds { strongBearish: number; bearish: number; bullish: number; strongBullish: number }
export const DEFAULT_PCR_THRESHOLDS: Readonly<PcrThresholds> = Object.freeze({ strongBearish: 0.5, bearish: 0.8, bullish: 1.2, strongBullish: 1.5 });

export type PcrBias = 'strong bearish' | 'bearish' | 'neutral' | 'bullish' | 'strong bullish';

export interface PcrLeg { strike: number; type: 'CE' | 'PE'; expiry: string; oi: number; volume: number }

export interface PcrSide { pcrOi: number | null; pcrVolume: number | null; putOi: number; callOi: number; putVolume: number; callVolume: number }

export interface PcrReport {
  underlying: string;
  /** the instrument the report is published under (WS channel `pcr`): the chain's spot instrument id (its first option's when the spot is unknown); null outside a feed */
  symbol: string | null;
  expiries: string[];
  ts: number;
  /** underlying price (price units); null when unknown (near-the-money figures are then null too) */
  spot: number | null;
  atmStrike: number | null;
  strikes: number;
  overall: PcrSide;
  nearAtm: (PcrSide & { strikeLow: number; strikeHigh: number }) | null;
  /** PCR by OI change since the first reading of this IST day */
  sessionOpenPcrOi: number | null;
  changePcrOi: number | null;
  bias: PcrBias | null;
  thresholds: PcrThresholds;
  legs: number;
  derivation: string;
}

function ratio(p: number, c: number): number | null { return c > 0 ? p / c : null; }

function side(legs: readonly PcrLeg[]): PcrSide {
  let putOi = 0, callOi = 0, putVolume = 0, callVolume = 0;
  for (const l of legs) if (l.type === 'PE') { putOi += l.oi; putVolume += l.volume; } else { callOi += l.oi; callVolume += l.volume; }
  return { pcrOi: ratio(putOi, callOi), pcrVolume: ratio(putVolume, callVolume), putOi, callOi, putVolume, callVolume };
}

export function classifyPcr(pcr: number | null, t: PcrThresholds = DEFAULT_PCR_THRESHOLDS): PcrBias | null {
  if (pcr === null) return null;
  if (pcr <= t.strongBearish) return 'strong bearish';
  if (pcr <= t.bearish) return 'bearish';
  if (pcr >= t.strongBullish) return 'strong bullish';
  if (pcr >= t.bullish) return 'bullish';
  return 'neutral';
}

/** Check thresholds are increasing positive numbers; returns the problem or null. */
export function pcrThresholdsProblem(t: PcrThresholds): string | null {
  const v = [t.strongBearish, t.bearish, t.bullish, t.strongBullish];
  if (!v.every((x) => Number.isFinite(x) && x > 0)) return 'every threshold must be a positive number';
  if (!(v[0]! < v[1]! && v[1]! < v[2]! && v[2]! < v[3]!)) return 'thresholds must increase: strongBearish < bearish < bullish < strongBullish';
  return null;
}

export const PCR_DERIVATION = 'PCR = Σ put / Σ call of open interest (pcrOi) and of day volume (pcrVolume) over the selected expiries; near the money = the ATM strike (nearest the underlying) ± `strikes` listed strikes; change = PCR by OI now minus the first reading of the IST day; bias from the near-the-money PCR by OI (overall when the underlying price is unknown) against the thresholds';

export function computePcr(underlying: string, expiries: string[], legs: readonly PcrLeg[], spot: number | null, strikes: number, thresholds: PcrThresholds, ts: number): Omit<PcrReport, 'sessionOpenPcrOi' | 'changePcrOi'> {
  const overall = side(legs);
  let atmStrike: number | null = null, nearAtm: PcrReport['nearAtm'] = null;
  const listed = [...new Set(legs.map((l) => l.strike))].sort((a, b) => a - b);
  if (spot !== null && listed.length) {
    let k = 0;
    for (let i = 1; i < listed.length; i++) if (Math.abs(listed[i]! - spot) < Math.abs(listed[k]! - spot)) k = i;
    atmStrike = listed[k]!;
    const lo = listed[Math.max(0, k - strikes)]!, hi = listed[Math.min(listed.length - 1, k + strikes)]!;
    nearAtm = { ...side(legs.filter((l) => l.strike >= lo && l.strike <= hi)), strikeLow: lo, strikeHigh: hi };
  }
  return { underlying, symbol: null, expiries, ts, spot, atmStrike, strikes, overall, nearAtm, bias: classifyPcr(nearAtm ? nearAtm.pcrOi : overall.pcrOi, thresholds), thresholds, legs: legs.length, derivation: PCR_DERIVATION };
}

/** IST calendar day of a UTC ms time (India has no DST: +05:30). */
export function istDay(ts: number): string {
  return new Date(ts + 19_800_000).toISOString().slice(0, 10);
}

/** True when two reports say the same (everything but the time): the feed publishes a report only when it changed. */
export function samePcr(a: PcrReport | null, b: PcrReport): boolean {
  if (!a) return false;
  return JSON.stringify({ ...a, ts: 0 }) === JSON.stringify({ ...b, ts: 0 });
}

/** Keeps the first PCR by OI of each IST day to report the change over the session. */
export class PcrSession {
  private day = '';
  private open: number | null = null;
  report(r: Omit<PcrReport, 'sessionOpenPcrOi' | 'changePcrOi'>): PcrReport {
    const d = istDay(r.ts);
    if (d !== this.day) { this.day = d; this.open = null; }
    const now = r.overall.pcrOi;
    if (this.open === null && now !== null) return { ...r, sessionOpenPcrOi: (this.open = now), changePcrOi: null };
    return { ...r, sessionOpenPcrOi: this.open, changePcrOi: this.open !== null && now !== null ? now - this.open : null };
  }
}

/** The chain of an underlying: CE/PE rows named `underlying`, on the nearest expiry on/after `today` or the listed ones. */
export function selectChain<T extends { name: string; type: string; expiry: string; exchange: string }>(rows: readonly T[], underlying: string, expiry: 'nearest' | string[], today: string, exchanges: readonly string[] = ['NFO', 'BFO']): { expiries: string[]; legs: T[] } {
  const opts = rows.filter((r) => r.name.toUpperCase() === underlying.toUpperCase() && (r.type === 'CE' || r.type === 'PE') && exchanges.includes(r.exchange));
  let expiries: string[];
  if (expiry === 'nearest') {
    const next = [...new Set(opts.map((r) => r.expiry))].filter((e) => e >= today).sort()[0];
    expiries = next ? [next] : [];
  } else expiries = [...expiry].sort();
  return { expiries, legs: opts.filter((r) => expiries.includes(r.expiry)) };
}

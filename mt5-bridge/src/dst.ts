/**
 * Broker UTC offsets over time. MT5 tick times are broker wall-clock ms; most FX brokers keep New York
 * 17:00 at server midnight (GMT+2 in winter, GMT+3 from the US switch), some follow EU dates, some
 * never change. Live ticks use the offset the EA announces (hello/hb, re-announced at a change);
 * backfilled ticks need the offset in force at their own time:
 * 1. the feed's observed offset table (every announced change with the broker ms it took effect,
 *    persisted by the sink), for times at or after its first row;
 * 2. before that, the configured DST rule anchored on the first observed row (`us`, `eu`, `none`);
 *    `auto` takes `us` when the current offset is GMT+2/GMT+3 and agrees with US dates, else `none`.
 */
export type DstRule = 'none' | 'us' | 'eu';
export type DstOption = DstRule | 'auto';

/** UTC ms of the n-th (1-based; 0 = last) Sunday of a month at `hourUtc`. */
function sunday(year: number, month: number, n: number, hourUtc: number): number {
  if (n === 0) {
    const last = new Date(Date.UTC(year, month + 1, 0));
    return Date.UTC(year, month, last.getUTCDate() - last.getUTCDay(), hourUtc);
  }
  const first = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return Date.UTC(year, month, 1 + ((7 - first) % 7) + (n - 1) * 7, hourUtc);
}

/** Daylight saving in force at a UTC time under a rule (US: 2nd Sun Mar 07:00 UTC → 1st Sun Nov 06:00 UTC; EU: last Sun Mar → last Sun Oct, 01:00 UTC). */
export function dstActive(rule: DstRule, utcMs: number): boolean {
  if (rule === 'none') return false;
  const y = new Date(utcMs).getUTCFullYear();
  if (rule === 'us') return utcMs >= sunday(y, 2, 2, 7) && utcMs < sunday(y, 10, 1, 6);
  return utcMs >= sunday(y, 2, 0, 1) && utcMs < sunday(y, 9, 0, 1);
}

/** `auto` resolved against an offset observed now (seconds, at UTC `nowUtc`). */
export function resolveDst(opt: DstOption, offS: number, nowUtc: number): DstRule {
  if (opt !== 'auto') return opt;
  return (offS === 7200 || offS === 10800) && offS === 7200 + (dstActive('us', nowUtc) ? 3600 : 0) ? 'us' : 'none';
}

export interface OffsetRow { at: number; off: number }

/** Offset (s) for a broker ms: the observed table from its first row on, the anchored rule before it. */
export function offsetForBrokerMs(rows: readonly OffsetRow[], rule: DstRule, ms: number, fallback: number): number {
  if (rows.length === 0) return fallback;
  if (ms >= rows[0].at) {
    let off = rows[0].off;
    for (const r of rows) { if (r.at <= ms) off = r.off; else break; }
    return off;
  }
  const a = rows[0];
  const std = a.off - (dstActive(rule, a.at - a.off * 1000) ? 3600 : 0);
  // the summer candidate holds when its own UTC time falls inside the rule's summer
  if (rule !== 'none' && dstActive(rule, ms - (std + 3600) * 1000)) return std + 3600;
  return std;
}

/**
 * The broker ms at which an observed change from `fromOff` to `toOff` (announced at broker ms `seenAt`)
 * took effect, snapped to the rule's switch instant when the rule explains it (the EA announces a
 * change on its next pass, a little after the switch); else `seenAt`.
 */
export function switchAt(rule: DstRule, fromOff: number, toOff: number, seenAt: number): number {
  if (rule === 'none' || Math.abs(toOff - fromOff) !== 3600) return seenAt;
  const seenUtc = seenAt - toOff * 1000;
  const want = toOff > fromOff; // summer starts
  // search from 1 h ahead (seenAt may be on the old clock) back 6 h, minute by minute, for the rule's flip
  for (let t = seenUtc + 3_600_000; t > seenUtc - 6 * 3_600_000; t -= 60_000) {
    if (dstActive(rule, t) === want && dstActive(rule, t - 60_000) !== want) {
      let lo = t - 60_000, hi = t;
      while (hi - lo > 1) { const m = Math.floor((lo + hi) / 2); if (dstActive(rule, m) === want) hi = m; else lo = m; }
      return hi + toOff * 1000;
    }
  }
  return seenAt;
}

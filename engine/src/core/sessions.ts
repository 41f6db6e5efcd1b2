/**
 * Trading sessions in an instrument's IANA time zone, DST-aware, using only Intl (runs in browsers).
 * A session is [start, end) in UTC ms; sessions crossing local midnight belong to the date they start on.
 */

export type SessionName = 'asian' | 'london' | 'ny_cash' | 'full_day' | 'custom';

export interface SessionSpec {
  name: SessionName | string;
  /** IANA zone, e.g. America/New_York */
  timezone: string;
  /** local "HH:MM" */
  start: string;
  /** local "HH:MM"; "24:00" or equal to start means a whole day; end < start crosses midnight */
  end: string;
  /** ISO weekdays the session opens on (1 = Monday … 7 = Sunday) */
  days: number[];
  /** local dates (YYYY-MM-DD) on which no session opens, e.g. exchange holidays */
  holidays?: readonly string[];
}

const WEEKDAYS = Object.freeze([1, 2, 3, 4, 5]) as number[];
const ALL_DAYS = Object.freeze([1, 2, 3, 4, 5, 6, 7]) as number[];

export type SessionTemplateName = Exclude<SessionName, 'custom'> | 'crypto_24x7';

/** Built-in sessions (frozen; spread one to derive a variant). */
export const SESSION_TEMPLATES: Record<SessionTemplateName, SessionSpec> = {
  asian: Object.freeze({ name: 'asian', timezone: 'Asia/Tokyo', start: '09:00', end: '15:00', days: WEEKDAYS }),
  london: Object.freeze({ name: 'london', timezone: 'Europe/London', start: '08:00', end: '16:30', days: WEEKDAYS }),
  ny_cash: Object.freeze({ name: 'ny_cash', timezone: 'America/New_York', start: '09:30', end: '16:00', days: WEEKDAYS }),
  full_day: Object.freeze({ name: 'full_day', timezone: 'UTC', start: '00:00', end: '24:00', days: WEEKDAYS }),
  crypto_24x7: Object.freeze({ name: 'crypto_24x7', timezone: 'UTC', start: '00:00', end: '24:00', days: ALL_DAYS }),
};

export function isSessionTemplate(name: string): name is SessionTemplateName {
  return Object.prototype.hasOwnProperty.call(SESSION_TEMPLATES, name);
}

export interface SessionWindow {
  /** local date the session opened on, YYYY-MM-DD */
  key: string;
  start: number;
  end: number;
}

const DAY_MS = 86_400_000;

const fmtCache = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = fmtCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    fmtCache.set(tz, f);
  }
  return f;
}

/** True when `tz` is an IANA zone name this runtime's Intl knows. */
export function isTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz === '') return false;
  try { formatter(tz); return true; } catch { return false; }
}

/** Validate an IANA zone name; throws with a clear message. */
export function assertTimeZone(tz: string): void {
  if (!isTimeZone(tz)) throw new Error(`unknown time zone "${tz}"`);
}

/** Offset of `tz` from UTC at instant `ts`, in ms (local = utc + offset). */
export function tzOffset(ts: number, tz: string): number {
  if (tz === 'UTC') return 0;
  const p = formatter(tz).formatToParts(new Date(ts));
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  for (const x of p) {
    switch (x.type) {
      case 'year': y = +x.value; break;
      case 'month': mo = +x.value; break;
      case 'day': d = +x.value; break;
      case 'hour': h = +x.value; break;
      case 'minute': mi = +x.value; break;
      case 'second': s = +x.value; break;
    }
  }
  if (h === 24) h = 0; // some ICU builds print midnight as 24 even with h23
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  const wholeSecond = Math.floor(ts / 1000) * 1000;
  return asUtc - wholeSecond;
}

/**
 * UTC instant of a local wall time in `tz` (`minutes` after local midnight of y-mo-d).
 * Ambiguous times (fall back) resolve to the earlier instant; non-existent times (spring forward)
 * move forward by the gap, e.g. 02:30 on a US spring-forward day is 03:30 daylight time.
 */
export function zonedToUtc(y: number, mo: number, d: number, minutes: number, tz: string): number {
  const local = Date.UTC(y, mo - 1, d) + minutes * 60_000;
  if (tz === 'UTC') return local;
  const before = tzOffset(local - DAY_MS, tz);
  const after = tzOffset(local + DAY_MS, tz);
  const c1 = local - before;
  const ok1 = tzOffset(c1, tz) === before;
  if (before === after) return ok1 ? c1 : local - tzOffset(c1, tz);
  const c2 = local - after;
  const ok2 = tzOffset(c2, tz) === after;
  if (ok1 && ok2) return Math.min(c1, c2);
  if (ok1) return c1;
  if (ok2) return c2;
  // in the gap: read the wall time with the offset in force before the change (= shift forward)
  return local - before;
}

/** Minutes after midnight of a local "HH:MM" (00:00 … 24:00). */
export function parseHHMM(s: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) throw new Error(`invalid time "${s}": expected HH:MM`);
  const h = +m[1], mi = +m[2];
  if (h > 24 || mi > 59 || (h === 24 && mi !== 0)) throw new Error(`invalid time "${s}": expected 00:00 to 24:00`);
  return h * 60 + mi;
}

/**
 * Problems with a session spec, as [field, reason] pairs (empty when valid). Used by the
 * SessionCalendar constructor and by config validation so both report the same reasons.
 */
export function sessionSpecProblems(spec: Partial<SessionSpec>): Array<[keyof SessionSpec, string]> {
  const out: Array<[keyof SessionSpec, string]> = [];
  if (typeof spec.timezone !== 'string' || !isTimeZone(spec.timezone)) out.push(['timezone', `unknown time zone "${String(spec.timezone)}"`]);
  let startMin = -1;
  try {
    startMin = parseHHMM(String(spec.start));
    if (startMin === 1440) out.push(['start', 'start must be before 24:00']);
  } catch (e) { out.push(['start', (e as Error).message]); }
  try { parseHHMM(String(spec.end)); } catch (e) { out.push(['end', (e as Error).message]); }
  const days = spec.days;
  if (!Array.isArray(days) || days.length === 0 || days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
    out.push(['days', 'days must be a non-empty list of ISO weekdays 1..7 (1 = Monday)']);
  }
  const hol = spec.holidays;
  if (hol !== undefined && (!Array.isArray(hol) || hol.some((h) => typeof h !== 'string' || !isCivilDate(h)))) {
    out.push(['holidays', 'holidays must be a list of dates YYYY-MM-DD']);
  }
  return out;
}

/** A real calendar date written YYYY-MM-DD. */
function isCivilDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

/** ISO weekday (1..7) of a civil date */
function isoWeekday(y: number, mo: number, d: number): number {
  const w = new Date(Date.UTC(y, mo - 1, d)).getUTCDay();
  return w === 0 ? 7 : w;
}

function civil(ts: number): [number, number, number] {
  const dt = new Date(ts);
  return [dt.getUTCFullYear(), dt.getUTCMonth() + 1, dt.getUTCDate()];
}

/**
 * Locates sessions for a spec. Both the current session and the current gap between sessions are
 * cached, so per-trade calls on a forward-moving clock are two comparisons.
 */
export class SessionCalendar {
  readonly spec: SessionSpec;
  private readonly startMin: number;
  private readonly lenMin: number;
  private readonly dayMask: boolean[];
  private readonly holidays: ReadonlySet<string>;
  private cur: SessionWindow | null = null;
  /** [gapLo, next.start) is known to be outside every session */
  private gapLo = 0;
  private next: SessionWindow | null = null;

  constructor(spec: SessionSpec) {
    const problems = sessionSpecProblems(spec);
    if (problems.length) throw new Error(`session "${spec.name}": ${problems.map(([k, r]) => `${k}: ${r}`).join('; ')}`);
    this.spec = spec;
    this.startMin = parseHHMM(spec.start);
    let endMin = parseHHMM(spec.end);
    if (endMin <= this.startMin) endMin += 24 * 60;
    this.lenMin = endMin - this.startMin;
    this.dayMask = [false, false, false, false, false, false, false, false];
    for (const d of spec.days) this.dayMask[d] = true;
    this.holidays = new Set(spec.holidays ?? []);
  }

  /** Session window opening on the local civil date y-mo-d (whether or not that day trades). */
  windowOn(y: number, mo: number, d: number): SessionWindow {
    const start = zonedToUtc(y, mo, d, this.startMin, this.spec.timezone);
    // end computed on the wall clock too, so a DST change inside the session keeps local hours
    const endDay = Math.floor((this.startMin + this.lenMin) / 1440);
    const [ey, em, ed] = civil(Date.UTC(y, mo - 1, d + endDay));
    let end = zonedToUtc(ey, em, ed, (this.startMin + this.lenMin) % 1440, this.spec.timezone);
    // a very short session swallowed by a DST gap: keep its nominal length rather than go empty
    if (end <= start) end = start + this.lenMin * 60_000;
    const key = `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    return { key, start, end };
  }

  /** Whether a session opens on the local civil date y-mo-d (a listed weekday that is not a holiday). */
  tradesOn(y: number, mo: number, d: number): boolean {
    if (!this.dayMask[isoWeekday(y, mo, d)]) return false;
    return this.holidays.size === 0 || !this.holidays.has(`${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
  }

  /** The first session whose end is after ts, computed without the caches. */
  private locate(ts: number): SessionWindow {
    const off = tzOffset(ts, this.spec.timezone);
    const [y, mo, d] = civil(ts + off);
    // sessions last at most a day (+1 h of DST), so the one containing ts opened today or yesterday;
    // the next one is found within a weekend plus a run of holidays (Diwali week, year end)
    for (let k = -1; k <= 16; k++) {
      const [yy, mm, dd] = civil(Date.UTC(y, mo - 1, d + k));
      if (!this.tradesOn(yy, mm, dd)) continue;
      const w = this.windowOn(yy, mm, dd);
      if (w.end > ts) return w;
    }
    throw new Error(`session "${this.spec.name}": no session within 16 days of ${new Date(ts).toISOString()}`);
  }

  /** The session containing ts, or null when ts is outside every session. */
  sessionAt(ts: number): SessionWindow | null {
    const c = this.cur;
    if (c !== null && ts >= c.start && ts < c.end) return c;
    const n = this.next;
    if (n !== null && ts >= this.gapLo && ts < n.start) return null;
    const w = this.locate(ts);
    if (ts >= w.start) { this.cur = w; return w; }
    this.gapLo = ts;
    this.next = w;
    return null;
  }

  /** The first session whose end is after ts (the current one if ts is inside a session). */
  sessionFrom(ts: number): SessionWindow {
    const inside = this.sessionAt(ts);
    if (inside) return inside;
    return this.next as SessionWindow; // sessionAt just filled the gap cache
  }
}

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
}

const WEEKDAYS = [1, 2, 3, 4, 5];
const ALL_DAYS = [1, 2, 3, 4, 5, 6, 7];

export const SESSION_TEMPLATES: Record<Exclude<SessionName, 'custom'> | 'crypto_24x7', SessionSpec> = {
  asian: { name: 'asian', timezone: 'Asia/Tokyo', start: '09:00', end: '15:00', days: WEEKDAYS },
  london: { name: 'london', timezone: 'Europe/London', start: '08:00', end: '16:30', days: WEEKDAYS },
  ny_cash: { name: 'ny_cash', timezone: 'America/New_York', start: '09:30', end: '16:00', days: WEEKDAYS },
  full_day: { name: 'full_day', timezone: 'UTC', start: '00:00', end: '24:00', days: WEEKDAYS },
  crypto_24x7: { name: 'full_day', timezone: 'UTC', start: '00:00', end: '24:00', days: ALL_DAYS },
};

export interface SessionWindow {
  /** local date the session opened on, YYYY-MM-DD */
  key: string;
  start: number;
  end: number;
}

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

/** Validate an IANA zone name; throws with a clear message. */
export function assertTimeZone(tz: string): void {
  try { formatter(tz); } catch { throw new Error(`unknown time zone "${tz}"`); }
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
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  return asUtc - (ts - (((ts % 1000) + 1000) % 1000));
}

/** UTC instant of a local wall time in `tz`. Non-existent times (spring forward) map forward by the gap. */
export function zonedToUtc(y: number, mo: number, d: number, minutes: number, tz: string): number {
  const guess = Date.UTC(y, mo - 1, d) + minutes * 60_000;
  let off = tzOffset(guess, tz);
  let t = guess - off;
  const off2 = tzOffset(t, tz);
  if (off2 !== off) { off = off2; t = guess - off; }
  return t;
}

export function parseHHMM(s: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) throw new Error(`invalid time "${s}": expected HH:MM`);
  const h = +m[1], mi = +m[2];
  if (h > 24 || mi > 59 || (h === 24 && mi !== 0)) throw new Error(`invalid time "${s}"`);
  return h * 60 + mi;
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
 * Locates sessions for a spec; caches the current window so per-trade calls are two comparisons.
 */
export class SessionCalendar {
  readonly spec: SessionSpec;
  private readonly startMin: number;
  private readonly lenMin: number;
  private cur: SessionWindow | null = null;

  constructor(spec: SessionSpec) {
    assertTimeZone(spec.timezone);
    this.spec = spec;
    this.startMin = parseHHMM(spec.start);
    let endMin = parseHHMM(spec.end);
    if (endMin <= this.startMin) endMin += 24 * 60;
    this.lenMin = endMin - this.startMin;
    if (!spec.days.length || spec.days.some((d) => d < 1 || d > 7 || !Number.isInteger(d))) {
      throw new Error(`session "${spec.name}": days must be ISO weekdays 1..7`);
    }
  }

  /** Session window opening on the local civil date y-mo-d (whether or not that day trades). */
  windowOn(y: number, mo: number, d: number): SessionWindow {
    const start = zonedToUtc(y, mo, d, this.startMin, this.spec.timezone);
    // end computed on the wall clock too, so a DST change inside the session keeps local hours
    const endDay = Math.floor((this.startMin + this.lenMin) / 1440);
    const [ey, em, ed] = civil(Date.UTC(y, mo - 1, d + endDay));
    const end = zonedToUtc(ey, em, ed, (this.startMin + this.lenMin) % 1440, this.spec.timezone);
    const key = `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    return { key, start, end };
  }

  private trades(y: number, mo: number, d: number): boolean {
    return this.spec.days.includes(isoWeekday(y, mo, d));
  }

  /** The session containing ts, or null when ts is outside every session. */
  sessionAt(ts: number): SessionWindow | null {
    const c = this.cur;
    if (c && ts >= c.start && ts < c.end) return c;
    const off = tzOffset(ts, this.spec.timezone);
    const [y, mo, d] = civil(ts + off);
    // the session containing ts opened today or (crossing midnight) up to two days before
    for (let back = 0; back <= 2; back++) {
      const [yy, mm, dd] = civil(Date.UTC(y, mo - 1, d - back));
      if (!this.trades(yy, mm, dd)) continue;
      const w = this.windowOn(yy, mm, dd);
      if (ts >= w.start && ts < w.end) { this.cur = w; return w; }
    }
    return null;
  }

  /** The first session whose end is after ts (the current one if ts is inside a session). */
  sessionFrom(ts: number): SessionWindow {
    const inside = this.sessionAt(ts);
    if (inside) return inside;
    const off = tzOffset(ts, this.spec.timezone);
    const [y, mo, d] = civil(ts + off);
    for (let fwd = -1; fwd <= 10; fwd++) {
      const [yy, mm, dd] = civil(Date.UTC(y, mo - 1, d + fwd));
      if (!this.trades(yy, mm, dd)) continue;
      const w = this.windowOn(yy, mm, dd);
      if (w.end > ts) return w;
    }
    throw new Error(`session "${this.spec.name}": no session within 10 days of ${new Date(ts).toISOString()}`);
  }
}

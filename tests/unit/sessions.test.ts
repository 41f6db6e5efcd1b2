import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  SESSION_TEMPLATES, SessionCalendar, isSessionTemplate, isTimeZone, parseHHMM, sessionSpecProblems,
  tzOffset, zonedToUtc, type SessionSpec, type SessionWindow,
} from '../../engine/src/core/sessions.js';

const Z = (iso: string): number => Date.parse(iso);
const iso = (ts: number): string => new Date(ts).toISOString().replace('.000Z', 'Z');
const win = (w: SessionWindow | null): [string, string, string] | null => (w ? [w.key, iso(w.start), iso(w.end)] : null);
const cal = (spec: SessionSpec): SessionCalendar => new SessionCalendar(spec);

describe('zonedToUtc / tzOffset', () => {
  it('offsets follow DST in New York, London, and stay fixed in Tokyo', () => {
    expect(tzOffset(Z('2024-01-15T12:00:00Z'), 'America/New_York')).toBe(-5 * 3600_000);
    expect(tzOffset(Z('2024-07-15T12:00:00Z'), 'America/New_York')).toBe(-4 * 3600_000);
    expect(tzOffset(Z('2024-01-15T12:00:00Z'), 'Europe/London')).toBe(0);
    expect(tzOffset(Z('2024-07-15T12:00:00Z'), 'Europe/London')).toBe(3600_000);
    expect(tzOffset(Z('2024-01-15T12:00:00Z'), 'Asia/Tokyo')).toBe(9 * 3600_000);
    expect(tzOffset(Z('2024-07-15T12:00:00Z'), 'Asia/Tokyo')).toBe(9 * 3600_000);
    expect(tzOffset(Z('2024-07-15T12:00:00.999Z'), 'Asia/Kolkata')).toBe(5.5 * 3600_000);
    expect(tzOffset(Z('2024-07-15T12:00:00Z'), 'UTC')).toBe(0);
  });

  it('maps ordinary wall times', () => {
    expect(iso(zonedToUtc(2024, 1, 15, 9 * 60 + 30, 'America/New_York'))).toBe('2024-01-15T14:30:00Z');
    expect(iso(zonedToUtc(2024, 7, 15, 9 * 60 + 30, 'America/New_York'))).toBe('2024-07-15T13:30:00Z');
    expect(iso(zonedToUtc(2024, 7, 15, 8 * 60, 'Europe/London'))).toBe('2024-07-15T07:00:00Z');
    expect(iso(zonedToUtc(2024, 1, 1, 0, 'Asia/Tokyo'))).toBe('2023-12-31T15:00:00Z');
  });

  it('moves a non-existent (spring-forward) time forward by the gap', () => {
    // 2024-03-10 02:30 does not exist in New York; it reads as 03:30 EDT
    expect(iso(zonedToUtc(2024, 3, 10, 2 * 60 + 30, 'America/New_York'))).toBe('2024-03-10T07:30:00Z');
    // 2024-03-31 01:30 does not exist in London; it reads as 02:30 BST
    expect(iso(zonedToUtc(2024, 3, 31, 60 + 30, 'Europe/London'))).toBe('2024-03-31T01:30:00Z');
  });

  it('resolves an ambiguous (fall-back) time to the earlier instant in every zone', () => {
    expect(iso(zonedToUtc(2024, 11, 3, 60 + 30, 'America/New_York'))).toBe('2024-11-03T05:30:00Z'); // 01:30 EDT
    expect(iso(zonedToUtc(2024, 10, 27, 60 + 30, 'Europe/London'))).toBe('2024-10-27T00:30:00Z'); // 01:30 BST
    expect(iso(zonedToUtc(2024, 4, 7, 2 * 60 + 30, 'Australia/Sydney'))).toBe('2024-04-06T15:30:00Z'); // 02:30 AEDT
  });

  it('parses HH:MM and rejects bad times', () => {
    expect(parseHHMM('09:30')).toBe(570);
    expect(parseHHMM('24:00')).toBe(1440);
    expect(() => parseHHMM('24:30')).toThrow(/invalid time "24:30"/);
    expect(() => parseHHMM('9.30')).toThrow(/expected HH:MM/);
    expect(() => parseHHMM('12:60')).toThrow(/invalid time/);
  });

  it('knows time zones and templates', () => {
    expect(isTimeZone('America/New_York')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    expect(isSessionTemplate('ny_cash')).toBe(true);
    expect(isSessionTemplate('crypto_24x7')).toBe(true);
    expect(isSessionTemplate('toString')).toBe(false);
    expect(isSessionTemplate('nyc')).toBe(false);
  });
});

describe('NY cash 09:30–16:00 America/New_York', () => {
  const c = (): SessionCalendar => cal(SESSION_TEMPLATES.ny_cash);

  it('opens 14:30 UTC in winter and 13:30 UTC in summer around the March change (2024-03-10)', () => {
    const k = c();
    expect(win(k.sessionAt(Z('2024-03-08T15:00:00Z')))).toEqual(['2024-03-08', '2024-03-08T14:30:00Z', '2024-03-08T21:00:00Z']);
    expect(win(k.sessionAt(Z('2024-03-11T15:00:00Z')))).toEqual(['2024-03-11', '2024-03-11T13:30:00Z', '2024-03-11T20:00:00Z']);
    // boundaries: start inclusive, end exclusive
    expect(k.sessionAt(Z('2024-03-11T13:29:59.999Z'))).toBeNull();
    expect(k.sessionAt(Z('2024-03-11T13:30:00Z'))?.key).toBe('2024-03-11');
    expect(k.sessionAt(Z('2024-03-11T19:59:59.999Z'))?.key).toBe('2024-03-11');
    expect(k.sessionAt(Z('2024-03-11T20:00:00Z'))).toBeNull();
    // 14:00 UTC on the Friday before is before the open (09:00 EST)
    expect(k.sessionAt(Z('2024-03-08T14:00:00Z'))).toBeNull();
  });

  it('goes back to 14:30 UTC after the November change (2024-11-03)', () => {
    const k = c();
    expect(win(k.sessionAt(Z('2024-11-01T13:30:00Z')))).toEqual(['2024-11-01', '2024-11-01T13:30:00Z', '2024-11-01T20:00:00Z']);
    expect(k.sessionAt(Z('2024-11-04T13:45:00Z'))).toBeNull();
    expect(win(k.sessionAt(Z('2024-11-04T14:30:00Z')))).toEqual(['2024-11-04', '2024-11-04T14:30:00Z', '2024-11-04T21:00:00Z']);
    expect(k.sessionAt(Z('2024-11-04T20:30:00Z'))?.key).toBe('2024-11-04');
  });

  it('does not trade on weekends, including the DST-change Sundays', () => {
    const k = c();
    expect(k.sessionAt(Z('2024-03-09T15:00:00Z'))).toBeNull(); // Saturday
    expect(k.sessionAt(Z('2024-03-10T15:00:00Z'))).toBeNull(); // Sunday (change day)
    expect(k.sessionAt(Z('2024-11-03T15:00:00Z'))).toBeNull();
    expect(k.tradesOn(2024, 3, 9)).toBe(false);
    expect(k.tradesOn(2024, 3, 11)).toBe(true);
  });

  it('sessionFrom gives the next session from a timestamp between sessions', () => {
    const k = c();
    // after Tuesday close -> Wednesday open
    expect(win(k.sessionFrom(Z('2024-01-16T22:00:00Z')))).toEqual(['2024-01-17', '2024-01-17T14:30:00Z', '2024-01-17T21:00:00Z']);
    // before the open the same day
    expect(win(k.sessionFrom(Z('2024-01-17T03:00:00Z')))).toEqual(['2024-01-17', '2024-01-17T14:30:00Z', '2024-01-17T21:00:00Z']);
    // inside a session -> that session
    expect(k.sessionFrom(Z('2024-01-17T15:00:00Z')).key).toBe('2024-01-17');
    // Friday after the close, across the spring-forward weekend -> Monday in summer time
    expect(win(k.sessionFrom(Z('2024-03-08T21:00:00Z')))).toEqual(['2024-03-11', '2024-03-11T13:30:00Z', '2024-03-11T20:00:00Z']);
    // Friday evening across the fall-back weekend -> Monday in winter time
    expect(win(k.sessionFrom(Z('2024-11-01T23:00:00Z')))).toEqual(['2024-11-04', '2024-11-04T14:30:00Z', '2024-11-04T21:00:00Z']);
  });
});

describe('London 08:00–16:30 Europe/London', () => {
  const london = (): SessionCalendar => cal(SESSION_TEMPLATES.london);
  const ny = (): SessionCalendar => cal(SESSION_TEMPLATES.ny_cash);

  it('stays on GMT in the weeks between the US and UK spring changes (2024-03-11 .. 2024-03-29)', () => {
    const l = london(), n = ny();
    for (const day of ['2024-03-11', '2024-03-20', '2024-03-29']) {
      expect(win(l.sessionAt(Z(`${day}T12:00:00Z`)))).toEqual([day, `${day}T08:00:00Z`, `${day}T16:30:00Z`]);
      // while New York is already on EDT
      expect(n.sessionAt(Z(`${day}T13:30:00Z`))?.key).toBe(day);
    }
    // the week before both changes
    expect(win(l.sessionAt(Z('2024-03-08T12:00:00Z')))).toEqual(['2024-03-08', '2024-03-08T08:00:00Z', '2024-03-08T16:30:00Z']);
  });

  it('opens 07:00 UTC once the UK is on BST (from 2024-04-01)', () => {
    const l = london();
    expect(win(l.sessionAt(Z('2024-04-01T07:00:00Z')))).toEqual(['2024-04-01', '2024-04-01T07:00:00Z', '2024-04-01T15:30:00Z']);
    expect(l.sessionAt(Z('2024-04-01T06:59:59Z'))).toBeNull();
    expect(l.sessionAt(Z('2024-04-01T15:30:00Z'))).toBeNull();
  });

  it('handles the autumn gap week: UK on GMT (2024-10-27) while the US is still on EDT (until 2024-11-03)', () => {
    const l = london(), n = ny();
    expect(win(l.sessionAt(Z('2024-10-25T07:00:00Z')))).toEqual(['2024-10-25', '2024-10-25T07:00:00Z', '2024-10-25T15:30:00Z']);
    expect(win(l.sessionAt(Z('2024-10-28T12:00:00Z')))).toEqual(['2024-10-28', '2024-10-28T08:00:00Z', '2024-10-28T16:30:00Z']);
    expect(l.sessionAt(Z('2024-10-28T07:30:00Z'))).toBeNull();
    expect(win(n.sessionAt(Z('2024-10-28T14:00:00Z')))).toEqual(['2024-10-28', '2024-10-28T13:30:00Z', '2024-10-28T20:00:00Z']);
    expect(win(n.sessionAt(Z('2024-11-01T14:00:00Z')))).toEqual(['2024-11-01', '2024-11-01T13:30:00Z', '2024-11-01T20:00:00Z']);
    // the London/NY overlap is 3 h in the gap week instead of the usual 2.5 h... (16:30Z - 13:30Z)
    const lw = l.sessionAt(Z('2024-10-29T14:00:00Z'))!, nw = n.sessionAt(Z('2024-10-29T14:00:00Z'))!;
    expect((lw.end - nw.start) / 3600_000).toBe(3);
  });
});

describe('Asian 09:00–15:00 Asia/Tokyo (no DST)', () => {
  it('is 00:00–06:00 UTC in winter and summer, keyed by the Tokyo date', () => {
    const k = cal(SESSION_TEMPLATES.asian);
    expect(win(k.sessionAt(Z('2024-01-15T03:00:00Z')))).toEqual(['2024-01-15', '2024-01-15T00:00:00Z', '2024-01-15T06:00:00Z']);
    expect(win(k.sessionAt(Z('2024-07-15T05:59:00Z')))).toEqual(['2024-07-15', '2024-07-15T00:00:00Z', '2024-07-15T06:00:00Z']);
    expect(win(k.sessionAt(Z('2024-03-11T00:00:00Z')))).toEqual(['2024-03-11', '2024-03-11T00:00:00Z', '2024-03-11T06:00:00Z']);
    // Monday 09:00 JST is Sunday 24:00 UTC: Sunday evening UTC is not in a session; Monday's starts at 00:00Z
    expect(k.sessionAt(Z('2024-01-14T23:59:00Z'))).toBeNull();
    expect(k.sessionFrom(Z('2024-01-13T12:00:00Z')).key).toBe('2024-01-15');
  });
});

describe('full day UTC', () => {
  it('covers 00:00–24:00 UTC on weekdays only', () => {
    const k = cal(SESSION_TEMPLATES.full_day);
    expect(win(k.sessionAt(Z('2024-03-11T00:00:00Z')))).toEqual(['2024-03-11', '2024-03-11T00:00:00Z', '2024-03-12T00:00:00Z']);
    expect(win(k.sessionAt(Z('2024-03-11T23:59:59.999Z')))).toEqual(['2024-03-11', '2024-03-11T00:00:00Z', '2024-03-12T00:00:00Z']);
    expect(k.sessionAt(Z('2024-03-09T12:00:00Z'))).toBeNull(); // Saturday
    expect(k.sessionAt(Z('2024-03-10T12:00:00Z'))).toBeNull(); // Sunday
    expect(win(k.sessionFrom(Z('2024-03-09T12:00:00Z')))).toEqual(['2024-03-11', '2024-03-11T00:00:00Z', '2024-03-12T00:00:00Z']);
  });

  it('crypto_24x7 trades every day', () => {
    const k = cal(SESSION_TEMPLATES.crypto_24x7);
    expect(win(k.sessionAt(Z('2024-03-09T12:00:00Z')))).toEqual(['2024-03-09', '2024-03-09T00:00:00Z', '2024-03-10T00:00:00Z']);
    expect(k.sessionAt(Z('2024-03-10T00:00:00Z'))?.key).toBe('2024-03-10');
  });

  it('a full day in a DST zone lasts 23 h and 25 h on change days', () => {
    const k = cal({ name: 'ny_day', timezone: 'America/New_York', start: '00:00', end: '24:00', days: [1, 2, 3, 4, 5, 6, 7] });
    const spring = k.sessionAt(Z('2024-03-10T12:00:00Z'))!;
    expect(win(spring)).toEqual(['2024-03-10', '2024-03-10T05:00:00Z', '2024-03-11T04:00:00Z']);
    const fall = k.sessionAt(Z('2024-11-03T12:00:00Z'))!;
    expect((fall.end - fall.start) / 3600_000).toBe(25);
    // start == end also means a whole day
    const k2 = cal({ name: 'cme_day', timezone: 'America/Chicago', start: '17:00', end: '17:00', days: [7, 1, 2, 3, 4] });
    expect(win(k2.sessionAt(Z('2024-01-16T12:00:00Z')))).toEqual(['2024-01-15', '2024-01-15T23:00:00Z', '2024-01-16T23:00:00Z']);
  });
});

describe('custom sessions', () => {
  it('crossing midnight (22:00–06:00) is keyed by the opening date', () => {
    const k = cal({ name: 'overnight', timezone: 'America/New_York', start: '22:00', end: '06:00', days: [7, 1, 2, 3, 4] });
    // Monday 2024-01-15 22:00 EST = Tue 03:00Z, until Tue 06:00 EST = 11:00Z
    const w = ['2024-01-15', '2024-01-16T03:00:00Z', '2024-01-16T11:00:00Z'];
    expect(win(k.sessionAt(Z('2024-01-16T03:00:00Z')))).toEqual(w);
    expect(win(k.sessionAt(Z('2024-01-16T04:59:00Z')))).toEqual(w); // Tue 00:00 local: still Monday's
    expect(win(k.sessionAt(Z('2024-01-16T10:59:59Z')))).toEqual(w);
    expect(k.sessionAt(Z('2024-01-16T11:00:00Z'))).toBeNull();
    expect(k.sessionAt(Z('2024-01-16T02:59:59Z'))).toBeNull();
    // Sunday opens (days include 7); Friday and Saturday do not
    expect(k.sessionAt(Z('2024-01-15T04:00:00Z'))?.key).toBe('2024-01-14');
    expect(k.sessionAt(Z('2024-01-20T04:00:00Z'))).toBeNull(); // Fri 23:00 EST
    // Thursday's session runs into Friday morning
    expect(k.sessionAt(Z('2024-01-19T10:00:00Z'))?.key).toBe('2024-01-18');
    expect(win(k.sessionFrom(Z('2024-01-19T12:00:00Z')))).toEqual(['2024-01-21', '2024-01-22T03:00:00Z', '2024-01-22T11:00:00Z']);
  });

  it('keeps local hours when DST changes inside the session (7 h in spring, 9 h in autumn)', () => {
    const k = cal({ name: 'overnight', timezone: 'America/New_York', start: '22:00', end: '06:00', days: [1, 2, 3, 4, 5, 6, 7] });
    const spring = k.sessionAt(Z('2024-03-10T08:00:00Z'))!;
    expect(win(spring)).toEqual(['2024-03-09', '2024-03-10T03:00:00Z', '2024-03-10T10:00:00Z']);
    expect((spring.end - spring.start) / 3600_000).toBe(7);
    const fall = k.sessionAt(Z('2024-11-03T08:00:00Z'))!;
    expect(win(fall)).toEqual(['2024-11-02', '2024-11-03T02:00:00Z', '2024-11-03T11:00:00Z']);
    expect((fall.end - fall.start) / 3600_000).toBe(9);
    // the next session opens on EST/EDT as appropriate
    expect(win(k.sessionFrom(Z('2024-03-10T10:00:00Z')))).toEqual(['2024-03-10', '2024-03-11T02:00:00Z', '2024-03-11T10:00:00Z']);
  });

  it('London custom session across the October fall-back (00:00–02:00 lasts 3 h)', () => {
    const k = cal({ name: 'late', timezone: 'Europe/London', start: '00:00', end: '02:00', days: [7] });
    const w = k.sessionAt(Z('2024-10-27T01:30:00Z'))!;
    expect(win(w)).toEqual(['2024-10-27', '2024-10-26T23:00:00Z', '2024-10-27T02:00:00Z']);
  });

  it('a session starting inside the spring-forward gap starts at the first valid instant', () => {
    const k = cal({ name: 'gap', timezone: 'America/New_York', start: '02:30', end: '04:00', days: [7] });
    expect(win(k.sessionAt(Z('2024-03-10T07:45:00Z')))).toEqual(['2024-03-10', '2024-03-10T07:30:00Z', '2024-03-10T08:00:00Z']);
  });

  it('rejects bad specs with named fields', () => {
    expect(sessionSpecProblems({ name: 'x', timezone: 'Nowhere/Land', start: '25:00', end: '10:00', days: [0, 8] })).toEqual([
      ['timezone', 'unknown time zone "Nowhere/Land"'],
      ['start', 'invalid time "25:00": expected 00:00 to 24:00'],
      ['days', 'days must be a non-empty list of ISO weekdays 1..7 (1 = Monday)'],
    ]);
    expect(sessionSpecProblems({ name: 'x', timezone: 'UTC', start: '24:00', end: '10:00', days: [1] })).toEqual([['start', 'start must be before 24:00']]);
    expect(sessionSpecProblems(SESSION_TEMPLATES.london)).toEqual([]);
    expect(() => cal({ name: 'x', timezone: 'UTC', start: '09:00', end: '10:00', days: [] })).toThrow(/session "x": days: /);
    expect(() => cal({ name: 'x', timezone: 'Bad/Zone', start: '09:00', end: '10:00', days: [1] })).toThrow(/unknown time zone "Bad\/Zone"/);
  });

  it('templates are frozen so a derived spec cannot corrupt them', () => {
    expect(Object.isFrozen(SESSION_TEMPLATES.ny_cash)).toBe(true);
    expect(Object.isFrozen(SESSION_TEMPLATES.ny_cash.days)).toBe(true);
    const d = { ...SESSION_TEMPLATES.full_day, days: [1, 2, 3, 4, 5, 6, 7] };
    expect(cal(d).sessionAt(Z('2024-03-09T12:00:00Z'))?.key).toBe('2024-03-09');
    expect(SESSION_TEMPLATES.full_day.days).toEqual([1, 2, 3, 4, 5]);
  });
});

/** Independent oracle: read the local wall clock with Intl and apply the rule directly. */
const oracleFmt = new Map<string, Intl.DateTimeFormat>();
function oracle(spec: SessionSpec, ts: number): string | null {
  const f = oracleFmt.get(spec.timezone) ?? new Intl.DateTimeFormat('en-CA', { timeZone: spec.timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short' });
  oracleFmt.set(spec.timezone, f);
  const p = Object.fromEntries(f.formatToParts(new Date(ts)).map((x) => [x.type, x.value]));
  const min = (+p.hour % 24) * 60 + +p.minute;
  const wd = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p.weekday) + 1;
  const s = parseHHMM(spec.start), e = parseHHMM(spec.end);
  const date = `${p.year}-${p.month}-${p.day}`;
  if (e > s) return spec.days.includes(wd) && min >= s && min < e ? date : null;
  if (min >= s && spec.days.includes(wd)) return date;
  const prevWd = wd === 1 ? 7 : wd - 1;
  if (min < e && spec.days.includes(prevWd)) {
    const y = new Date(Date.UTC(+p.year, +p.month - 1, +p.day - 1));
    return y.toISOString().slice(0, 10);
  }
  return null;
}

describe('agrees with a wall-clock oracle over a whole year', () => {
  const specs: SessionSpec[] = [
    SESSION_TEMPLATES.ny_cash, SESSION_TEMPLATES.london, SESSION_TEMPLATES.asian, SESSION_TEMPLATES.full_day,
    { name: 'sydney_night', timezone: 'Australia/Sydney', start: '19:00', end: '07:00', days: [1, 2, 3, 4, 5] },
    { name: 'ny_overnight', timezone: 'America/New_York', start: '18:00', end: '09:30', days: [7, 1, 2, 3, 4] },
  ];
  for (const spec of specs) {
    it(`${spec.name}`, () => {
      const k = cal(spec);
      const from = Z('2024-01-01T00:00:00Z'), to = Z('2025-01-05T00:00:00Z');
      let mismatches = 0, inside = 0;
      for (let ts = from; ts < to; ts += 37 * 60_000) {
        const got = k.sessionAt(ts)?.key ?? null;
        if (got !== null) inside++;
        if (got !== oracle(spec, ts)) mismatches++;
      }
      expect(mismatches).toBe(0);
      expect(inside).toBeGreaterThan(1000);
    });
  }
});

describe('per-trade speed (cached window and cached gap)', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('a day of trades every 100 ms re-resolves only at session boundaries', () => {
    const k = cal(SESSION_TEMPLATES.ny_cash);
    const spy = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    const from = Z('2024-03-11T00:00:00Z');
    let inSession = 0;
    for (let ts = from; ts < from + 86_400_000; ts += 100) if (k.sessionAt(ts)) inSession++;
    expect(inSession).toBe(6.5 * 36_000);
    // three lookups (pre-open gap, session, post-close gap), each a bounded number of Intl calls
    expect(spy.mock.calls.length).toBeGreaterThan(0);
    expect(spy.mock.calls.length).toBeLessThan(60);
  });
});

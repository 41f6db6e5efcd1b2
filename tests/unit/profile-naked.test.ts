import { describe, expect, it } from 'vitest';
import { SessionCalendar } from '../../engine/src/core/sessions.js';
import { NakedPocTracker, type NakedLevel } from '../../engine/src/analytics/profile/naked-poc.js';
import { SessionProfiles } from '../../engine/src/analytics/profile/scopes.js';

describe('NakedPocTracker', () => {
  it("touch = 'trade': filled by a later trade inside the POC row", () => {
    const fills: NakedLevel[] = [];
    const t = new NakedPocTracker(4, { onFill: (l) => fills.push(l) });
    t.addLevel('s1', 100, 1000); // row [100, 104)
    t.onTrade(999, 101); // before the session closed: ignored
    t.onTrade(1500, 104); // next row
    t.onTrade(1600, 99);
    expect(t.naked().map((l) => l.key)).toEqual(['s1']);
    expect(t.levels[0]).toMatchObject({ state: 'naked', filledAt: NaN });
    t.onTrade(2000, 103);
    expect(t.levels[0]).toMatchObject({ key: 's1', price: 100, state: 'filled', filledAt: 2000 });
    expect(fills.length).toBe(1);
    t.onTrade(3000, 100); // already filled: no second event
    expect(fills.length).toBe(1);
    t.onBar(3000, 0, 1000); // range touches do not count in 'trade' mode
    expect(t.naked()).toEqual([]);
  });

  it("touch = 'range': filled by a later bar whose [low, high] overlaps the row", () => {
    const t = new NakedPocTracker(1, { touch: 'range' });
    t.addLevel('a', 100, 1000);
    t.addLevel('b', 120, 1000);
    t.onTrade(1500, 100); // trades are ignored in 'range' mode
    t.onBar(900, 90, 130); // before creation
    t.onBar(1500, 90, 99);
    t.onBar(1600, 101, 119);
    expect(t.naked().map((l) => l.key)).toEqual(['a', 'b']);
    t.onBar(1700, 99, 105);
    expect(t.levels.map((l) => [l.key, l.state, l.filledAt])).toEqual([['a', 'filled', 1700], ['b', 'naked', NaN]]);
    t.onBar(1800, 120, 120);
    expect(t.naked()).toEqual([]);
  });

  it('keeps at most maxLevels and ignores empty POCs', () => {
    const t = new NakedPocTracker(1, { maxLevels: 2 });
    expect(t.addLevel('e', NaN, 0)).toBeNull();
    t.addLevel('x', 1, 0); t.addLevel('y', 2, 0); t.addLevel('z', 3, 0);
    expect(t.levels.map((l) => l.key)).toEqual(['y', 'z']);
    t.onTrade(5, 1); // x was dropped: nothing to fill
    expect(t.naked().length).toBe(2);
  });

  it('wired to session closes', () => {
    const H = 3_600_000, D0 = Date.UTC(2024, 0, 2);
    const t = new NakedPocTracker(1);
    const sp = new SessionProfiles(new SessionCalendar({ name: 'custom', timezone: 'UTC', start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5, 6, 7] }), 1, {
      onClose: (s) => t.addLevel(s.key, s.profile.pocPrice(), s.end),
    });
    const trade = (ts: number, px: number, sz: number) => { sp.add(ts, px, sz, 1); t.onTrade(ts, px); };
    trade(D0 + 10 * H, 50, 1);
    trade(D0 + 11 * H, 52, 9);
    trade(D0 + 20 * H, 60, 1); // overnight: outside the session
    trade(D0 + 34 * H, 51, 1); // day 2 opens, day 1 closes with POC 52
    expect(t.levels.map((l) => [l.key, l.price, l.state])).toEqual([['2024-01-02', 52, 'naked']]);
    trade(D0 + 35 * H, 52, 1);
    expect(t.levels[0]).toMatchObject({ state: 'filled', filledAt: D0 + 35 * H });
  });
});

import { describe, expect, it } from 'vitest';
import { SessionCalendar } from '../../engine/src/core/sessions.js';
import { FixedRangeProfile, SessionProfiles, type SessionProfile } from '../../engine/src/analytics/profile/scopes.js';
import { compositeProfile, VolumeProfile } from '../../engine/src/analytics/profile/volume-profile.js';

const H = 3_600_000;
const D0 = Date.UTC(2024, 0, 2); // Tuesday
const cal = () => new SessionCalendar({ name: 'custom', timezone: 'UTC', start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5, 6, 7] });

describe('SessionProfiles', () => {
  it('one profile per session; trades outside sessions are not added', () => {
    const closed: SessionProfile[] = [];
    const sp = new SessionProfiles(cal(), 4, { onClose: (s) => closed.push(s) });
    expect(sp.add(D0 + 8 * H, 100, 5, 1)).toBe(false); // before 09:00
    expect(sp.current).toBeNull();
    expect(sp.add(D0 + 10 * H, 100, 5, 1)).toBe(true);
    expect(sp.add(D0 + 12 * H, 103, 2, -1)).toBe(true); // same row 25 (100..103)
    expect(sp.add(D0 + 13 * H, 108, 1, 0)).toBe(true);
    expect(sp.add(D0 + 20 * H, 100, 50, 1)).toBe(false); // after 17:00
    expect(closed).toEqual([]);
    expect(sp.add(D0 + 24 * H + 10 * H, 200, 3, 1)).toBe(true); // next day closes day 1
    expect(closed.map((s) => s.key)).toEqual(['2024-01-02']);
    expect(sp.sessions.map((s) => [s.key, s.closed, s.profile.totalVolume])).toEqual([['2024-01-02', true, 8], ['2024-01-03', false, 3]]);
    const s1 = sp.get('2024-01-02')!.profile.summary({ rows: true });
    expect(s1).toMatchObject({ rowTicks: 4, pocPrice: 100, lowPrice: 100, highPrice: 108, buyVolume: 5, sellVolume: 2, unknownVolume: 1 });
    expect(s1.rows).toEqual([
      { price: 100, volume: 7, buy: 5, sell: 2, unknown: 0 },
      { price: 104, volume: 0, buy: 0, sell: 0, unknown: 0 },
      { price: 108, volume: 1, buy: 0, sell: 0, unknown: 1 },
    ]);
    // a late trade for a retained older session goes to that session
    expect(sp.add(D0 + 16 * H, 104, 1, 1)).toBe(true);
    expect(sp.get('2024-01-02')!.profile.volumeAtPrice(105)).toBe(1);
    sp.closeUntil(D0 + 24 * H + 17 * H);
    expect(closed.map((s) => s.key)).toEqual(['2024-01-02', '2024-01-03']);
  });

  it('keeps at most maxSessions', () => {
    const sp = new SessionProfiles(cal(), 1, { maxSessions: 2 });
    for (let d = 0; d < 4; d++) sp.add(D0 + d * 24 * H + 10 * H, 100 + d, 1, 1);
    expect(sp.sessions.map((s) => s.key)).toEqual(['2024-01-04', '2024-01-05']);
    expect(sp.add(D0 + 10 * H + 1, 100, 1, 1)).toBe(false); // its session was dropped
  });

  it('composite of the last N sessions equals the merge of those sessions and the batch of their trades', () => {
    const sp = new SessionProfiles(cal(), 2);
    const batch = new VolumeProfile(2);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let d = 0; d < 5; d++) {
      for (let k = 0; k < 40; k++) {
        const ts = D0 + d * 24 * H + 9 * H + Math.floor(rnd() * 8 * H);
        const price = 1000 + d * 3 + Math.floor(rnd() * 30);
        const size = 1 + Math.floor(rnd() * 9);
        const sign = Math.floor(rnd() * 3) - 1;
        expect(sp.add(ts, price, size, sign)).toBe(true);
        if (d >= 2) batch.add(price, size, sign);
      }
    }
    const comp = sp.composite(3);
    const merged = compositeProfile(2, sp.sessions.slice(2).map((s) => s.profile));
    expect(comp.summary({ rows: true })).toEqual(merged.summary({ rows: true }));
    expect(comp.summary({ rows: true })).toEqual(batch.summary({ rows: true }));
    expect(sp.composite(10).totalVolume).toBe(sp.sessions.reduce((a, s) => a + s.profile.totalVolume, 0));
    // excluding the open session
    expect(sp.composite(2, false).totalVolume).toBe(sp.sessions[2].profile.totalVolume + sp.sessions[3].profile.totalVolume);
  });

  it('records developing levels per session at bar closes', () => {
    const sp = new SessionProfiles(cal(), 1);
    sp.add(D0 + 9 * H, 100, 5, 1);
    expect(sp.closeBar(D0 + 9 * H + 60_000)).toEqual({ ts: D0 + 9 * H + 60_000, poc: 100, vah: 100, val: 100 });
    sp.add(D0 + 9 * H + 61_000, 101, 3, 1);
    sp.add(D0 + 9 * H + 62_000, 99, 1, -1);
    // POC 100 (5 of 9), target 6.3: 3 above > 1 below -> VA 100..101 = 8
    expect(sp.closeBar(D0 + 9 * H + 120_000)).toEqual({ ts: D0 + 9 * H + 120_000, poc: 100, vah: 101, val: 100 });
    expect(sp.current!.developing.length).toBe(2);
    // the bar closing exactly at 17:00 is the session's last bar and closes it
    expect(sp.closeBar(D0 + 17 * H)).toEqual({ ts: D0 + 17 * H, poc: 100, vah: 101, val: 100 });
    expect(sp.current!.closed).toBe(true);
    expect(sp.closeBar(D0 + 18 * H)).toBeNull();
    const sp2 = new SessionProfiles(cal(), 1);
    sp2.add(D0 + 9 * H, 100, 5, 1);
    expect(sp2.closeBar(D0 + 20 * H)).toBeNull(); // after the end: closes, records nothing
    expect(sp2.current!.closed).toBe(true);
    expect(sp2.current!.developing).toEqual([]);
  });
});

describe('FixedRangeProfile', () => {
  it('adds only [from, to)', () => {
    const f = new FixedRangeProfile(1, 1000, 2000);
    expect(f.add(999, 10, 1, 1)).toBe(false);
    expect(f.add(1000, 10, 2, 1)).toBe(true);
    expect(f.add(1999, 11, 3, -1)).toBe(true);
    expect(f.add(2000, 12, 4, 1)).toBe(false);
    expect(f.profile.summary()).toMatchObject({ totalVolume: 5, buyVolume: 2, sellVolume: 3, pocPrice: 11 });
    const open = new FixedRangeProfile(1, 1000);
    expect(open.add(1e15, 5, 1, 0)).toBe(true);
    expect(() => new FixedRangeProfile(1, 5, 5)).toThrow(RangeError);
  });
  it('merge rejects different row heights', () => {
    expect(() => new VolumeProfile(2).merge(new VolumeProfile(4))).toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { DevelopingProfile } from '../../engine/src/analytics/profile/developing.js';
import { VolumeProfile } from '../../engine/src/analytics/profile/volume-profile.js';
import { mulberry32 } from '../../engine/src/sim/prng.js';


interface T { price: number; size: number; sign: number }

/** Independent batch reference: histogram by row, then the documented single-row rule written out. */
function batchLevels(trades: T[], rowTicks: number, pct: number) {
  const m = new Map<number, number>();
  let buy = 0, sell = 0, unk = 0;
  for (const t of trades) {
    const r = Math.floor(t.price / rowTicks);
    m.set(r, (m.get(r) ?? 0) + t.size);
    if (t.sign > 0) buy += t.size; else if (t.sign < 0) sell += t.size; else unk += t.size;
  }
  const rows = [...m.keys()].sort((a, b) => a - b);
  const lo = rows[0], hi = rows[rows.length - 1];
  const v = (r: number) => m.get(r) ?? 0;
  let max = -1, poc = 0;
  const centre = (lo + hi) / 2;
  for (let r = lo; r <= hi; r++) {
    if (v(r) > max || (v(r) === max && Math.abs(r - centre) < Math.abs(poc - centre))) { max = v(r); poc = r; }
  }
  const total = buy + sell + unk;
  let a = poc, b = poc, area = v(poc);
  while (area < pct * total - 1e-6 && (a > lo || b < hi)) {
    const up = b < hi ? v(b + 1) : -1, dn = a > lo ? v(a - 1) : -1;
    if (up >= dn) area += v(++b); else area += v(--a);
  }
  return { poc: poc * rowTicks, vah: b * rowTicks, val: a * rowTicks, total, buy, sell, unk };
}

describe('DevelopingProfile', () => {
  it('records POC/VAH/VAL at each bar close; empty → NaN; reset', () => {
    const d = new DevelopingProfile(1);
    expect(d.at(5)).toEqual({ ts: 5, poc: NaN, vah: NaN, val: NaN });
    d.add(10, 4, 1);
    d.add(11, 1, -1);
    expect(d.closeBar(100)).toEqual({ ts: 100, poc: 10, vah: 10, val: 10 }); // 4 of 5 >= 3.5
    d.add(11, 4, -1);
    // 10: 4, 11: 5 -> POC 11, target 6.3 -> +4 below -> 10..11
    expect(d.closeBar(200)).toEqual({ ts: 200, poc: 11, vah: 11, val: 10 });
    expect(d.points.map((p) => p.poc)).toEqual([10, 11]);
    d.reset();
    expect(d.points).toEqual([]);
    expect(d.profile.empty).toBe(true);
  });

  it('keeps at most maxPoints', () => {
    const d = new DevelopingProfile(1, { maxPoints: 2 });
    d.add(1, 1, 1);
    d.closeBar(1); d.closeBar(2); d.closeBar(3);
    expect(d.points.map((p) => p.ts)).toEqual([2, 3]);
  });

  it('incremental profile equals a batch recomputation on a random tape', () => {
    for (const seed of [1, 42, 2024]) {
      const rnd = mulberry32(seed);
      const rowTicks = 1 + Math.floor(rnd() * 5);
      const d = new DevelopingProfile(rowTicks);
      const trades: T[] = [];
      let price = 50_000;
      for (let i = 1; i <= 3000; i++) {
        price += Math.floor(rnd() * 7) - 3;
        const t = { price, size: 1 + Math.floor(rnd() * 20), sign: Math.floor(rnd() * 3) - 1 };
        trades.push(t);
        d.add(t.price, t.size, t.sign);
        if (i % 50 === 0) {
          const p = d.closeBar(i);
          const ref = batchLevels(trades, rowTicks, 0.7);
          expect([p.poc, p.vah, p.val]).toEqual([ref.poc, ref.vah, ref.val]);
        }
      }
      const ref = batchLevels(trades, rowTicks, 0.7);
      const s = d.profile.summary({ rows: true });
      expect([s.totalVolume, s.buyVolume, s.sellVolume, s.unknownVolume]).toEqual([ref.total, ref.buy, ref.sell, ref.unk]);
      // rows match a fresh batch profile built in shuffled order
      const shuffled = trades.slice();
      for (let i = shuffled.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]; }
      const batch = new VolumeProfile(rowTicks);
      for (const t of shuffled) batch.add(t.price, t.size, t.sign);
      expect(batch.summary({ rows: true })).toEqual(s);
      expect(d.points.length).toBe(60);
    }
  });
});

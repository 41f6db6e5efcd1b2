/** VwapRun (live session VWAP from running sums) equals vwapFromBars after every append and replace. */
import { describe, expect, it } from 'vitest';
import { VwapRun, vwapFromBars } from '../../indicators/render/vwap.js';
import type { FootprintBarData } from '../../indicators/render/types.js';

function bar(t: number, r: () => number, rows = 1 + Math.floor(r() * 6)): FootprintBarData {
  const lo = 1000 + Math.floor(r() * 40), rs = [];
  for (let j = 0; j < rows; j++) rs.push({ price: (lo + j) / 2, bid: Math.floor(r() * 9), ask: Math.floor(r() * 9) });
  const volume = rs.reduce((a, x) => a + x.bid + x.ask, 0);
  return { time: t, open: lo / 2, high: (lo + rows - 1) / 2, low: lo / 2, close: lo / 2, volume, delta: 0, rowSize: 0.5, rows: rs };
}

describe('VwapRun', () => {
  it('matches vwapFromBars bar by bar across UTC days, with replaced bars and bars without volume', () => {
    let s = 3; const r = (): number => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
    const run = new VwapRun();
    const bars: FootprintBarData[] = [];
    const t0 = Date.UTC(2024, 7, 7, 22, 0);
    for (let i = 0; i < 400; i++) {
      const t = t0 + i * 30_000;
      // 1 to 3 updates of the same bar (live: the open bar grows), sometimes an empty first one
      const k = 1 + Math.floor(r() * 3);
      for (let u = 0; u < k; u++) {
        const b = u === 0 && r() < 0.1 ? bar(t, r, 0) : bar(t, r);
        if (u === 0) bars.push(b); else bars[bars.length - 1] = b;
        run.add(b);
        const want = vwapFromBars(bars);
        expect(run.points.length).toBe(want.length);
        const a = run.points[run.points.length - 1], w = want[want.length - 1];
        if (w) { expect(a.time).toBe(w.time); expect(a.vwap).toBeCloseTo(w.vwap, 9); expect(a.sd).toBeCloseTo(w.sd, 9); }
      }
    }
    // an older bar is refused
    expect(run.add(bar(t0, r))).toBeNull();
    // reset = the batch result; between() slices by time
    run.reset(bars);
    expect(run.points).toEqual(vwapFromBars(bars));
    const mid = bars[200].time, end = bars[260].time;
    expect(run.between(mid, end)).toEqual(vwapFromBars(bars).filter((p) => p.time >= mid && p.time <= end));
  });
});

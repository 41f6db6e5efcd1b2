/**
 * ZoneIndex.refreshLast (indicators/render/footprint.ts): a live change of the newest bar (replaced, or a
 * new bar appended) leaves the stacked-imbalance zones and the block index exactly as a rebuild over the
 * whole series does (prepareSeries + new ZoneIndex): same zones in the same order, same zones visited in
 * the same order for any range, across 256-bar block boundaries, with bars that open, close, reopen and
 * re-close zones.
 */
import { describe, expect, it } from 'vitest';
import { prepareBar, prepareSeries, stackedZones } from '../../indicators/render/prepare.js';
import { ZoneIndex } from '../../indicators/render/footprint.js';
import type { FootprintBarData, StackedZone } from '../../indicators/render/types.js';

const T0 = Date.UTC(2024, 7, 8);
let s = 11;
const rnd = (): number => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
let price = 6000;
function bar(time: number): FootprintBarData {
  // a random walk with wide jumps (zones left untouched for a while) and runs of one-sided rows (stacked imbalances)
  price += Math.round((rnd() - 0.5) * (rnd() < 0.1 ? 60 : 8));
  const k = 3 + Math.floor(rnd() * 9), lo = price - Math.floor(rnd() * k), rows = [];
  const side = rnd();
  for (let j = 0; j < k; j++) {
    const heavy = rnd() < 0.7;
    const bid = side < 0.5 && heavy ? 40 + Math.floor(rnd() * 40) : 1 + Math.floor(rnd() * 6);
    const ask = side >= 0.5 && heavy ? 40 + Math.floor(rnd() * 40) : 1 + Math.floor(rnd() * 6);
    rows.push({ price: (lo + j) / 10, bid, ask });
  }
  const vol = rows.reduce((a, r) => a + r.bid + r.ask, 0), delta = rows.reduce((a, r) => a + r.ask - r.bid, 0);
  return { time, open: lo / 10, high: (lo + k - 1) / 10, low: lo / 10, close: (lo + k - 1) / 10, volume: vol, delta, rowSize: 0.1, rows };
}
const plain = (z: StackedZone[]): string => JSON.stringify(z.map((x) => [x.side, x.low, x.high, x.from, x.to]));
const visited = (ix: ZoneIndex, from: number, to: number): string => { const out: StackedZone[] = []; ix.visit(from, to, (z) => out.push(z)); return plain(out); };

describe('stacked zones updated live', () => {
  it('equal a rebuild after every replace and append of the newest bar', () => {
    const bars: FootprintBarData[] = [];
    for (let i = 0; i < 250; i++) bars.push(bar(T0 + i * 60_000));
    const o = { stackedMinRows: 2 };
    const prepared = prepareSeries(bars, o);
    const ix = new ZoneIndex(prepared.zones, bars.length);
    let reopened = 0, closedLive = 0, steps = 0;
    for (let step = 0; step < 900; step++) {
      // mostly replacements of the open bar (live updates), every ~3rd step a new bar; now and then an empty bar
      const append = rnd() < 0.35;
      const t = append ? bars[bars.length - 1].time + 60_000 : bars[bars.length - 1].time;
      const b = rnd() < 0.03 ? { ...bar(t), rows: [] } : bar(t);
      const i = append ? bars.length : bars.length - 1;
      const before = prepared.zones.filter((z) => z.to === i).length;
      bars[i] = b;
      const p = prepareBar(b, o);
      ix.refreshLast(i, p.n ? { lo: b.low, hi: b.high + b.rowSize * 0.5 } : null, p.n ? stackedZones(p, i, 2) : []);
      if (!append && before) reopened++;
      closedLive += prepared.zones.filter((z) => z.to === i).length;
      const full = prepareSeries(bars, o);
      expect(plain(prepared.zones)).toBe(plain(full.zones));
      const rebuilt = new ZoneIndex(full.zones, bars.length);
      const n = bars.length;
      for (const [a, c] of [[0, n - 1], [n - 40, n - 1], [200, 300], [255, 257], [n - 1, n - 1], [Math.floor(rnd() * n), n - 1]]) {
        expect(visited(ix, Math.max(0, a), c)).toBe(visited(rebuilt, Math.max(0, a), c));
      }
      steps++;
    }
    expect(bars.length).toBeGreaterThan(512); // crossed two block boundaries
    expect(steps).toBe(900);
    expect(reopened).toBeGreaterThan(20); // replaced bars had closed zones that had to reopen
    expect(closedLive).toBeGreaterThan(50);
    expect(prepared.zones.length).toBeGreaterThan(100);
  });

  it('refuses a bar that is not the newest', () => {
    const ix = new ZoneIndex([], 10);
    expect(() => ix.refreshLast(5, null, [])).toThrow(/not the newest/);
  });
});

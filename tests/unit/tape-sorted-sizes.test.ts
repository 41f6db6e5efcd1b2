/**
 * The tape's sorted sizes (examples/lightweight-charts/panels/sorted-sizes.ts) give the same p99 as sorting the
 * whole buffer, through inserts, trims (reset) and the p99-with-a-batch read that leaves the set unchanged, and
 * over a sliding window (the tape's shown trades: batches enter, the oldest leave through remove).
 */
import { describe, expect, it } from 'vitest';
import { SortedSizes } from '../../examples/lightweight-charts/panels/sorted-sizes.js';
import type { WireTrade } from '../../datafeed-adapter/src/ws/protocol.js';

/** the sort-based definition the tape used before: value at floor(0.99·n) of the sorted sizes */
const p99 = (sizes: number[]): number => { if (!sizes.length) return Infinity; const a = Float64Array.from(sizes).sort(); return a[Math.min(a.length - 1, Math.floor(a.length * 0.99))]; };

describe('tape sorted sizes', () => {
  it('equals the sort of the buffer after every batch, trim and p99-with read', () => {
    let s = 7; const r = (): number => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
    const set = new SortedSizes();
    let buf: WireTrade[] = [];
    let checked = 0;
    for (let b = 0; b < 400; b++) {
      const batch: WireTrade[] = [];
      const k = 1 + Math.floor(r() * 40);
      // repeated sizes (ties) and a rare huge print, as a real tape has
      for (let i = 0; i < k; i++) batch.push([b, 100, r() < 0.02 ? 50 + Math.floor(r() * 10) : Math.round(r() * 20) / 10, 1, b * 100 + i] as WireTrade);
      expect(set.p99With(batch)).toBe(p99([...buf, ...batch].map((t) => t[2])));
      expect(set.length).toBe(buf.length);
      buf.push(...batch);
      if (buf.length > 400) { buf = buf.slice(buf.length - 200); set.reset(buf); } else set.insert(batch);
      expect(set.p99()).toBe(p99(buf.map((t) => t[2])));
      checked++;
    }
    expect(checked).toBe(400);
    set.reset([]);
    expect(set.p99()).toBe(Infinity);
  });

  it('follows a sliding window of the newest trades through insert and remove (and a reset from an offset)', () => {
    let s = 11; const r = (): number => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
    const W = 300, set = new SortedSizes(), buf: WireTrade[] = [];
    let checked = 0;
    for (let b = 0; b < 300; b++) {
      const batch: WireTrade[] = [];
      for (let i = 0, k = 1 + Math.floor(r() * 30); i < k; i++) batch.push([b, 100, r() < 0.02 ? Number.NaN : r() < 0.03 ? 50 + Math.floor(r() * 10) : Math.round(r() * 20) / 10, 1, b * 100 + i] as WireTrade);
      const before = buf.length;
      buf.push(...batch);
      set.insert(batch);
      set.remove(buf, Math.max(0, before - W), Math.max(0, buf.length - W));
      const win = buf.slice(Math.max(0, buf.length - W));
      expect(set.length).toBe(win.length);
      expect(set.p99()).toBe(p99(win.map((t) => (t[2] === t[2] ? t[2] : Infinity)))); // a NaN size counts as +Infinity (sorted last)
      checked++;
    }
    expect(checked).toBe(300);
    const again = new SortedSizes();
    again.reset(buf, buf.length - W);
    expect(again.p99()).toBe(set.p99());
    expect(again.length).toBe(W);
  });
});

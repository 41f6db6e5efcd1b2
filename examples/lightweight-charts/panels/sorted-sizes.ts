/**
 * Trade sizes kept sorted (ascending) as they arrive, for the tape's auto big-trade threshold: the 99th
 * percentile is then one read instead of a sort of the whole buffer for every batch and every frame.
 * An insert is a binary search and one typed-array shift (the buffer is ~1,000 sizes).
 * A NaN size is kept as +Infinity: it sorts last, as a Float64Array sort puts NaN.
 */
import type { WireTrade } from '../../../datafeed-adapter/src/ws/protocol.js';

const key = (x: number): number => (x === x ? x : Infinity);

export class SortedSizes {
  private a = new Float64Array(256);
  private n = 0;
  get length(): number { return this.n; }
  /** the sizes of `buf` from index `from` on (sorted once) */
  reset(buf: readonly WireTrade[], from = 0): void {
    const n = Math.max(0, buf.length - from);
    if (this.a.length < n) this.a = new Float64Array(n * 2);
    this.n = n;
    for (let i = 0; i < n; i++) this.a[i] = key(buf[from + i][2]);
    this.a.subarray(0, this.n).sort();
  }
  insert(batch: readonly WireTrade[]): void { for (const t of batch) this.add(key(t[2])); }
  /** takes out the sizes of `buf[from..to)` (trades that left the window the set describes) */
  remove(buf: readonly WireTrade[], from = 0, to = buf.length): void { for (let i = from; i < to; i++) this.drop(key(buf[i][2])); }
  /** p99 (the value at floor(0.99·n) of the sorted sizes); Infinity when empty */
  p99(): number { return this.n ? this.a[Math.min(this.n - 1, Math.floor(this.n * 0.99))] : Infinity; }
  /** p99 of these sizes together with `batch`'s, leaving the set as it was */
  p99With(batch: readonly WireTrade[]): number {
    this.insert(batch);
    const p = this.p99();
    for (const t of batch) this.drop(key(t[2]));
    return p;
  }
  private add(x: number): void {
    if (this.n === this.a.length) { const b = new Float64Array(this.a.length * 2); b.set(this.a); this.a = b; }
    const i = this.upper(x);
    this.a.copyWithin(i + 1, i, this.n);
    this.a[i] = x;
    this.n++;
  }
  private drop(x: number): void {
    const i = this.upper(x) - 1;
    if (i < 0 || this.a[i] !== x) return;
    this.a.copyWithin(i, i + 1, this.n);
    this.n--;
  }
  /** first index whose value is greater than x */
  private upper(x: number): number {
    let lo = 0, hi = this.n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.a[m] <= x) lo = m + 1; else hi = m; }
    return lo;
  }
}

/**
 * UDF /history at minute resolutions (the base timeframe and its multiples), answered from text
 * encoded once per bucket. A bucket that no later bar can join never changes, so each instrument
 * keeps, per resolution, its sealed buckets' UDF values (t, o, h, l, c, v) as JSON number text in
 * immutable blocks of BLOCK buckets (one byte column per field, with per-bucket offsets). An uncached
 * answer over N buckets is two binary searches plus references to block slices (no copy, no number
 * formatting); only the newest buckets (the last closed bars' bucket and the open bar) are rendered
 * per request. The HTTP layer writes the parts with one writev and may keep them as its cached body:
 * written block bytes are never changed (blocks are append-only and dropped whole), so a slice stays
 * valid however the columns move on.
 *
 * The columns follow `pipeline.bars` lazily (synced on each query, a bounded number of bars per
 * call): bars appended since the last query are grouped and sealed, buckets whose bars left memory
 * are dropped from the front, and anything else (bars restored in front after a restart) rebuilds
 * them. Only answers the in-memory bars fully decide take this path; everything else (stored bars,
 * caps, empty answers, a partial oldest bucket) goes through the general bars.ts walk, which gives
 * the same answer (tests/unit/udf-columns.test.ts compares them byte for byte).
 */
import type { ClosedBar } from '../../../engine/src/analytics/pipeline.js';
import type { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import type { Instrument } from '../../../engine/src/core/instruments.js';
import { mergeBars } from './aggregate.js';

/** An answer as byte parts (written in order; `length` is their total). */
export interface Encoded { parts: Buffer[]; length: number }

const COLS = 6;
/**
 * Buckets per block (entry k lives in block k / BLOCK). A number's JSON text is at most 25 characters
 * ("-0.0000012345678901234567"), so a block column holds at most 1024 × 26 bytes: Uint16 offsets.
 */
const BLOCK = 1024;
const HEAD = Buffer.from('{"s":"ok","t":[', 'latin1');
const SEP = ['t', 'o', 'h', 'l', 'c', 'v'].map((n) => Buffer.from(`],"${n}":[`, 'latin1'));
const TAIL = Buffer.from(']}', 'latin1');

/** JSON.stringify's text for a number (finite numbers print as String does; others as null). */
function num(x: number): string { return Number.isFinite(x) ? String(x) : 'null'; }

/** The six UDF values of a bar whose bucket starts at `t` (ms). */
function values(i: Instrument, t: number, b: FootprintBar): string[] {
  const px = (x: number): string => num(i.price.toNumber(x));
  return [num(Math.floor(t / 1000)), px(b.open), px(b.high), px(b.low), px(b.close), num(i.qty.toNumber(b.volume))];
}

/** BLOCK entries of text per column; written once, front to back, never rewritten. */
class Block {
  n = 0;
  readonly bufs: Buffer[] = [];
  readonly offs: Uint16Array[] = [];
  constructor(guess: number[]) {
    for (let c = 0; c < COLS; c++) { this.bufs.push(Buffer.allocUnsafe(guess[c])); this.offs.push(new Uint16Array(BLOCK + 1)); }
  }
  get full(): boolean { return this.n === BLOCK; }
  append(v: string[]): void {
    const n = this.n;
    for (let c = 0; c < COLS; c++) {
      const o = this.offs[c], at = o[n], s = v[c];
      let buf = this.bufs[c];
      if (at + s.length + 1 > buf.length) {
        // grow into a new buffer: the old one keeps the bytes slices already point at
        const nb = Buffer.allocUnsafe(Math.max(at + s.length + 1, buf.length * 2));
        buf.copy(nb, 0, 0, at);
        this.bufs[c] = buf = nb;
      }
      const w = buf.write(s, at, 'latin1');
      buf[at + w] = 0x2c; // ','
      o[n + 1] = at + w + 1;
    }
    this.n = n + 1;
  }
  /** Text bytes used per column (the next block's first guess). */
  used(): number[] { return this.offs.map((o) => o[this.n]); }
}

export class UdfColumns {
  /** absolute entry indexes: entry k is in blocks[(k / BLOCK | 0) - blockBase], its start in starts[k - startBase] */
  private n = 0;
  private first = 0;
  private blocks: Block[] = [];
  private blockBase = 0;
  private starts = new Float64Array(1024);
  private startBase = 0;
  /** start of the newest base bar inside a sealed entry (NaN: none) */
  private sealedTo = NaN;
  /** oldest in-memory bar start seen at the last sync (bars appearing before it force a rebuild) */
  private memFirst = Infinity;
  private guess = [12_288, 8192, 8192, 8192, 8192, 8192];
  /** a base bar off its bucket's start was seen in pass-through mode (bars.ts then times it by its own start): no fast answers */
  private irregular = false;

  /** `ms`: bucket length; `passThrough`: the bucket is the resolution of the base bars (bars.ts keeps its oldest bar) */
  constructor(private readonly inst: Instrument, readonly ms: number, private readonly passThrough: boolean) {}

  get size(): number { return this.n - this.first; }

  private bucket(start: number): number { return Math.floor(start / this.ms) * this.ms; }

  private startAt(k: number): number { return this.starts[k - this.startBase]; }

  /**
   * Seal the complete buckets of `bars` (ascending, closed), at most `budget` bars per call; true
   * when the columns are up to date. A bucket is complete once a later bucket's bar has closed.
   */
  sync(bars: readonly ClosedBar[], budget = Infinity): boolean {
    if (bars.length === 0) { this.reset(); return true; }
    const b0 = bars[0].bar.start;
    let k = 0;
    if (!Number.isNaN(this.sealedTo)) {
      const j = findStart(bars, this.sealedTo);
      // the newest sealed bar must still be held, and nothing may have appeared in front
      if (j < 0 || b0 < this.memFirst) this.reset();
      else k = j + 1;
    }
    this.memFirst = b0;
    // group bars[k..] into buckets; seal each group that a later bucket's bar follows
    let done = 0;
    while (k < bars.length && done < budget) {
      const t = this.bucket(bars[k].bar.start);
      let j = k + 1;
      while (j < bars.length && this.bucket(bars[j].bar.start) === t) j++;
      if (j === bars.length) break; // the newest bucket may still grow
      const group = bars.slice(k, j).map((x) => x.bar);
      if (this.passThrough && group[0].start !== t) this.irregular = true;
      this.append(t, this.pick(t, group));
      this.sealedTo = bars[j - 1].bar.start;
      done += j - k;
      k = j;
    }
    this.dropBefore(this.safeFrom(b0));
    return k >= bars.length || this.bucket(bars[k].bar.start) === this.bucket(bars[bars.length - 1].bar.start);
  }

  /** The bar whose values a bucket shows (bars.ts: the oldest bar when passing through, else the merge). */
  private pick(t: number, group: FootprintBar[]): FootprintBar {
    return group.length === 1 || this.passThrough ? group[0] : mergeBars(group, t, t + this.ms, false);
  }

  /** Oldest bucket time whose bars are all in memory when the oldest held bar starts at b0. */
  safeFrom(b0: number): number {
    const t0 = this.bucket(b0);
    return t0 === b0 ? b0 : t0 + this.ms;
  }

  /**
   * The UDF answer for [from, to) (ms) with `cb` countback, when the in-memory bars decide it; null
   * sends the query to the general walk. `bars` must be the list `sync` just caught up with.
   */
  answer(bars: readonly ClosedBar[], open: FootprintBar | null, from: number, to: number, cb: number, storeBehind: boolean, maxBars: number): Encoded | null {
    // the newest buckets: closed bars after the sealed ones, then the open bar (with trades)
    const k0 = Number.isNaN(this.sealedTo) ? 0 : findStart(bars, this.sealedTo) + 1;
    if (k0 === 0 && this.n > this.first) return null; // not synced with these bars
    const tails: { t: number; bars: FootprintBar[] }[] = [];
    for (let k = k0; k < bars.length; k++) {
      const b = bars[k].bar, t = this.bucket(b.start);
      if (t >= to) break;
      if (tails.length && tails[tails.length - 1].t === t) tails[tails.length - 1].bars.push(b); else tails.push({ t, bars: [b] });
    }
    if (open && open.trades > 0) {
      const t = this.bucket(open.start);
      if (t < to) { if (tails.length && tails[tails.length - 1].t === t) tails[tails.length - 1].bars.push(open); else tails.push({ t, bars: [open] }); }
    }
    if (this.irregular || (this.passThrough && tails.some((x) => x.bars[0].start !== x.t))) return null;
    const memFirst = bars.length ? bars[0].bar.start : open && open.trades > 0 ? open.start : Infinity;
    if (!Number.isFinite(memFirst)) return null;
    const safe = this.safeFrom(memFirst);
    if (tails.length && tails[0].t < safe) return null; // the oldest bucket may be partial
    const a = this.lowerBound(from), e = this.lowerBound(to);
    const nT = tails.length;
    let tailsIn = 0;
    for (const x of tails) if (x.t >= from) tailsIn++;
    const total = e - this.first + nT;
    const inRange = e - a + tailsIn;
    const take = inRange >= cb ? inRange : Math.min(total, cb);
    if (take === 0 || take >= maxBars) return null;
    // older data (the store, a partial oldest bucket) could belong to the answer
    const older = storeBehind || memFirst < safe;
    if (older && !((from >= safe && inRange >= cb) || (inRange < cb && total >= cb))) return null;
    const sealed = Math.max(0, take - nT);
    const extra = tails.slice(nT - (take - sealed)).map((x) => values(this.inst, x.t, this.pick(x.t, x.bars)));
    return this.body(e - sealed, e, extra);
  }

  /** The UDF body for sealed entries [a, b) followed by the `extra` entries' values. */
  private body(a: number, b: number, extra: string[][]): Encoded {
    const parts: Buffer[] = [];
    let length = 0;
    const push = (x: Buffer): void => { if (x.length) { parts.push(x); length += x.length; } };
    for (let c = 0; c < COLS; c++) {
      push(c === 0 ? HEAD : SEP[c]);
      for (let k = a; k < b;) {
        const blk = this.blocks[((k / BLOCK) | 0) - this.blockBase];
        const lo = k % BLOCK, hi = Math.min(BLOCK, lo + (b - k));
        k += hi - lo;
        // each entry ends with ','; the last one before the closing bracket loses it
        const cut = k === b && extra.length === 0 ? 1 : 0;
        push(blk.bufs[c].subarray(blk.offs[c][lo], blk.offs[c][hi] - cut));
      }
      if (extra.length) push(Buffer.from(extra.map((v) => v[c]).join(','), 'latin1'));
    }
    push(TAIL);
    return { parts, length };
  }

  /** First live entry index with start >= x (n when none). */
  private lowerBound(x: number): number {
    let lo = this.first, hi = this.n;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.startAt(m) < x) lo = m + 1; else hi = m;
    }
    return lo;
  }

  private append(t: number, b: FootprintBar): void {
    const n = this.n;
    if (n - this.startBase >= this.starts.length) this.growStarts();
    this.starts[n - this.startBase] = t;
    let blk = this.blocks[this.blocks.length - 1];
    if (!blk || blk.full) {
      if (blk) this.guess = blk.used().map((u) => u + (u >> 3) + 64);
      blk = new Block(this.guess);
      this.blocks.push(blk);
    }
    blk.append(values(this.inst, t, b));
    this.n = n + 1;
  }

  private growStarts(): void {
    // move the live starts to the front, doubling when they fill more than half
    const live = this.n - this.first;
    const s = live * 2 > this.starts.length ? new Float64Array(this.starts.length * 2) : this.starts;
    s.set(this.starts.subarray(this.first - this.startBase, this.n - this.startBase));
    this.starts = s;
    this.startBase = this.first;
  }

  /** Forget entries with start < t (their bars left memory); whole blocks are released. */
  private dropBefore(t: number): void {
    this.first = this.lowerBound(t);
    while (this.blocks.length && (this.blockBase + 1) * BLOCK <= this.first) { this.blocks.shift(); this.blockBase++; }
  }

  private reset(): void {
    // fresh blocks: slices of the old ones (held by cached answers) stay as they are
    this.n = this.first = this.startBase = 0;
    this.blocks = [];
    this.blockBase = 0;
    this.sealedTo = NaN;
    this.memFirst = Infinity;
    this.irregular = false;
  }
}

/** Index of the bar starting at `start` (bars ascending), or −1. */
function findStart(bars: readonly ClosedBar[], start: number): number {
  let lo = 0, hi = bars.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (bars[m].bar.start < start) lo = m + 1; else hi = m;
  }
  return lo < bars.length && bars[lo].bar.start === start ? lo : -1;
}

/** columns kept per service: a few resolutions of every instrument (least recently used dropped; each is bounded by the bars held) */
const MAX_COLUMNS = 256;
const perService = new WeakMap<object, Map<string, UdfColumns>>();

/** The columns of one instrument at one bucket length for one service (created on first use). */
export function udfColumns(owner: object, inst: Instrument, ms: number, passThrough: boolean): UdfColumns {
  let m = perService.get(owner);
  if (!m) { m = new Map(); perService.set(owner, m); }
  const key = `${inst.id}|${ms}|${passThrough ? 1 : 0}`;
  let c = m.get(key);
  if (c) { m.delete(key); m.set(key, c); return c; }
  c = new UdfColumns(inst, ms, passThrough);
  m.set(key, c);
  if (m.size > MAX_COLUMNS) m.delete(m.keys().next().value as string);
  return c;
}

export function isEncoded(x: unknown): x is Encoded {
  return typeof x === 'object' && x !== null && Array.isArray((x as Encoded).parts) && typeof (x as Encoded).length === 'number';
}

/** One buffer of an encoded answer (in-process callers and tests). */
export function joinEncoded(e: Encoded): Buffer { return Buffer.concat(e.parts, e.length); }

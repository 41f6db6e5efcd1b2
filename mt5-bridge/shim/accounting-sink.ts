/**
 * A tick sink for long shimmed-EA scenarios that keeps no tick objects: every expected tick id
 * (symbol, ms, ord) is a slot in a sorted Float64Array, and an append only counts into its slot and
 * checks its UTC time. Lost = slots never hit, duplicated = extra hits, unexpected = ids with no slot.
 * Retaining 100k+ BridgeTick objects (MemoryTickSink) makes the test process's major GCs pause for
 * 100-300 ms, which then shows up as server-side latency in what the scenario measures.
 */
import { cmpCursor } from '../src/protocol.js';
import type { BridgeTick, TickCursor, TickSink } from '../src/sink.js';

const ORD = 4096; // ms × 4096 + ord is exact below 2^53 for broker ms of this century

interface Slots { keys: Float64Array; utc: Float64Array; hits: Uint16Array }

export class AccountingSink implements TickSink {
  private readonly slots = new Map<string, Slots>();
  private readonly cursors = new Map<string, TickCursor>();
  private readonly offsetRows = new Map<string, { at: number; off: number }[]>();
  /** ticks appended (first time each) */
  stored = 0;
  duplicated = 0;
  unexpected = 0;
  utcWrong = 0;

  /** expected ticks per symbol: broker ms and UTC ms, in tape order (ordinal = position within the ms) */
  constructor(expected: { sym: string; ms: readonly number[]; utc: readonly number[] }[]) {
    for (const e of expected) {
      const n = e.ms.length;
      const keys = new Float64Array(n), utc = new Float64Array(n);
      let ms = NaN, ord = 0;
      for (let i = 0; i < n; i++) {
        if (e.ms[i] !== ms) { ms = e.ms[i]; ord = 0; } else ord++;
        if (ord >= ORD) throw new Error(`AccountingSink: more than ${ORD} ticks in one ms`);
        keys[i] = ms * ORD + ord;
        utc[i] = e.utc[i];
        if (i > 0 && keys[i] <= keys[i - 1]) throw new Error('AccountingSink: expected ticks must be in time order');
      }
      this.slots.set(e.sym, { keys, utc, hits: new Uint16Array(n) });
    }
  }

  get expected(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.keys.length;
    return n;
  }

  async append(batch: readonly BridgeTick[]): Promise<void> {
    for (const t of batch) {
      const s = this.slots.get(t.sym);
      const i = s ? find(s.keys, t.ms * ORD + t.ord) : -1;
      if (!s || i < 0) { this.unexpected++; this.note('unexpected', t); continue; }
      if (s.hits[i]++ > 0) { this.duplicated++; this.note('duplicated', t); continue; } // a sink ignores what it holds; counted as the server sending it twice
      this.stored++;
      if (s.utc[i] !== t.utcMs) { this.utcWrong++; this.note(`utc off by ${t.utcMs - s.utc[i]} ms`, t); }
      const ck = `${t.feed}\u0000${t.sym}`;
      const c = this.cursors.get(ck);
      if (!c || cmpCursor(t.ms, t.ord, c.ms, c.ord) > 0) this.cursors.set(ck, { ms: t.ms, ord: t.ord });
    }
  }

  /** the first few wrong ticks, said (sym, ms, ord, live or history) */
  readonly examples: string[] = [];
  private note(what: string, t: BridgeTick): void {
    if (this.examples.length < 8) this.examples.push(`${what}: ${t.sym} ${t.ms}:${t.ord} ${t.live ? 'live' : 'history'}`);
  }

  lost(): number {
    let n = 0;
    for (const s of this.slots.values()) for (let i = 0; i < s.hits.length; i++) if (s.hits[i] === 0) n++;
    return n;
  }

  async cursor(feed: string, sym: string): Promise<TickCursor | null> {
    return this.cursors.get(`${feed}\u0000${sym}`) ?? null;
  }

  async offsets(feed: string): Promise<{ at: number; off: number }[]> {
    return [...(this.offsetRows.get(feed) ?? [])];
  }

  async saveOffset(feed: string, at: number, off: number): Promise<void> {
    const rows = (this.offsetRows.get(feed) ?? []).filter((r) => r.at !== at);
    rows.push({ at, off });
    rows.sort((a, b) => a.at - b.at);
    this.offsetRows.set(feed, rows);
  }
}

function find(keys: Float64Array, k: number): number {
  let a = 0, b = keys.length;
  while (a < b) { const m = (a + b) >>> 1; if (keys[m] < k) a = m + 1; else b = m; }
  return a < keys.length && keys[a] === k ? a : -1;
}

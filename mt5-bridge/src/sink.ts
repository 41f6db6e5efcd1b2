/**
 * Where the bridge persists ticks. `append` resolves only once the ticks are durable; the server
 * acknowledges a cursor to the EA only after that, so a crash between receive and persist makes the
 * EA resend (the EA keeps no journal: the terminal's tick history is the journal).
 * Ticks are identified by (feed, sym, ms, ord); a sink ignores a tick it already holds.
 */
import type { Side, SideSource } from '../../engine/src/core/events.js';
import { cmpCursor } from './protocol.js';

export interface BridgeTick {
  /** terminal identity (company|server|login hash) */
  feed: string;
  /** broker symbol */
  sym: string;
  /** engine instrument id */
  instrument: string;
  /** raw broker time_msc (server wall clock encoded as epoch) */
  ms: number;
  /** ordinal within the millisecond */
  ord: number;
  /** UTC ms (ms − utc_off × 1000 with the offset in force at receipt) */
  utcMs: number;
  /** prices in instrument ticks; NaN when the broker sent 0 (absent) */
  bid: number;
  ask: number;
  last: number;
  /** volume in instrument lots (0 on quote feeds) */
  vol: number;
  /** raw MqlTick.flags */
  flags: number;
  /** aggressor as labelled by the bridge: flag, or unknown/none (left to the engine's ladder) */
  side: Side;
  sideSource: SideSource;
  /** false for ticks that arrived by backfill */
  live: boolean;
}

export interface TickCursor { ms: number; ord: number }

export interface TickSink {
  /** Persist ticks (duplicates by (feed, sym, ms, ord) are ignored); resolves when durable. */
  append(ticks: readonly BridgeTick[]): Promise<void>;
  /** Last persisted (ms, ord) of a symbol, or null. */
  cursor(feed: string, sym: string): Promise<TickCursor | null>;
  /** The feed's observed broker UTC offsets (`at` = broker ms the offset took effect), oldest first. */
  offsets?(feed: string): Promise<{ at: number; off: number }[]>;
  /** Persist one observed offset change. */
  saveOffset?(feed: string, at: number, off: number): Promise<void>;
  close?(): Promise<void>;
}

/** In-memory sink (tests, benchmarks). `delayMs` simulates a slow disk; `failNext` makes one append fail. */
export class MemoryTickSink implements TickSink {
  readonly ticks: BridgeTick[] = [];
  /** per feed+symbol: numeric keys ms × 4096 + ord (exact below 2^53 for ord < 4096), else string keys */
  private readonly keys = new Map<string, { num: Set<number>; str: Set<string> }>();
  private readonly cursors = new Map<string, TickCursor>();
  duplicates = 0;
  appends = 0;
  delayMs = 0;
  failNext = false;
  /** when set, append never resolves (a server "killed" between receive and persist) */
  hang = false;

  constructor(opts: { delayMs?: number } = {}) {
    this.delayMs = opts.delayMs ?? 0;
  }

  async append(batch: readonly BridgeTick[]): Promise<void> {
    if (this.hang) return new Promise<void>(() => {});
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext) { this.failNext = false; throw new Error('simulated sink failure'); }
    this.appends++;
    let ck = '', ks: { num: Set<number>; str: Set<string> } | undefined;
    for (const t of batch) {
      const k2 = t.feed + '\u0000' + t.sym;
      if (k2 !== ck) {
        ck = k2;
        ks = this.keys.get(ck);
        if (!ks) { ks = { num: new Set(), str: new Set() }; this.keys.set(ck, ks); }
      }
      if (t.ord < 4096) {
        const k = t.ms * 4096 + t.ord;
        if (ks!.num.has(k)) { this.duplicates++; continue; }
        ks!.num.add(k);
      } else {
        const k = `${t.ms}:${t.ord}`;
        if (ks!.str.has(k)) { this.duplicates++; continue; }
        ks!.str.add(k);
      }
      this.ticks.push(t);
      const c = this.cursors.get(ck);
      if (!c || cmpCursor(t.ms, t.ord, c.ms, c.ord) > 0) this.cursors.set(ck, { ms: t.ms, ord: t.ord });
    }
  }

  async cursor(feed: string, sym: string): Promise<TickCursor | null> {
    return this.cursors.get(`${feed}\u0000${sym}`) ?? null;
  }

  readonly offsetRows = new Map<string, { at: number; off: number }[]>();
  async offsets(feed: string): Promise<{ at: number; off: number }[]> {
    return [...(this.offsetRows.get(feed) ?? [])];
  }
  async saveOffset(feed: string, at: number, off: number): Promise<void> {
    const rows = this.offsetRows.get(feed) ?? [];
    rows.push({ at, off });
    rows.sort((a, b) => a.at - b.at);
    this.offsetRows.set(feed, rows);
  }

  /** Persisted ticks of one symbol in (ms, ord) order. */
  sorted(sym?: string): BridgeTick[] {
    return this.ticks.filter((t) => sym === undefined || t.sym === sym).sort((a, b) => cmpCursor(a.ms, a.ord, b.ms, b.ord));
  }
}

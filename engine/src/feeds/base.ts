/**
 * Shared machinery of the venue feeds: connections, ingestion through the replay frame parsers, the
 * recorder tap, trade holding while a backfill runs, completeness records and status.
 */
import { EventEmitter } from 'node:events';
import type { MarketEvent } from '../core/events.js';
import type { Instrument } from '../core/instruments.js';
import { FeedContext } from '../replay/context.js';
import { venueInfo } from '../replay/context.js';
import { BadRow } from '../replay/types.js';
import type { ResyncRequest } from '../book/sync.js';
import { silentLogger, type Logger } from '../log.js';
import type { FrameParser } from '../venues/types.js';
import { Backoff, BoundedSet, Completeness, RestClient, delay } from './util.js';
import { WsConn } from './ws.js';
import { newCounters, type ConnState, type Feed, type FeedCounters, type FeedOptions, type FeedStatus, type GapKind, type GapRecord, type LiveVenue } from './types.js';

export interface ConnPlan {
  symbols: string[];
  url: () => string;
}

export interface VenueDefaults {
  wsUrl: string;
  restUrl: string;
  weightPerMinute: number;
  /** venue name the frame parser resolves instruments with (the instrument registry's `venue`) */
  parserVenue: string;
  /** the venue's frame parser (the same one replay uses) */
  parse: FrameParser;
  maxConnectionMs?: number;
  appPing?: { intervalMs: number; message: () => string };
  /** frames that are only liveness (application pongs, heartbeats): not data for stall detection */
  isHeartbeat?: (text: string) => boolean;
  /** binary venues (Kite): binary frames go to onBinary; this marks the liveness-only ones */
  isHeartbeatBinary?: (data: Uint8Array) => boolean;
}

const STATE_RANK: Record<ConnState, number> = { open: 0, idle: 1, connecting: 2, backoff: 3, stopped: 4 };

class SinkFailure { constructor(readonly cause: unknown) {} }

export abstract class BaseFeed extends EventEmitter implements Feed {
  readonly name: string;
  readonly venue: LiveVenue;
  readonly counters: FeedCounters = newCounters();
  readonly completeness: Completeness;
  readonly log: Logger;
  readonly now: () => number;
  readonly rest: RestClient;
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly parserVenue: string;
  symbols: string[];
  protected ctx: FeedContext;
  protected conns: { conn: WsConn; symbols: string[] }[] = [];
  protected stopped = true;
  protected readonly abort = new AbortController();
  private readonly held = new Map<string, { recv: number; frame: unknown }[]>();
  private readonly instBySymbol = new Map<string, string>();
  private readonly symbolByInst = new Map<string, string>();

  constructor(readonly o: FeedOptions, readonly d: VenueDefaults) {
    super();
    this.venue = o.venue;
    this.name = o.name ?? o.venue;
    this.log = (o.log ?? silentLogger).child({ feed: this.name });
    this.now = o.now ?? Date.now;
    this.wsUrl = o.wsUrl ?? d.wsUrl;
    this.restUrl = o.restUrl ?? d.restUrl;
    this.parserVenue = d.parserVenue;
    this.symbols = [...new Set(o.symbols.map((s) => this.normalizeSymbol(s)))];
    // closed gaps that lost data become engine Gap events (from/to = local ms), which the store persists
    // and /timescale_marks shows: stalls, and whatever closed without being recovered (complete: false).
    // Book breaks already come from the book synchronizer; a disconnect whose trades were backfilled and
    // whose book resynced lost nothing that the engine keeps.
    this.completeness = new Completeness(o.venue, this.now, (instrument, g) => {
      if (this.stopped || g.kind === 'book' || g.to === null || (g.kind !== 'stall' && g.complete !== false)) return;
      const what = g.kind === 'trades' ? `${(g.missing ?? 0) - (g.recovered ?? 0)} trades not recovered` : `${g.kind} ${g.durationMs} ms`;
      try {
        this.o.sink({ type: 'gap', instrument, ts: g.from, from: g.from, to: g.to, reason: `${this.name}: ${what}: ${g.reason}` });
      } catch (e) {
        this.log.error(`${this.name}: recording a gap failed: ${(e as Error).message}`);
      }
    });
    this.ctx = new FeedContext(o.registry);
    this.rest = new RestClient(this.restUrl, { weightPerMinute: o.restWeightPerMinute ?? d.weightPerMinute, timeoutMs: o.restTimeoutMs ?? 10_000, counters: this.counters, now: this.now });
  }

  protected normalizeSymbol(s: string): string { return s.trim().toUpperCase(); }

  /** venue symbols whose first connection must backfill from the stored last trade (a restart) */
  protected readonly resuming = new Set<string>();
  /** Seed the venue's trade continuity with the last trade stored before a restart (id and exchange time). */
  protected resumeFrom(_symbol: string, _last: { id: number; ts: number }): void {}

  /** Venue preparation before connecting (exchangeInfo, instrument registration). */
  protected async prepare(): Promise<void> {}
  protected abstract plan(): ConnPlan[];
  protected abstract onOpen(conn: WsConn, symbols: string[], reconnect: boolean): void;
  protected abstract onText(text: string, recv: number, conn: WsConn, symbols: string[]): void;
  /** binary frames of binary venues (VenueDefaults.isHeartbeatBinary set); default: ingest as they are */
  protected onBinary(data: Uint8Array, recv: number, _conn: WsConn, _symbols: string[]): void { this.ingest(data, recv); }
  /** start a book resync for a venue symbol (REST snapshot or resubscribe) */
  protected abstract resyncBook(symbol: string, reason: string): void;

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.prepare();
    if (this.stopped) return;
    for (const s of this.symbols) {
      const id = this.instrumentId(s);
      const r = this.o.resume?.(id);
      if (r && Number.isFinite(r.ts)) { this.resuming.add(s); this.resumeFrom(s, r); this.log.info(`${this.name}: ${id} resumes after trade id ${r.id} at ${new Date(r.ts).toISOString()}: backfilling the downtime`); }
    }
    for (const p of this.plan()) {
      const entry = { conn: undefined as unknown as WsConn, symbols: p.symbols };
      entry.conn = new WsConn({
        name: this.name, url: p.url, backoff: new Backoff(this.o.backoff), log: this.log, now: this.now,
        pingIntervalMs: this.o.pingIntervalMs ?? 15_000, staleMs: this.o.staleMs ?? 45_000,
        maxConnectionMs: this.o.maxConnectionMs ?? this.d.maxConnectionMs, appPing: this.d.appPing,
        stallMs: this.o.stallMs ?? (this.o.depth === false ? 60_000 : 10_000), isHeartbeat: this.d.isHeartbeat,
        onStall: (since) => {
          for (const s of entry.symbols) this.gap(this.instrumentId(s), 'stall', `stalled: the connection was open but carried no data since ${new Date(since).toISOString()}`, { from: since });
          this.emit('stall', since);
        },
        onStallEnd: () => {
          for (const s of entry.symbols) this.completeness.close(this.instrumentId(s), 'stall', { complete: false });
          this.emit('stall-end');
        },
        onOpen: (c, reconnect) => {
          if (reconnect) this.counters.reconnects++;
          for (const s of entry.symbols) this.completeness.close(this.instrumentId(s), 'disconnect', { complete: true });
          this.onOpen(c, entry.symbols, reconnect);
          this.emit('open', { reconnect, symbols: entry.symbols });
        },
        onMessage: (text, recv, c) => {
          this.counters.frames++;
          this.onText(text, recv, c, entry.symbols);
          this.emit('frame');
        },
        onBinary: this.d.isHeartbeatBinary ? (data, recv, c) => {
          this.counters.frames++;
          this.onBinary(data, recv, c, entry.symbols);
          this.emit('frame');
        } : undefined,
        isHeartbeatBinary: this.d.isHeartbeatBinary,
        onDown: (reason) => {
          for (const s of entry.symbols) this.gap(this.instrumentId(s), 'disconnect', `connection lost: ${reason}`);
          this.emit('down', reason);
        },
        onState: () => this.emit('state'),
      });
      this.conns.push(entry);
      entry.conn.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error('feed stopped'));
    await Promise.all(this.conns.map((c) => c.conn.stop()));
  }

  /** Instrument id of a venue symbol (looked up like the parsers do; predicted when not registered yet). */
  instrumentId(symbol: string): string {
    let id = this.instBySymbol.get(symbol);
    if (id) return id;
    const inst = this.lookup(symbol);
    const info = venueInfo(this.parserVenue);
    id = inst ? inst.id : info.prefix ? `${info.prefix}:${symbol.toUpperCase()}` : symbol.toUpperCase();
    if (inst) { this.instBySymbol.set(symbol, id); this.symbolByInst.set(id, symbol); }
    return id;
  }

  protected lookup(symbol: string): Instrument | undefined {
    const up = symbol.toUpperCase();
    const info = venueInfo(this.parserVenue);
    const id = info.prefix ? `${info.prefix}:${up}` : up;
    const reg = this.o.registry;
    if (reg.has(id) && reg.get(id).venue === this.parserVenue) return reg.get(id);
    for (const i of reg.all()) if (i.venue === this.parserVenue && i.symbol.toUpperCase() === up) return i;
    return undefined;
  }

  protected symbolOf(instrument: string): string | undefined {
    const s = this.symbolByInst.get(instrument);
    if (s) return s;
    for (const sym of this.symbols) if (this.instrumentId(sym) === instrument) return sym;
    return undefined;
  }

  instruments(): string[] { return this.symbols.map((s) => this.instrumentId(s)); }

  onResync(req: ResyncRequest): boolean {
    const sym = this.symbolOf(req.instrument);
    if (sym === undefined || this.stopped) return false;
    this.gap(req.instrument, 'book', req.reason);
    this.resyncBook(sym, req.reason);
    return true;
  }

  /** Record a gap (opens a completeness record unless one of that kind is open). */
  protected gap(instrument: string, kind: GapKind, reason: string, extra: Partial<GapRecord> = {}): GapRecord {
    const wasOpen = this.completeness.isOpen(instrument, kind);
    const g = this.completeness.open(instrument, kind, reason, extra);
    if (!wasOpen) {
      this.counters.gaps++;
      this.log.warn(`${this.name}: gap on ${instrument} (${kind}): ${reason}`);
      this.emit('gap', { instrument, kind, reason });
    }
    return g;
  }

  /** Parse one frame into events (recorded first). Malformed frames are counted and skipped. */
  protected ingest(frame: unknown, recv: number): void {
    this.o.tap?.(recv, this.parserVenue, frame);
    try {
      this.d.parse(frame, recv, this.contextFor(frame), this.sinkEvent);
    } catch (e) {
      if (e instanceof SinkFailure) throw e.cause;
      if (e instanceof BadRow) { this.malformed(e.message); return; }
      throw e;
    }
  }

  protected contextFor(_frame: unknown): FeedContext { return this.ctx; }

  protected malformed(reason: string): void {
    this.counters.malformed++;
    if (this.counters.malformed <= 5 || this.counters.malformed % 1000 === 0) this.log.warn(`${this.name}: malformed frame skipped (${this.counters.malformed} so far): ${reason}`);
    this.emit('malformed', reason);
  }

  /** JSON.parse a text frame; undefined (counted as malformed, still recorded) when invalid. */
  protected parseText(text: string, recv: number): Record<string, unknown> | undefined {
    try {
      const o = JSON.parse(text) as unknown;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('not a JSON object');
      return o as Record<string, unknown>;
    } catch (e) {
      this.o.tap?.(recv, this.parserVenue, text);
      this.malformed(`invalid JSON: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Hook for venue feeds to adjust book events (Coinbase renumbers sequences). */
  protected transform(_ev: MarketEvent): void {}
  protected onSnapshotEvent(_instrument: string): void {}

  private readonly sinkEvent = (ev: MarketEvent): void => {
    this.counters.events++;
    if (ev.type === 'trade') this.counters.trades++;
    else if (ev.type === 'book_snapshot') {
      this.completeness.close(ev.instrument, 'book', { complete: true });
      this.onSnapshotEvent(ev.instrument);
    }
    if (ev.type !== 'gap') this.completeness.seen(ev.instrument, ev.ts);
    this.transform(ev);
    try {
      this.o.sink(ev);
    } catch (e) {
      throw new SinkFailure(e);
    }
  };

  // ---- trade holding while a backfill runs ----
  protected isHeld(symbol: string): boolean { return this.held.has(symbol); }

  /** trade ids seen per symbol, for venues whose ids are not contiguous (dedup of live vs backfilled trades) */
  private readonly seenIds = new Map<string, BoundedSet<string>>();

  protected seenOf(symbol: string): BoundedSet<string> {
    let s = this.seenIds.get(symbol);
    if (!s) { s = new BoundedSet(50_000); this.seenIds.set(symbol, s); }
    return s;
  }
  protected hold(symbol: string): void { if (!this.held.has(symbol)) this.held.set(symbol, []); }
  protected queueHeld(symbol: string, recv: number, frame: unknown): void { this.held.get(symbol)!.push({ recv, frame }); }
  /** Stop holding and push the queued trade frames through `again` (which may hold again). */
  protected release(symbol: string, again: (frame: unknown, recv: number) => void): void {
    const q = this.held.get(symbol);
    this.held.delete(symbol);
    if (!q) return;
    for (let i = 0; i < q.length; i++) {
      if (this.held.has(symbol)) { for (let j = i; j < q.length; j++) this.queueHeld(symbol, q[j]!.recv, q[j]!.frame); return; }
      again(q[i]!.frame, q[i]!.recv);
    }
  }

  /** Run `fn` until it succeeds, with backoff; gives up after `attempts` (returns undefined) or when stopped. */
  protected async retry<T>(what: string, fn: () => Promise<T>, attempts = Infinity): Promise<T | undefined> {
    const b = new Backoff(this.o.backoff);
    for (let i = 1; !this.stopped; i++) {
      try {
        return await fn();
      } catch (e) {
        if (this.stopped) return undefined;
        const err = e as Error & { retryAfterMs?: number | null };
        if (i >= attempts) { this.log.error(`${this.name}: ${what} failed, giving up after ${i} attempts: ${err.message}`); return undefined; }
        const wait = Math.max(b.next(), err.retryAfterMs ?? 0);
        this.log.warn(`${this.name}: ${what} failed: ${err.message}; retrying in ${(wait / 1000).toFixed(1)} s`);
        try { await delay(wait, this.abort.signal); } catch { return undefined; }
      }
    }
    return undefined;
  }

  status(): FeedStatus {
    const connections = this.conns.map((c) => c.conn.status());
    let state: ConnState = this.stopped ? 'stopped' : 'idle';
    if (connections.length) state = connections.reduce<ConnState>((w, c) => (STATE_RANK[c.state] > STATE_RANK[w] ? c.state : w), 'open');
    const st = connections.find((c) => c.stalledSince !== null);
    const stalled = st ? { since: st.stalledSince!, reason: `no data since ${new Date(st.stalledSince!).toISOString()} (${this.now() - st.stalledSince!} ms) although the connection was open` } : null;
    return { name: this.name, venue: this.venue, state, connections, stalled, counters: { ...this.counters }, instruments: this.instruments(), completeness: this.completeness.report() };
  }

  /** Test/ops hook: drop every connection (they reconnect with backoff). */
  dropConnections(reason = 'dropped'): void {
    for (const c of this.conns) c.conn.drop(reason);
  }
}

/**
 * MT5 bridge server: a TCP listener (127.0.0.1 by default) that the TapeFlow EA dials into, and a
 * feed of the engine like any other. Per connection: challenge → hello (HMAC-SHA256) → welcome gate,
 * fragmentation-safe NDJSON decoding with a line cap, sequence checking (gaps → backfill requests),
 * heartbeats and dead-peer detection. Per terminal ("feed"): exactly-once ticks by
 * (sym, time_msc, ord) across reconnects, a serialized persistence queue (acks only after the sink
 * resolved), broker-time → UTC conversion with the offset in force at receipt, aggressor labels from
 * flags (32 buy, 64 sell, both/neither → left to the engine's ladder), DOM snapshots diffed into book
 * deltas, and backfills kept off the live stream. See mt5-bridge/PROTOCOL.md.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { BookDelta, BookSnapshot, Gap, Level, MarketEvent, Quote, Trade } from '../../engine/src/core/events.js';
import { SESSION_TEMPLATES } from '../../engine/src/core/sessions.js';
import { DecimalScale } from '../../engine/src/core/decimal.js';
import type { Instrument, InstrumentRegistry, InstrumentSpec } from '../../engine/src/core/instruments.js';
import type { Logger } from '../../engine/src/log.js';
import { silentLogger } from '../../engine/src/log.js';
import { LineDecoder } from './line-decoder.js';
import {
  EA_TYPES, PROTO_MAJOR, PROTO_MINOR, SERVER_NAME, TICK_FLAG_ASK, TICK_FLAG_BID, TICK_FLAG_BUY, TICK_FLAG_LAST, TICK_FLAG_SELL,
  cmpCursor, computeMac, encodeLine, newNonce,
  type BfChunkMsg, type BookMsg, type EaHbMsg, type ErrCode, type HelloMsg, type RejectCode, type ServerMsg, type SymMsg, type TicksMsg, type WireCursor, type WireTick,
} from './protocol.js';
import type { BridgeTick, TickCursor, TickSink } from './sink.js';
import { SymbolMapper, type SymbolMapOptions, type SymbolMapping } from './symbols.js';
import { offsetForBrokerMs, resolveDst, switchAt, type DstOption, type DstRule } from './dst.js';
import { RateLimitedLog } from './log-limit.js';

export interface BridgeServerOptions {
  host?: string;
  /** 0 = any free port */
  port?: number;
  /** shared secret for the HMAC handshake */
  secret: string;
  sink: TickSink;
  registry: InstrumentRegistry;
  /**
   * Events for the engine (Engine.onEvent), in time order per symbol: while a backfill that precedes
   * a symbol's live ticks is outstanding (first contact, resume hole, sequence gap) its live events are
   * held; once the backfill is persisted, the backfilled events it lacks go first, then the held ones.
   */
  onEvent?: (ev: MarketEvent) => void;
  /** every backfilled tick's events, after they were persisted (notification; the engine gets them through onEvent) */
  onHistory?: (ev: MarketEvent) => void;
  symbols?: SymbolMapper | SymbolMapOptions;
  /** server-side subscriptions announced in every welcome */
  subs?: { sym: string; book: boolean }[];
  hbMs?: number;
  deadMs?: number;
  helloTimeoutMs?: number;
  /** liveness/heartbeat timer period */
  timerMs?: number;
  maxLine?: number;
  ackMs?: number;
  /** broker UTC offsets that are not a multiple of `offsetStepS`: round them (default) or reject */
  offsetPolicy?: 'round' | 'reject';
  offsetStepS?: number;
  /** a different session id from an already connected terminal: reject DUP_SESSION (default) or accept */
  allowDuplicateTerminals?: boolean;
  /** bf_req `max` */
  backfillMax?: number;
  /** flag pathology warning: minimum flagged trade ticks and one-side share */
  pathologyMinSample?: number;
  pathologyShare?: number;
  /** pause reading a connection while this many ticks wait for the sink */
  maxPendingTicks?: number;
  /**
   * After a (re)connect with a persisted cursor, a first live tick this much later (broker ms) than the
   * cursor means the EA started live instead of resuming (its replay window was exceeded, §7.7.4): the
   * hole is requested with bf_req. Default 60 000; a quiet market only costs an empty backfill.
   */
  resumeHoleMs?: number;
  /**
   * Reply backpressure: when `socket.write` returns false (the EA does not read what the server
   * sends), reading from that connection pauses until 'drain'; meanwhile `err` and `hb` replies are
   * dropped (counted) and acks coalesce into one sent on 'drain'. A connection whose unsent reply bytes
   * exceed `maxReplyBytes`, or that stays undrained for `replyStallMs` (default `deadMs`), is dropped.
   */
  maxReplyBytes?: number;
  replyStallMs?: number;
  logger?: Logger;
  /**
   * Broker DST rule for backfilled history older than the feed's first observed offset (see dst.ts):
   * `auto` (default: US dates when the broker is GMT+2/+3 and agrees with them), `us`, `eu`, `none`.
   */
  dst?: DstOption;
  /** connections that have not authenticated yet; more are closed at once (default 32) */
  maxPreAuth?: number;
  /** line cap before authentication (default 8 KiB): a hello is small */
  preAuthMaxLine?: number;
  /** log lines of one kind per 10 s before they are summarised (default 5) */
  logBurst?: number;
  /** live events held per symbol while its backfill runs (beyond: released, late history goes to the sink only) */
  maxHeldEvents?: number;
  /** longest a symbol's live events are held for its backfill (default 120 s) */
  maxHoldMs?: number;
}

export interface BridgeStats {
  connections: number;
  rejects: Partial<Record<RejectCode, number>>;
  errors: Partial<Record<ErrCode, number>>;
  linesIn: number;
  oversized: number;
  seqGaps: number;
  ticksLive: number;
  ticksHistory: number;
  duplicates: number;
  ambiguousFlags: number;
  unflaggedTrades: number;
  books: number;
  bookGaps: number;
  crossedBooks: number;
  backfillRequests: number;
  backfillsDiscarded: number;
  backfillsIncomplete: number;
  /** reconnects whose first live tick left a hole after the persisted cursor (backfilled) */
  resumeHoles: number;
  sinkErrors: number;
  acks: number;
  pauses: number;
  /** times a reply write returned false (reading paused until 'drain') */
  replyStalls: number;
  /** err/hb replies not sent because the connection's replies were backed up */
  repliesDropped: number;
  /** connections dropped for not reading their replies (maxReplyBytes / replyStallMs) */
  slowReaders: number;
  /** highest unsent reply bytes seen on one connection (socket.writableLength after a write) */
  replyBufferedPeak: number;
  /** connections closed because maxPreAuth unauthenticated ones were open */
  preAuthRefused: number;
  /** ticks/bf_chunk lines rejected whole for a malformed tick */
  batchesRejected: number;
  /** backfills continued after the EA's tick cap (bf_end scanned_to before the window end) */
  backfillContinued: number;
  /** symbols that a second feed also mapped to an instrument: keyed by account instead */
  keyedByAccount: number;
  /** backfilled ticks handed to the engine in time order before the held live ones */
  historyToEngine: number;
  /** backfilled ticks that arrived with no hold open (stored, not handed to the engine) */
  historyLate: number;
  /** backfilled ticks at or after the first live tick of their window (already stored live; not appended again) */
  backfillOverlap: number;
}

interface BookState { gen: number; bs: number; bids: Map<number, number>; asks: Map<number, number> }

/** `live`: the first tick that came live after the window; the EA's range is inclusive of `to`, so ticks at or after it are already stored */
interface BfWindow { from: number; to: number; reason: string; live?: TickCursor }

class SymState {
  mapping: SymbolMapping;
  inst: Instrument | null = null;
  spec: SymMsg | null = null;
  /** highest (ms, ord) published to the engine */
  engMs = -Infinity; engOrd = -1;
  /** highest (ms, ord) queued for the store */
  stoMs = -Infinity; stoOrd = -1;
  /** last durable cursor */
  durable: TickCursor | null = null;
  durableLoaded = false;
  gapFrom: TickCursor | null = null;
  /** the persisted cursor announced in this connection's welcome, until its first live tick arrives */
  resumeFrom: TickCursor | null = null;
  /** cursor was null at hello (first contact): request `bf_days` of history before the first live tick */
  wantInitialBackfill = false;
  outstanding: { id: number; win: BfWindow } | null = null;
  queue: BfWindow[] = [];
  book: BookState | null = null;
  bookGen = 0;
  flagBuy = 0; flagSell = 0; pathologyWarned = false;
  lastUtc = 0;
  /** the EA reported its cursor after this welcome (exact resume check; the first-tick heuristic is off) */
  cursorSeen = false;
  /** live events held until the backfill before them is in: history in (prev, first) goes first */
  hold: { prevMs: number; prevOrd: number; firstMs: number; firstOrd: number; since: number; events: MarketEvent[]; hist: Converted[] } | null = null;
  constructor(readonly sym: string, mapper: SymbolMapper) { this.mapping = mapper.map(sym); }
}

interface PersistBatch { ticks: BridgeTick[]; conn: Conn | null; seqHi: number; history: boolean; items?: Converted[]; sym?: string }

class FeedState {
  conn: Conn | null = null;
  sid = '';
  readonly syms = new Map<string, SymState>();
  readonly queue: PersistBatch[] = [];
  queuedTicks = 0;
  inflight = false;
  bfDays = 0;
  /** broker-time offset history: from broker ms `at` on, offset `off` seconds (persisted by the sink) */
  offsets: { at: number; off: number }[] = [];
  offsetsLoaded = false;
  /** highest broker ms of a live tick (checks that an hb's srv_ms is on the tick clock) */
  lastLiveMs = -Infinity;
  dst: DstRule = 'none';
  /** trade server name (labels instruments keyed by account) */
  server = '';
  constructor(readonly key: string) {}
}

interface BackfillAcc { id: number; sym: string; ticks: BridgeTick[]; items: Converted[]; bad?: boolean }

interface Converted { bt: BridgeTick; events: MarketEvent[]; cls: 'flag' | 'ambiguous' | 'unflagged' | 'none' }

class Conn {
  state: 'challenge' | 'auth' | 'ready' | 'closed' = 'challenge';
  readonly nonce = newNonce();
  readonly decoder: LineDecoder;
  feed: FeedState | null = null;
  sid = '';
  connNo = 0;
  expectedSeq = 1;
  receivedSeq = 0;
  persistedSeq = 0;
  /** seq covered by batches handed to the feed queue */
  queuedSeq = 0;
  utcOff = 0;
  lastRecv = Date.now();
  lastHbSent = Date.now();
  lastAck = 0;
  ackTimer: NodeJS.Timeout | null = null;
  helloTimer: NodeJS.Timeout | null = null;
  pending: BridgeTick[] = [];
  early: string[] = [];
  readonly backfills = new Map<number, BackfillAcc>();
  /** reading paused because the feed's persistence queue is full */
  paused = false;
  /** a reply write returned false; waiting for 'drain' since `writeBlockedAt` */
  writeBlocked = false;
  writeBlockedAt = 0;
  /** an ack came due while blocked: send one on 'drain' */
  ackDue = false;
  /** socket.pause() in force (either reason) */
  readPaused = false;
  /** the EA announced a call that may block (history sync): no dead-peer drop before this time */
  busyUntil = 0;
  constructor(readonly socket: Socket, maxLine: number, handlers: ConstructorParameters<typeof LineDecoder>[1]) {
    this.decoder = new LineDecoder(maxLine, handlers);
  }
}

export class BridgeServer extends EventEmitter {
  readonly stats: BridgeStats = {
    connections: 0, rejects: {}, errors: {}, linesIn: 0, oversized: 0, seqGaps: 0, ticksLive: 0, ticksHistory: 0, duplicates: 0,
    ambiguousFlags: 0, unflaggedTrades: 0, books: 0, bookGaps: 0, crossedBooks: 0, backfillRequests: 0, backfillsDiscarded: 0,
    backfillsIncomplete: 0, resumeHoles: 0, sinkErrors: 0, acks: 0, pauses: 0, replyStalls: 0, repliesDropped: 0, slowReaders: 0, replyBufferedPeak: 0,
    preAuthRefused: 0, batchesRejected: 0, backfillContinued: 0, keyedByAccount: 0, historyToEngine: 0, historyLate: 0, backfillOverlap: 0,
  };
  /** instrument id → feed that streams it (a second feed is keyed by account) */
  private readonly owners = new Map<string, string>();
  readonly feeds = new Map<string, FeedState>();
  private readonly conns = new Set<Conn>();
  private server: Server | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly mapper: SymbolMapper;
  private readonly log: Logger;
  private readonly o: Required<Omit<BridgeServerOptions, 'onEvent' | 'onHistory' | 'symbols' | 'logger' | 'subs'>> & { subs: { sym: string; book: boolean }[] };
  private readonly rl: RateLimitedLog;
  private readonly emitLive: (ev: MarketEvent) => void;
  private readonly emitHistory: (ev: MarketEvent) => void;
  private bfId = 0;
  private closing = false;

  constructor(opts: BridgeServerOptions) {
    super();
    this.o = {
      host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, secret: opts.secret, sink: opts.sink, registry: opts.registry,
      hbMs: opts.hbMs ?? 1000, deadMs: opts.deadMs ?? 5000, helloTimeoutMs: opts.helloTimeoutMs ?? 2000,
      timerMs: opts.timerMs ?? 100, maxLine: opts.maxLine ?? 1 << 20, ackMs: opts.ackMs ?? 250,
      offsetPolicy: opts.offsetPolicy ?? 'round', offsetStepS: opts.offsetStepS ?? 900,
      allowDuplicateTerminals: opts.allowDuplicateTerminals ?? false, backfillMax: opts.backfillMax ?? 50_000,
      pathologyMinSample: opts.pathologyMinSample ?? 1000, pathologyShare: opts.pathologyShare ?? 0.98,
      maxPendingTicks: opts.maxPendingTicks ?? 200_000, resumeHoleMs: opts.resumeHoleMs ?? 60_000, subs: opts.subs ?? [],
      maxReplyBytes: opts.maxReplyBytes ?? 1 << 20, replyStallMs: opts.replyStallMs ?? opts.deadMs ?? 5000,
      maxHeldEvents: opts.maxHeldEvents ?? 500_000, maxHoldMs: opts.maxHoldMs ?? 120_000,
      dst: opts.dst ?? 'auto', maxPreAuth: opts.maxPreAuth ?? 32, preAuthMaxLine: opts.preAuthMaxLine ?? 8192, logBurst: opts.logBurst ?? 5,
    };
    if (!this.o.secret) throw new Error('mt5 bridge: a shared secret is required');
    this.mapper = opts.symbols instanceof SymbolMapper ? opts.symbols : new SymbolMapper(opts.symbols);
    this.log = opts.logger ?? silentLogger;
    this.rl = new RateLimitedLog(this.log, this.o.logBurst, 10_000);
    this.emitLive = opts.onEvent ?? (() => {});
    this.emitHistory = opts.onHistory ?? (() => {});
  }

  /** Start listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const srv = createServer({ noDelay: true, keepAlive: true }, (s) => this.accept(s));
      srv.once('error', reject);
      srv.listen(this.o.port, this.o.host, () => {
        this.server = srv;
        this.timer = setInterval(() => this.onTimer(), this.o.timerMs);
        const a = srv.address();
        resolve(typeof a === 'object' && a ? a.port : this.o.port);
      });
    });
  }

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** Authenticated connections. */
  get connected(): number {
    let n = 0;
    for (const c of this.conns) if (c.state === 'ready') n++;
    return n;
  }

  /** Bytes buffered by the line decoders (memory bound check). */
  bufferedBytes(): number {
    let n = 0;
    for (const c of this.conns) n += c.decoder.buffered;
    return n;
  }

  /** Reply bytes written by the server but not yet taken by the kernel, over all connections. */
  replyBytesBuffered(): number {
    let n = 0;
    for (const c of this.conns) n += c.socket.writableLength;
    return n;
  }

  /** Stop listening and close every connection; waits up to `drainMs` for queued persistence. */
  async close(drainMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const c of [...this.conns]) this.kill(c, 'SHUTDOWN', 'server shutting down');
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
    // let queued persistence finish so acks/cursors are final
    const until = Date.now() + drainMs;
    for (const f of this.feeds.values()) while ((f.inflight || f.queue.length) && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
  }

  /**
   * Ask a connected terminal to stream one more symbol (`sub`); its history is backfilled like a first
   * contact (or from its persisted cursor). False when the feed is not connected.
   */
  async subscribe(feed: string, sym: string, book = false): Promise<boolean> {
    const f = this.feeds.get(feed);
    const c = f?.conn;
    if (!f || !c || c.state !== 'ready') return false;
    const s = this.symState(f, sym);
    if (!s.durableLoaded) {
      s.durable = await this.o.sink.cursor(f.key, sym);
      s.durableLoaded = true;
      if (s.durable) { s.stoMs = s.engMs = s.durable.ms; s.stoOrd = s.engOrd = s.durable.ord; }
    }
    s.wantInitialBackfill = !s.durable && f.bfDays > 0;
    s.resumeFrom = s.durable ? { ...s.durable } : null;
    s.cursorSeen = false;
    if (c.state !== 'ready') return false;
    this.send(c, { t: 'sub', sym, book });
    return true;
  }

  /** Ask a connected terminal to stop streaming a symbol (`unsub`). */
  unsubscribe(feed: string, sym: string): boolean {
    const c = this.feeds.get(feed)?.conn;
    if (!c || c.state !== 'ready') return false;
    this.send(c, { t: 'unsub', sym });
    return true;
  }

  /** True while an instrument's live events wait for the backfill before them. */
  holding(instrument: string): boolean {
    for (const f of this.feeds.values()) for (const s of f.syms.values()) if (s.hold && s.inst?.id === instrument) return true;
    return false;
  }

  /** Instrument id a broker symbol of a feed resolved to (after its first message). */
  instrumentOf(feed: string, sym: string): string | undefined {
    return this.feeds.get(feed)?.syms.get(sym)?.inst?.id;
  }

  // ------------------------------------------------------------------------------------ connection

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    let preAuth = 0;
    for (const x of this.conns) if (x.state === 'challenge' || x.state === 'auth') preAuth++;
    if (preAuth >= this.o.maxPreAuth) {
      // before authentication nobody gets memory or a timer beyond this cap
      this.stats.preAuthRefused++;
      this.rl.warn('preauth', 'mt5 bridge: too many unauthenticated connections; refusing', { open: preAuth, max: this.o.maxPreAuth });
      socket.on('error', () => {});
      socket.end(encodeLine({ t: 'reject', code: 'BUSY', msg: `${preAuth} connections are still authenticating (max ${this.o.maxPreAuth})` }));
      setTimeout(() => socket.destroy(), 50).unref();
      return;
    }
    const c: Conn = new Conn(socket, Math.min(this.o.preAuthMaxLine, this.o.maxLine), {
      line: (text) => this.onLine(c, text),
      badUtf8: (n) => { this.countErr('BAD_UTF8'); this.send(c, { t: 'err', code: 'BAD_UTF8', msg: `line of ${n} bytes is not valid UTF-8` }); },
      overflow: (n) => { this.stats.oversized++; this.reject(c, 'LINE_TOO_LONG', `line exceeds ${c.decoder.maxLine} bytes${c.state === 'challenge' ? ' before authentication' : ''} (${n} buffered)`); },
    });
    this.conns.add(c);
    this.stats.connections++;
    socket.on('data', (chunk: Buffer) => {
      if (c.state === 'closed') return;
      c.lastRecv = Date.now();
      c.decoder.push(chunk);
      if (c.state === 'ready') this.flush(c);
    });
    socket.on('error', () => {});
    socket.on('drain', () => this.onDrain(c));
    socket.on('close', () => this.onClosed(c, 'socket closed'));
    this.send(c, { t: 'challenge', proto: [PROTO_MAJOR, PROTO_MINOR], nonce: c.nonce, srv: SERVER_NAME });
    c.helloTimer = setTimeout(() => { if (c.state === 'challenge') this.reject(c, 'HELLO_TIMEOUT', `no hello within ${this.o.helloTimeoutMs} ms`); }, this.o.helloTimeoutMs);
  }

  /**
   * Write one reply. While earlier replies wait for 'drain', advisory ones (err, hb) are dropped and
   * acks (cumulative) are deferred to 'drain'; the rest (challenge, welcome, reject, bf_req: a few per
   * connection) are still queued. So the unsent bytes of a connection stay below the socket's
   * highWaterMark plus a handful of messages however fast the EA sends without reading.
   */
  private send(c: Conn, msg: ServerMsg): void {
    if (c.state === 'closed' || c.socket.destroyed) return;
    if (c.writeBlocked) {
      if (msg.t === 'err' || msg.t === 'hb') { this.stats.repliesDropped++; return; }
      if (msg.t === 'ack') { c.ackDue = true; return; }
    }
    const ok = c.socket.write(encodeLine(msg));
    const buffered = c.socket.writableLength;
    if (buffered > this.stats.replyBufferedPeak) this.stats.replyBufferedPeak = buffered;
    if (!ok && !c.writeBlocked) {
      c.writeBlocked = true;
      c.writeBlockedAt = Date.now();
      this.stats.replyStalls++;
      this.log.warn('mt5 bridge: the EA is not reading replies; pausing its input until they drain', { feed: c.feed?.key, buffered });
      this.updateReading(c);
    }
    if (buffered > this.o.maxReplyBytes) this.slowReader(c, `${buffered} reply bytes unsent (max ${this.o.maxReplyBytes})`);
  }

  private onDrain(c: Conn): void {
    if (!c.writeBlocked) return;
    c.writeBlocked = false;
    c.lastRecv = Date.now(); // the EA just took our bytes: it is alive, and its input was paused on purpose
    this.updateReading(c);
    if (c.ackDue) { c.ackDue = false; this.scheduleAck(c); }
  }

  /** Pause the socket while the sink queue is full or replies are backed up; resume when neither holds. */
  private updateReading(c: Conn): void {
    if (c.state === 'closed') return;
    const want = c.paused || c.writeBlocked;
    if (want && !c.readPaused) { c.readPaused = true; c.socket.pause(); }
    else if (!want && c.readPaused) { c.readPaused = false; c.socket.resume(); }
  }

  private slowReader(c: Conn, why: string): void {
    if (c.state === 'closed') return;
    this.stats.slowReaders++;
    this.log.warn('mt5 bridge: dropping a connection that does not read its replies', { feed: c.feed?.key, why });
    this.emit('slow_reader', { feed: c.feed?.key, why });
    this.kill(c, 'SLOW_READER', why);
  }

  private reject(c: Conn, code: RejectCode, msg: string): void {
    if (c.state === 'closed') return;
    this.stats.rejects[code] = (this.stats.rejects[code] ?? 0) + 1;
    this.rl.warn(`reject:${code}`, 'mt5 bridge reject', { code, msg, feed: c.feed?.key });
    this.emit('reject', { code, msg, feed: c.feed?.key });
    this.send(c, { t: 'reject', code, msg });
    this.kill(c, code, msg);
  }

  private kill(c: Conn, code: RejectCode | string, msg: string): void {
    if (c.state === 'closed') return;
    if (code !== 'SHUTDOWN' && code !== 'DEAD' && code !== 'SLOW_READER' && !c.socket.destroyed) c.socket.end();
    else c.socket.destroy();
    // end() flushes the reject; make sure the socket is gone shortly after even if the peer never reads
    setTimeout(() => c.socket.destroy(), 50).unref();
    this.onClosed(c, `${code}: ${msg}`);
  }

  private onClosed(c: Conn, reason: string): void {
    const wasReady = c.state === 'ready' || c.state === 'auth';
    if (c.state === 'closed') return;
    c.state = 'closed';
    if (c.helloTimer) clearTimeout(c.helloTimer);
    if (c.ackTimer) clearTimeout(c.ackTimer);
    this.conns.delete(c);
    const f = c.feed;
    if (f) {
      // ticks received but not yet handed to the queue still go to the store (they were published)
      if (c.pending.length) this.enqueue(f, { ticks: c.pending, conn: null, seqHi: c.receivedSeq, history: false });
      c.pending = [];
      for (const acc of c.backfills.values()) {
        this.stats.backfillsDiscarded++;
        this.log.info('mt5 bridge: backfill cut off, discarded', { feed: f.key, sym: acc.sym, id: acc.id, ticks: acc.ticks.length });
      }
      c.backfills.clear();
      for (const s of f.syms.values()) {
        if (s.outstanding) { s.queue.unshift(s.outstanding.win); s.outstanding = null; }
        s.book = null; // DOM has no history: the next image starts a new generation
      }
      if (f.conn === c) f.conn = null;
    }
    if (wasReady) {
      this.rl.info(`disc:${f?.key}`, 'mt5 bridge: disconnected', { feed: f?.key, sid: c.sid, reason });
      this.emit('disconnected', { feed: f?.key, sid: c.sid, conn: c.connNo, reason });
    }
  }

  private onTimer(): void {
    const now = Date.now();
    for (const f of this.feeds.values()) for (const s of f.syms.values()) {
      if (s.hold && now - s.hold.since > this.o.maxHoldMs) this.releaseHold(f, s, `held ${now - s.hold.since} ms`);
    }
    for (const c of [...this.conns]) {
      if (c.writeBlocked) {
        // input is paused on purpose (lastRecv cannot advance): the stall bound applies instead of dead_ms
        if (now - c.writeBlockedAt > this.o.replyStallMs) this.slowReader(c, `replies undrained for ${now - c.writeBlockedAt} ms`);
        continue;
      }
      if (c.state !== 'ready') continue;
      if (now - c.lastRecv > this.o.deadMs && now > c.busyUntil) { this.reject(c, 'DEAD', `silent for ${now - c.lastRecv} ms`); continue; }
      if (now - c.lastHbSent >= this.o.hbMs) { c.lastHbSent = now; this.send(c, { t: 'hb', now_ms: now }); }
    }
  }

  // ----------------------------------------------------------------------------------- messages

  private countErr(code: ErrCode): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
  }

  private err(c: Conn, code: ErrCode, msg: string, s?: number): void {
    this.countErr(code);
    this.send(c, s === undefined ? { t: 'err', code, msg } : { t: 'err', code, msg, s });
  }

  private onLine(c: Conn, text: string): void {
    this.stats.linesIn++;
    if (c.state === 'closed') return;
    if (c.state === 'auth') { c.early.push(text); return; }
    let m: unknown;
    try { m = JSON.parse(text); } catch {
      if (c.state === 'challenge') return this.reject(c, 'HELLO_REQUIRED', 'first line must be a hello');
      return this.err(c, 'BAD_JSON', 'line is not JSON');
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      if (c.state === 'challenge') return this.reject(c, 'HELLO_REQUIRED', 'first line must be a hello');
      return this.err(c, 'BAD_MESSAGE', 'line is not a JSON object');
    }
    const msg = m as Record<string, unknown>;
    if (c.state === 'challenge') { this.onHello(c, msg); return; }
    this.dispatch(c, msg);
  }

  private dispatch(c: Conn, msg: Record<string, unknown>): void {
    const t = msg.t;
    if (typeof t !== 'string' || !EA_TYPES.has(t) || t === 'hello') return this.err(c, 'UNKNOWN_TYPE', `unknown message type ${JSON.stringify(t)}`, typeof msg.s === 'number' ? msg.s : undefined);
    const s = msg.s;
    if (typeof s !== 'number' || !Number.isInteger(s)) return this.err(c, 'BAD_SEQ', 'message without an integer s');
    if (s !== c.expectedSeq) {
      if (s > c.expectedSeq) this.onSeqGap(c, c.expectedSeq, s);
      else { this.err(c, 'BAD_SEQ', `s ${s} repeats or goes back (expected ${c.expectedSeq})`, s); return; }
    }
    c.expectedSeq = s + 1;
    c.receivedSeq = s;
    c.busyUntil = 0; // a busy announcement lasts until the EA speaks again
    const f = c.feed!;
    try {
      switch (t) {
        case 'ticks': this.onTicks(c, f, msg as unknown as TicksMsg); break;
        case 'sym': this.onSym(f, msg as unknown as SymMsg); break;
        case 'hb': this.onHb(c, f, msg as unknown as EaHbMsg); break;
        case 'book': this.onBook(c, f, msg as unknown as BookMsg); break;
        case 'bf_begin': this.onBfBegin(c, f, msg); break;
        case 'bf_chunk': this.onBfChunk(c, f, msg as unknown as BfChunkMsg); break;
        case 'bf_end': this.onBfEnd(c, f, msg); break;
        case 'log': case 'err': this.log.info('mt5 EA says', { feed: f.key, t, msg: msg.msg, code: msg.code }); this.emit('ea_log', { feed: f.key, t, msg: msg.msg, code: msg.code }); break;
        case 'bye': this.log.info('mt5 EA bye', { feed: f.key, reason: msg.reason }); break;
      }
    } catch (e) {
      this.err(c, 'BAD_MESSAGE', (e as Error).message, s);
    }
  }

  private onHello(c: Conn, m: Record<string, unknown>): void {
    if (m.t !== 'hello') return this.reject(c, 'HELLO_REQUIRED', `expected hello, got ${JSON.stringify(m.t)}`);
    const h = m as unknown as HelloMsg;
    const major = Array.isArray(h.proto) ? h.proto[0] : h.proto;
    if (major !== PROTO_MAJOR) return this.reject(c, 'PROTO', `protocol ${JSON.stringify(h.proto)} not supported (major ${PROTO_MAJOR})`);
    if (typeof h.sid !== 'string' || !h.sid || !Number.isInteger(h.conn) || typeof h.term !== 'object' || h.term === null
      || typeof h.utc_off !== 'number' || typeof h.mac !== 'string' || typeof h.s !== 'number') return this.reject(c, 'BAD_HELLO', 'hello lacks sid, conn, term, utc_off, s or mac');
    const want = Buffer.from(computeMac(this.o.secret, c.nonce, h.sid, h.conn, PROTO_MAJOR), 'utf8');
    const got = Buffer.from(h.mac.toLowerCase(), 'utf8');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return this.reject(c, 'BAD_MAC', 'MAC does not match (check the shared secret)');
    const off = this.normOffset(h.utc_off);
    if (off === null) return this.reject(c, 'BAD_OFFSET', `utc_off ${h.utc_off} is not a multiple of ${this.o.offsetStepS} s`);
    const key = `${h.term.company ?? ''}|${h.term.server ?? ''}|${h.term.login_h ?? h.term.name ?? ''}`;
    let f = this.feeds.get(key);
    if (!f) { f = new FeedState(key); this.feeds.set(key, f); }
    if (f.conn && f.conn.state !== 'closed') {
      if (f.conn.sid === h.sid || this.o.allowDuplicateTerminals) this.reject(f.conn, 'REPLACED', 'replaced by a newer connection of the same session');
      else return this.reject(c, 'DUP_SESSION', `terminal ${key} is already connected with another session`);
    }
    if (c.helloTimer) clearTimeout(c.helloTimer);
    c.state = 'auth';
    c.feed = f;
    c.sid = h.sid;
    c.connNo = h.conn;
    c.utcOff = off;
    c.expectedSeq = h.s + 1;
    c.receivedSeq = c.persistedSeq = c.queuedSeq = h.s;
    f.conn = c;
    f.sid = h.sid;
    f.bfDays = typeof h.bf_days === 'number' && h.bf_days > 0 ? h.bf_days : 0;
    f.server = String(h.term.server ?? '');
    // the hello carries no broker time: the offset table gets its row from the first hb (srv_ms)
    f.dst = resolveDst(this.o.dst, off, Date.now());
    const names = new Set<string>([...(Array.isArray(h.syms) ? h.syms.filter((x) => typeof x === 'string') : []), ...this.o.subs.map((x) => x.sym), ...f.syms.keys()]);
    void this.welcome(c, f, [...names]).catch((e) => this.reject(c, 'SHUTDOWN', `store error: ${(e as Error).message}`));
  }

  private async welcome(c: Conn, f: FeedState, names: string[]): Promise<void> {
    if (!f.offsetsLoaded) {
      f.offsetsLoaded = true;
      const rows = (await this.o.sink.offsets?.(f.key)) ?? [];
      f.offsets = [...rows, ...f.offsets].sort((a, b) => a.at - b.at);
    }
    const subs = [];
    for (const n of names) {
      const s = this.symState(f, n);
      if (!s.durableLoaded) {
        s.durable = await this.o.sink.cursor(f.key, n);
        s.durableLoaded = true;
        if (s.durable) {
          if (cmpCursor(s.durable.ms, s.durable.ord, s.stoMs, s.stoOrd) > 0) { s.stoMs = s.durable.ms; s.stoOrd = s.durable.ord; }
          if (cmpCursor(s.durable.ms, s.durable.ord, s.engMs, s.engOrd) > 0) { s.engMs = s.durable.ms; s.engOrd = s.durable.ord; }
        } else s.wantInitialBackfill = f.bfDays > 0;
      }
      const book = this.o.subs.find((x) => x.sym === n)?.book ?? false;
      s.resumeFrom = s.durable ? { ...s.durable } : null;
      s.cursorSeen = false;
      subs.push({ sym: n, book, from: s.durable ? [s.durable.ms, s.durable.ord] as WireCursor : null });
    }
    if (c.state !== 'auth') return;
    c.state = 'ready';
    c.decoder.maxLine = this.o.maxLine;
    this.send(c, { t: 'welcome', hb_ms: this.o.hbMs, dead_ms: this.o.deadMs, max_line: this.o.maxLine, subs });
    this.log.info('mt5 bridge: connected', { feed: f.key, sid: c.sid, conn: c.connNo, utcOff: c.utcOff, subs: subs.length });
    this.emit('connected', { feed: f.key, sid: c.sid, conn: c.connNo });
    // backfills cut off by the previous connection are re-requested now
    for (const s of f.syms.values()) this.pumpBackfill(f, s);
    const early = c.early;
    c.early = [];
    for (const line of early) this.onLine(c, line);
    this.flush(c);
  }

  private symState(f: FeedState, sym: string): SymState {
    let s = f.syms.get(sym);
    if (!s) {
      s = new SymState(sym, this.mapper);
      f.syms.set(sym, s);
      if (s.mapping.how !== 'none') this.log.info('mt5 bridge: symbol mapped', { feed: f.key, broker: sym, canonical: s.mapping.canonical, how: s.mapping.how });
    }
    return s;
  }

  private normOffset(off: number): number | null {
    if (!Number.isFinite(off)) return null;
    const step = this.o.offsetStepS;
    const r = Math.round(off / step) * step;
    if (r !== off && this.o.offsetPolicy === 'reject') return null;
    return r;
  }

  private noteOffset(f: FeedState, off: number, atBrokerMs: number, prev?: number): void {
    const last = f.offsets[f.offsets.length - 1];
    if (last && (last.off === off || atBrokerMs < last.at)) return;
    // a change is announced on the EA's next pass: place it at the rule's switch instant when that explains it
    if (last) atBrokerMs = Math.max(last.at + 1, switchAt(f.dst, prev ?? last.off, off, atBrokerMs));
    f.offsets.push({ at: atBrokerMs, off });
    this.o.sink.saveOffset?.(f.key, atBrokerMs, off).catch((e) => this.log.warn('mt5 bridge: could not persist a broker offset', { feed: f.key, err: (e as Error).message }));
  }

  /** Offset for a historical broker time: the observed table, and the DST rule before its first row (dst.ts). */
  private offsetAt(f: FeedState, c: Conn, ms: number): number {
    return offsetForBrokerMs(f.offsets, f.dst, ms, c.utcOff);
  }

  private onHb(c: Conn, f: FeedState, m: EaHbMsg): void {
    const busy = (m as { busy_ms?: unknown }).busy_ms;
    // the EA is about to call something that may block on history sync (CopyTicks* wait up to 45 s)
    if (typeof busy === 'number' && busy > 0) c.busyUntil = Date.now() + Math.min(busy, 120_000);
    if (m.cursors && typeof m.cursors === 'object') this.onEaCursors(c, f, m.cursors);
    if (typeof m.utc_off !== 'number') return;
    const off = this.normOffset(m.utc_off);
    if (off === null) return this.err(c, 'BAD_OFFSET', `utc_off ${m.utc_off} is not a multiple of ${this.o.offsetStepS} s; keeping ${c.utcOff}`, m.s);
    if (off !== c.utcOff) {
      const prev = c.utcOff;
      c.utcOff = off;
      // where the change took effect on the tick clock: the EA's srv_ms when it agrees with the ticks
      // (within two hours of the last live tick), else just after the last live tick
      const srv = typeof m.srv_ms === 'number' ? m.srv_ms : NaN;
      const trusted = Number.isFinite(srv) && (f.lastLiveMs === -Infinity || Math.abs(srv - f.lastLiveMs) < 7_200_000); // a switch itself moves srv_ms by 1 h
      if (f.offsets.length) this.noteOffset(f, off, trusted ? srv : Number.isFinite(f.lastLiveMs) ? f.lastLiveMs + 1 : Date.now() + off * 1000, prev);
      this.log.info('mt5 bridge: broker UTC offset changed', { feed: f.key, from: prev, to: off });
      this.emit('offset', { feed: f.key, from: prev, to: off });
    }
  }

  // ---------------------------------------------------------------------------------- instruments

  private onSym(f: FeedState, m: SymMsg): void {
    if (typeof m.sym !== 'string') throw new Error('sym without a name');
    const s = this.symState(f, m.sym);
    s.spec = m;
    if (!s.inst) this.resolve(f, s, null);
    this.emit('symbol', { feed: f.key, sym: m.sym, instrument: s.inst!.id, canonical: s.mapping.canonical, how: s.mapping.how, tape: m.tape });
  }

  private resolve(f: FeedState, s: SymState, sample: WireTick | null): Instrument {
    if (s.inst) return s.inst;
    const reg = this.o.registry;
    const spec = s.spec;
    let inst = reg.find(s.mapping.canonical);
    let id: string | null = null;
    let why = '';
    if (inst && s.mapping.how === 'none' && inst.venue !== 'mt5' && inst.venue !== 'cfd') inst = undefined;
    if (inst && spec?.tick_size && Number(spec.tick_size) > 0) {
      // the broker's announced tick size wins: a built-in on a coarser grid would round every quote
      const before = inst.price.offGrid;
      const steps = inst.price.parse(String(spec.tick_size));
      if (inst.price.offGrid !== before || !(steps > 0)) {
        why = `${s.sym} quotes in steps of ${spec.tick_size}, finer than ${inst.id}'s ${inst.tickSize}`;
        id = reg.has(s.sym) ? `MT5:${s.sym}` : s.sym;
        inst = undefined;
      }
    }
    if (inst) {
      const owner = this.owners.get(inst.id);
      if (owner !== undefined && owner !== f.key) {
        // two brokers' quotes must never interleave in one instrument: the second one is keyed by account
        this.stats.keyedByAccount++;
        why = `${inst.id} is already fed by ${owner}`;
        id = `${inst.id}@${f.server || f.key}`;
        inst = reg.has(id) ? reg.get(id) : undefined;
      }
    }
    if (!inst) {
      const dec = (v: unknown): number => { const t = String(v); const i = t.indexOf('.'); return i < 0 ? 0 : t.length - i - 1; };
      const step = (d: number): string => (d <= 0 ? '1' : '0.' + '0'.repeat(d - 1) + '1');
      const tick = spec?.tick_size && Number(spec.tick_size) > 0 ? spec.tick_size : spec?.point ?? step(sample ? Math.max(dec(sample[2]), dec(sample[3]), dec(sample[4])) : 2);
      const lot = (spec as { vol_step?: string } | null)?.vol_step ?? '0.01';
      id ??= reg.has(s.sym) && reg.get(s.sym).venue !== 'mt5' ? `MT5:${s.sym}` : s.sym;
      const newSpec: InstrumentSpec = {
        id, symbol: s.sym, venue: 'mt5', assetClass: /^[A-Z]{6}$/.test(s.mapping.canonical) ? 'forex' : 'index',
        description: `${s.sym} (MT5 broker symbol${spec?.desc ? `: ${spec.desc}` : ''}${f.server ? `, ${f.server}` : ''})`,
        tickSize: tick, lotStep: lot, profileRow: new DecimalScale(tick).format(10),
        contractSize: spec?.contract ? Number(spec.contract) || 1 : 1, session: SESSION_TEMPLATES.crypto_24x7,
        thresholds: { absorptionMinVolume: 0, initiativeMinDelta: 0 },
        flow: spec?.tape === 'trades' ? 'orderflow' : 'quote-activity',
      };
      inst = reg.has(id) ? reg.get(id) : reg.add(newSpec);
      if (why) {
        this.log.warn(`mt5 bridge: ${why}; streaming it as ${id}`, { feed: f.key, sym: s.sym, instrument: id });
        this.emit('symbol_keyed', { feed: f.key, sym: s.sym, instrument: id, why });
      }
    }
    if (!this.owners.has(inst.id)) this.owners.set(inst.id, f.key);
    s.inst = inst;
    return inst;
  }

  // ---------------------------------------------------------------------------------------- ticks

  private px(inst: Instrument, v: unknown): number {
    if (v === 0 || v === '0' || v === '' || v === null || v === undefined) return NaN;
    const x = inst.price.parse(typeof v === 'string' ? v : String(v));
    if (x !== x) throw new Error(`bad price ${JSON.stringify(v)}`);
    return x === 0 ? NaN : x;
  }

  /**
   * Convert one wire tick without side effects: the tick, the engine events it makes, and its flag
   * class; or the reason it is malformed. A batch is applied only when every tick converted.
   */
  private convertTick(c: Conn, f: FeedState, s: SymState, inst: Instrument, w: WireTick, live: boolean): Converted | string {
    if (!Array.isArray(w) || w.length < 7) return 'not a [ms, ord, bid, ask, last, vol, flags] array';
    const ms = w[0], ord = w[1], flags = w[6];
    if (!Number.isInteger(ms) || !Number.isInteger(ord) || ord < 0 || !Number.isInteger(flags)) return 'ms, ord and flags must be integers (ord >= 0)';
    let bid: number, ask: number, last: number;
    try { bid = this.px(inst, w[2]); ask = this.px(inst, w[3]); last = this.px(inst, w[4]); } catch (e) { return (e as Error).message; }
    const vRaw = w[5];
    const vol = vRaw === 0 || vRaw === '0' ? 0 : inst.qty.parse(typeof vRaw === 'string' ? vRaw : String(vRaw));
    if (!(vol >= 0)) return `bad volume ${JSON.stringify(vRaw)}`;
    // live: the offset in force now, except for a tick stamped before the last observed change (it was
    // still queued in the EA when a DST switch was announced); history: its own time's offset
    const lastRow = f.offsets[f.offsets.length - 1];
    const off = live && (!lastRow || ms >= lastRow.at) ? c.utcOff : this.offsetAt(f, c, ms);
    const utcMs = ms - off * 1000;
    const isTrade = last === last && vol > 0 && ((flags & TICK_FLAG_LAST) !== 0 || (flags & (TICK_FLAG_BID | TICK_FLAG_ASK)) === 0);
    const isQuote = (flags & (TICK_FLAG_BID | TICK_FLAG_ASK)) !== 0 || (!isTrade && (bid === bid || ask === ask));
    let side: Trade['side'] = 'unknown';
    let sideSource: Trade['sideSource'] = 'none';
    let cls: Converted['cls'] = 'none';
    if (isTrade) {
      const quotesOnly = s.spec !== null && s.spec.tape === 'quotes';
      const fs = flags & (TICK_FLAG_BUY | TICK_FLAG_SELL);
      if (!quotesOnly && fs === TICK_FLAG_BUY) { side = 'buy'; sideSource = 'flag'; cls = 'flag'; }
      else if (!quotesOnly && fs === TICK_FLAG_SELL) { side = 'sell'; sideSource = 'flag'; cls = 'flag'; }
      else if (fs === (TICK_FLAG_BUY | TICK_FLAG_SELL)) cls = 'ambiguous';
      else cls = 'unflagged';
    }
    const events: MarketEvent[] = [];
    if (isQuote) events.push({ type: 'quote', instrument: inst.id, ts: utcMs, bid, ask, bidSize: 0, askSize: 0 });
    if (isTrade) events.push({ type: 'trade', instrument: inst.id, ts: utcMs, id: 0, price: last, size: vol, side, sideSource });
    const bt: BridgeTick = { feed: f.key, sym: s.sym, instrument: inst.id, ms, ord, utcMs, bid, ask, last, vol, flags, side, sideSource, live };
    return { bt, events, cls };
  }

  /** Count a converted tick's flag class (once, when it is accepted). */
  private countTick(f: FeedState, s: SymState, t: Converted, live: boolean): void {
    if (t.cls === 'ambiguous') this.stats.ambiguousFlags++;
    else if (t.cls === 'unflagged') this.stats.unflaggedTrades++;
    else if (t.cls === 'flag' && live) this.checkFlags(f, s, t.bt.side === 'buy');
    s.lastUtc = t.bt.utcMs;
  }

  /** Convert a whole batch; on the first malformed tick, the error naming it (nothing applied). */
  private convertBatch(c: Conn, f: FeedState, s: SymState, inst: Instrument, ts: WireTick[], live: boolean): Converted[] | string {
    const out: Converted[] = [];
    for (let i = 0; i < ts.length; i++) {
      const r = this.convertTick(c, f, s, inst, ts[i], live);
      if (typeof r === 'string') return `tick ${i} ${JSON.stringify(ts[i])?.slice(0, 160)}: ${r}`;
      out.push(r);
    }
    return out;
  }

  private checkFlags(f: FeedState, s: SymState, buy: boolean): void {
    if (buy) s.flagBuy++; else s.flagSell++;
    const n = s.flagBuy + s.flagSell;
    if (s.pathologyWarned || n < this.o.pathologyMinSample) return;
    const share = Math.max(s.flagBuy, s.flagSell) / n;
    if (share > this.o.pathologyShare) {
      s.pathologyWarned = true;
      const w = { code: 'flag_pathology', feed: f.key, sym: s.sym, buy: s.flagBuy, sell: s.flagSell, share };
      this.log.warn(`mt5 bridge: ${(share * 100).toFixed(1)} % of flagged trades on ${s.sym} are ${s.flagBuy > s.flagSell ? 'BUY' : 'SELL'}; the broker's aggressor flags look pathological`, w);
      this.emit('warning', w);
    }
  }

  private onTicks(c: Conn, f: FeedState, m: TicksMsg): void {
    if (typeof m.sym !== 'string' || !Array.isArray(m.ts)) throw new Error('ticks needs sym and ts');
    const s = this.symState(f, m.sym);
    if (m.ts.length === 0) return;
    const inst = this.resolve(f, s, m.ts[0]);
    // the offset table is anchored on the tick clock by the first live tick
    const w0 = m.ts[0];
    const lastOff = f.offsets[f.offsets.length - 1];
    if ((!lastOff || lastOff.off !== c.utcOff) && Array.isArray(w0) && Number.isInteger(w0[0])) this.noteOffset(f, c.utcOff, w0[0] as number); // (or a change made while disconnected)
    // the whole line is checked first: one malformed tick rejects it before anything reaches the
    // engine, the sink or the cursors, so the EA's resend of the same ticks is accepted (exactly once)
    const batch = this.convertBatch(c, f, s, inst, m.ts, true);
    if (typeof batch === 'string') {
      this.stats.batchesRejected++;
      this.rl.warn(`badbatch:${f.key}`, 'mt5 bridge: ticks line rejected whole', { feed: f.key, sym: m.sym, s: m.s, why: batch });
      return this.err(c, 'BAD_MESSAGE', `ticks for ${m.sym} rejected whole, nothing applied: ${batch}`, m.s);
    }
    const first = batch[0].bt;
    if (s.gapFrom) {
      const from = s.gapFrom.ms;
      s.gapFrom = null;
      const g: Gap = { type: 'gap', instrument: inst.id, ts: first.utcMs, from, to: first.ms, reason: 'mt5-seq-gap' };
      this.emitLive(g);
      this.startHold(s, first.ms, first.ord);
      this.requestBackfill(f, s, { from, to: first.ms, reason: 'seq-gap', live: { ms: first.ms, ord: first.ord } });
    }
    if (s.resumeFrom && !s.cursorSeen) {
      // an EA that does not report its cursor: the first live tick far past the cursor means it
      // started live (its replay window was exceeded); a quiet market can look the same, which is
      // why an EA that reports `cursors` in its first hb is judged by that instead (onEaCursors)
      const from = s.resumeFrom;
      s.resumeFrom = null;
      if (first.ms - from.ms > this.o.resumeHoleMs) { this.startHold(s, first.ms, first.ord); this.resumeHole(f, s, inst, from, first.ms, first.utcMs, { ms: first.ms, ord: first.ord }); }
    }
    if (s.wantInitialBackfill) {
      s.wantInitialBackfill = false;
      this.startHold(s, first.ms, first.ord);
      this.requestBackfill(f, s, { from: first.ms - f.bfDays * 86_400_000, to: first.ms, reason: 'initial', live: { ms: first.ms, ord: first.ord } });
    }
    const out: BridgeTick[] = [];
    for (const t of batch) {
      const { ms, ord } = t.bt;
      const newStore = cmpCursor(ms, ord, s.stoMs, s.stoOrd) > 0;
      const newEngine = cmpCursor(ms, ord, s.engMs, s.engOrd) > 0;
      if (!newStore && !newEngine) { this.stats.duplicates++; continue; }
      this.countTick(f, s, t, true);
      if (newEngine) {
        if (s.hold) { for (const e of t.events) s.hold.events.push(e); } else for (const e of t.events) this.emitLive(e);
        s.engMs = ms; s.engOrd = ord; this.stats.ticksLive++;
      }
      if (newStore) { s.stoMs = ms; s.stoOrd = ord; out.push(t.bt); }
      if (ms > f.lastLiveMs) f.lastLiveMs = ms;
    }
    if (out.length) c.pending = c.pending.length ? c.pending.concat(out) : out;
    if (s.hold && s.hold.events.length > this.o.maxHeldEvents) this.releaseHold(f, s, `more than ${this.o.maxHeldEvents} live events held`);
  }

  /** Hold a symbol's live events from `first` on until the backfill before them is in. */
  private startHold(s: SymState, firstMs: number, firstOrd: number): void {
    if (s.hold) return;
    s.hold = { prevMs: s.engMs, prevOrd: s.engOrd, firstMs, firstOrd, since: Date.now(), events: [], hist: [] };
  }

  /** Persisted backfill: keep what the engine lacks for the symbol's hold; release once nothing is outstanding. */
  private historyToEngine(f: FeedState, items: Converted[], sym?: string): void {
    const touched = new Set<SymState>();
    const bs = sym !== undefined ? f.syms.get(sym) : undefined;
    if (bs) touched.add(bs); // an empty backfill still ends the hold
    for (const t of items) {
      const s = f.syms.get(t.bt.sym);
      if (!s) continue;
      touched.add(s);
      const h = s.hold;
      if (!h) { this.stats.historyLate++; continue; }
      if (cmpCursor(t.bt.ms, t.bt.ord, h.prevMs, h.prevOrd) > 0 && cmpCursor(t.bt.ms, t.bt.ord, h.firstMs, h.firstOrd) < 0) h.hist.push(t);
    }
    for (const s of touched) if (s.hold && !s.outstanding && s.queue.length === 0) this.releaseHold(f, s, null);
  }

  /** History first (time order, each tick once), then the held live events. */
  private releaseHold(f: FeedState, s: SymState, early: string | null): void {
    const h = s.hold;
    if (!h) return;
    s.hold = null;
    if (early) this.log.warn(`mt5 bridge: ${s.sym}: live data released before its backfill finished (${early}); later history goes to the tick store only`, { feed: f.key, sym: s.sym });
    h.hist.sort((a, b) => cmpCursor(a.bt.ms, a.bt.ord, b.bt.ms, b.bt.ord));
    let pm = -Infinity, po = -1;
    for (const t of h.hist) {
      if (cmpCursor(t.bt.ms, t.bt.ord, pm, po) <= 0) continue; // overlapping backfills: once
      pm = t.bt.ms; po = t.bt.ord;
      for (const e of t.events) this.emitLive(e);
      this.stats.historyToEngine++;
    }
    for (const e of h.events) this.emitLive(e);
    this.emit('released', { feed: f.key, sym: s.sym, history: h.hist.length, live: h.events.length, early });
  }

  private resumeHole(f: FeedState, s: SymState, inst: Instrument, from: TickCursor, toMs: number, utc: number, live?: TickCursor): void {
    this.stats.resumeHoles++;
    const g: Gap = { type: 'gap', instrument: inst.id, ts: utc, from: from.ms, to: toMs, reason: 'mt5-resume-hole' };
    this.emitLive(g);
    this.log.info('mt5 bridge: the EA started live after its resume point; backfilling the hole', { feed: f.key, sym: s.sym, fromMs: from.ms, toMs });
    this.emit('gap', { feed: f.key, kind: 'resume', sym: s.sym, from_ms: from.ms, to_ms: toMs });
    this.requestBackfill(f, s, { from: from.ms, to: toMs, reason: 'resume-hole', live });
  }

  /**
   * The EA's cursors (hb): right after a welcome they say whether it resumed from the announced
   * cursor (equal) or started live past it (its replay window was exceeded): only then is there a hole.
   */
  private onEaCursors(c: Conn, f: FeedState, cursors: Record<string, WireCursor>): void {
    for (const [sym, cur] of Object.entries(cursors)) {
      const s = f.syms.get(sym);
      if (!s || !Array.isArray(cur) || !Number.isInteger(cur[0]) || !Number.isInteger(cur[1])) continue;
      if (s.gapFrom && cmpCursor(cur[0], cur[1], s.gapFrom.ms, s.gapFrom.ord) > 0) {
        // lost line(s) and no ticks line since: the EA's cursor bounds the hole (the last line of a burst may be the lost one)
        const from = s.gapFrom.ms;
        s.gapFrom = null;
        const inst = this.resolve(f, s, null);
        this.emitLive({ type: 'gap', instrument: inst.id, ts: cur[0] - c.utcOff * 1000, from, to: cur[0], reason: 'mt5-seq-gap' } as Gap);
        this.startHold(s, cur[0], cur[1] + 1);
        this.requestBackfill(f, s, { from, to: cur[0], reason: 'seq-gap', live: { ms: cur[0], ord: cur[1] + 1 } });
      }
      if (s.cursorSeen) continue;
      s.cursorSeen = true;
      const from = s.resumeFrom;
      s.resumeFrom = null;
      if (from && cmpCursor(cur[0], cur[1], from.ms, from.ord) > 0) {
        const inst = this.resolve(f, s, null);
        // live ticks come after the EA's cursor; the hole (from, cursor] is backfilled first
        this.startHold(s, cur[0], cur[1] + 1);
        this.resumeHole(f, s, inst, from, cur[0], cur[0] - c.utcOff * 1000, { ms: cur[0], ord: cur[1] + 1 });
      }
    }
  }

  // ----------------------------------------------------------------------------------- persistence

  /** Hand the connection's received ticks to the feed's persistence queue (once per socket chunk). */
  private flush(c: Conn): void {
    const f = c.feed;
    if (!f || c.state !== 'ready') return;
    if (c.pending.length === 0 && c.receivedSeq === c.queuedSeq) return;
    const b: PersistBatch = { ticks: c.pending, conn: c, seqHi: c.receivedSeq, history: false };
    c.pending = [];
    c.queuedSeq = c.receivedSeq;
    this.enqueue(f, b);
    if (!c.paused && f.queuedTicks > this.o.maxPendingTicks) { c.paused = true; this.stats.pauses++; this.updateReading(c); }
  }

  private enqueue(f: FeedState, b: PersistBatch): void {
    f.queue.push(b);
    f.queuedTicks += b.ticks.length;
    if (!f.inflight) void this.drain(f);
  }

  private async drain(f: FeedState): Promise<void> {
    f.inflight = true;
    while (f.queue.length) {
      // coalesce consecutive batches of the same kind and connection into one append
      const b = f.queue.shift()!;
      let ticks = b.ticks;
      let seqHi = b.seqHi;
      const items = b.items ?? [];
      while (f.queue.length && f.queue[0].conn === b.conn && f.queue[0].history === b.history && !b.history) {
        const n = f.queue.shift()!;
        ticks = ticks.length ? ticks.concat(n.ticks) : n.ticks;
        seqHi = n.seqHi;
      }
      try {
        if (ticks.length) await this.o.sink.append(ticks);
      } catch (e) {
        this.stats.sinkErrors++;
        this.log.error('mt5 bridge: sink append failed; dropping the connection so the EA resends from the durable cursor', { feed: f.key, err: (e as Error).message });
        this.emit('sink_error', { feed: f.key, error: e });
        f.queue.length = 0;
        f.queuedTicks = 0;
        for (const s of f.syms.values()) {
          s.stoMs = s.durable ? s.durable.ms : -Infinity;
          s.stoOrd = s.durable ? s.durable.ord : -1;
        }
        if (f.conn) this.reject(f.conn, 'SHUTDOWN', 'store error');
        break;
      }
      f.queuedTicks -= b.ticks.length === ticks.length ? ticks.length : ticks.length;
      if (f.queuedTicks < 0) f.queuedTicks = 0;
      for (const t of ticks) {
        const s = f.syms.get(t.sym);
        if (s && (!s.durable || cmpCursor(t.ms, t.ord, s.durable.ms, s.durable.ord) > 0)) s.durable = { ms: t.ms, ord: t.ord };
      }
      if (b.history) {
        this.stats.ticksHistory += ticks.length;
        for (const t of items) for (const e of t.events) this.emitHistory(e);
        this.historyToEngine(f, items, b.sym);
        this.emit('backfilled', { feed: f.key, sym: ticks[0]?.sym, ticks: ticks.length });
      }
      const c = b.conn;
      if (c && c.state === 'ready') {
        if (seqHi > c.persistedSeq) c.persistedSeq = seqHi;
        this.scheduleAck(c);
        if (c.paused && f.queuedTicks < this.o.maxPendingTicks / 2) { c.paused = false; this.updateReading(c); }
      }
      this.emit('persisted', { feed: f.key, ticks: ticks.length });
    }
    f.inflight = false;
  }

  private scheduleAck(c: Conn): void {
    if (c.ackTimer) return;
    const wait = Math.max(0, this.o.ackMs - (Date.now() - c.lastAck));
    c.ackTimer = setTimeout(() => {
      c.ackTimer = null;
      if (c.state !== 'ready' || !c.feed) return;
      c.lastAck = Date.now();
      const cur: Record<string, WireCursor> = {};
      for (const s of c.feed.syms.values()) if (s.durable) cur[s.sym] = [s.durable.ms, s.durable.ord];
      this.stats.acks++;
      this.send(c, { t: 'ack', s: c.persistedSeq, cur });
      this.emit('ack', { feed: c.feed.key, s: c.persistedSeq, cur });
    }, wait);
  }

  // ------------------------------------------------------------------------------------- sequence

  private onSeqGap(c: Conn, expected: number, got: number): void {
    this.stats.seqGaps++;
    const f = c.feed!;
    this.log.warn('mt5 bridge: sequence gap', { feed: f.key, expected, got });
    this.emit('gap', { feed: f.key, kind: 'seq', expected, got });
    // the lost line(s) may have carried ticks of any symbol: backfill each from its last live cursor
    for (const s of f.syms.values()) {
      if (!s.gapFrom && s.engMs > -Infinity) s.gapFrom = { ms: s.engMs, ord: s.engOrd };
    }
  }

  // ------------------------------------------------------------------------------------- backfill

  private requestBackfill(f: FeedState, s: SymState, win: BfWindow): void {
    s.queue.push(win);
    this.pumpBackfill(f, s);
  }

  private pumpBackfill(f: FeedState, s: SymState): void {
    const c = f.conn;
    if (s.outstanding || !s.queue.length || !c || c.state !== 'ready') return;
    const win = s.queue.shift()!;
    const id = ++this.bfId;
    s.outstanding = { id, win };
    this.stats.backfillRequests++;
    this.send(c, { t: 'bf_req', id, sym: s.sym, from_ms: win.from, to_ms: win.to, mode: 'all', max: this.o.backfillMax });
    this.emit('bf_req', { feed: f.key, id, sym: s.sym, from_ms: win.from, to_ms: win.to, reason: win.reason });
  }

  private onBfBegin(c: Conn, f: FeedState, m: Record<string, unknown>): void {
    const id = m.id as number, sym = m.sym as string;
    const s = typeof sym === 'string' ? f.syms.get(sym) : undefined;
    if (!s || !s.outstanding || s.outstanding.id !== id) return this.err(c, 'UNKNOWN_BACKFILL', `no outstanding bf_req ${id} for ${sym}`, m.s as number);
    c.backfills.set(id, { id, sym, ticks: [], items: [] });
  }

  private onBfChunk(c: Conn, f: FeedState, m: BfChunkMsg): void {
    const acc = c.backfills.get(m.id);
    if (!acc || !Array.isArray(m.ts)) return this.err(c, 'UNKNOWN_BACKFILL', `bf_chunk for unknown backfill ${m.id}`, m.s);
    const s = f.syms.get(acc.sym)!;
    const inst = this.resolve(f, s, m.ts[0] ?? null);
    const batch = this.convertBatch(c, f, s, inst, m.ts, false);
    if (typeof batch === 'string') {
      // a chunk with a malformed tick spoils the backfill: nothing of it is stored (bf_end discards it)
      this.stats.batchesRejected++;
      acc.bad = true;
      return this.err(c, 'BAD_MESSAGE', `bf_chunk ${m.id} rejected whole, the backfill is discarded: ${batch}`, m.s);
    }
    for (const t of batch) {
      this.countTick(f, s, t, false);
      acc.ticks.push(t.bt);
      acc.items.push(t);
    }
  }

  private onBfEnd(c: Conn, f: FeedState, m: Record<string, unknown>): void {
    const id = m.id as number;
    const acc = c.backfills.get(id);
    if (!acc) return this.err(c, 'UNKNOWN_BACKFILL', `bf_end for unknown backfill ${id}`, m.s as number);
    c.backfills.delete(id);
    const s = f.syms.get(acc.sym)!;
    const win = s.outstanding?.id === id ? s.outstanding.win : null;
    if (s.outstanding?.id === id) s.outstanding = null;
    const scanned = m.scanned_to;
    if (win && typeof scanned === 'number' && Number.isInteger(scanned) && scanned >= win.from && scanned < win.to && acc.ticks.length > 0 && !m.err) {
      // the EA's tick cap ended the answer at `scanned_to` (a whole millisecond): ask for the rest, so
      // no hole is left between the history and the first live tick
      this.stats.backfillContinued++;
      s.queue.unshift({ ...win, from: scanned + 1, reason: `${win.reason}+` });
    }
    if (acc.bad) {
      this.stats.backfillsDiscarded++;
      this.rl.warn(`badbf:${f.key}`, 'mt5 bridge: backfill with a malformed tick discarded whole', { feed: f.key, sym: acc.sym, id });
      this.emit('bf_end', { feed: f.key, id, sym: acc.sym, ticks: 0, complete: false });
      this.pumpBackfill(f, s);
      if (s.hold && !s.outstanding && s.queue.length === 0) this.releaseHold(f, s, 'the backfill was discarded');
      return;
    }
    if (m.complete === false) {
      this.stats.backfillsIncomplete++;
      this.log.warn('mt5 bridge: backfill incomplete', { feed: f.key, sym: acc.sym, id, err: m.err, scanned_to: m.scanned_to });
    }
    if (win?.live) {
      // the range is inclusive of to_ms: what is at or after the first live tick is stored already
      const lv = win.live;
      const keep = acc.items.filter((t) => cmpCursor(t.bt.ms, t.bt.ord, lv.ms, lv.ord) < 0);
      this.stats.backfillOverlap += acc.items.length - keep.length;
      if (keep.length !== acc.items.length) { acc.items = keep; acc.ticks = keep.map((t) => t.bt); }
    }
    this.enqueue(f, { ticks: acc.ticks, conn: c, seqHi: c.receivedSeq, history: true, items: acc.items, sym: acc.sym });
    this.emit('bf_end', { feed: f.key, id, sym: acc.sym, ticks: acc.ticks.length, complete: m.complete !== false });
    this.pumpBackfill(f, s);
  }

  // ----------------------------------------------------------------------------------------- book

  private onBook(c: Conn, f: FeedState, m: BookMsg): void {
    if (typeof m.sym !== 'string' || !Number.isInteger(m.bs) || !Array.isArray(m.b) || !Array.isArray(m.a)) throw new Error('book needs sym, bs, b, a');
    const s = this.symState(f, m.sym);
    const inst = this.resolve(f, s, null);
    this.stats.books++;
    const side = (rows: [string | number, string | number][]): Map<number, number> => {
      const mp = new Map<number, number>();
      for (const r of rows) {
        if (!Array.isArray(r)) throw new Error('book level must be [price, volume]');
        const p = inst.price.parse(String(r[0]));
        const v = inst.qty.parse(String(r[1]));
        if (p !== p || v !== v || v < 0) throw new Error(`bad book level ${JSON.stringify(r)}`);
        if (v > 0) mp.set(p, (mp.get(p) ?? 0) + v); // duplicated levels are merged
      }
      return mp;
    };
    const bids = side(m.b), asks = side(m.a);
    let bestBid = -Infinity, bestAsk = Infinity;
    for (const p of bids.keys()) if (p > bestBid) bestBid = p;
    for (const p of asks.keys()) if (p < bestAsk) bestAsk = p;
    if (bestBid >= bestAsk) this.stats.crossedBooks++;
    const ts = (Number.isFinite(m.ms) ? m.ms : Date.now() + c.utcOff * 1000) - c.utcOff * 1000;
    const prev = s.book;
    if (!prev || m.bs !== prev.bs + 1) {
      if (prev || s.bookGen > 0) {
        this.stats.bookGaps++;
        const reason = prev ? 'mt5-book-seq-gap' : 'mt5-book-reconnect';
        this.emit('gap', { feed: f.key, kind: 'book', sym: s.sym, expected: prev ? prev.bs + 1 : null, got: m.bs, reason });
        const g: Gap = { type: 'gap', instrument: inst.id, ts, from: prev ? prev.bs + 1 : NaN, to: m.bs, reason };
        this.emitLive(g);
      }
      s.bookGen++;
      s.book = { gen: s.bookGen, bs: m.bs, bids, asks };
      const snap: BookSnapshot = { type: 'book_snapshot', instrument: inst.id, ts, seq: m.bs, bids: sortLevels(bids, true), asks: sortLevels(asks, false) };
      this.emitLive(snap);
      return;
    }
    const db = diff(prev.bids, bids), da = diff(prev.asks, asks);
    const prevBs = prev.bs;
    s.book = { gen: prev.gen, bs: m.bs, bids, asks };
    if (db.length === 0 && da.length === 0) return; // unchanged image (keepalive)
    const d: BookDelta = { type: 'book_delta', instrument: inst.id, ts, firstSeq: m.bs, seq: m.bs, prevSeq: prevBs, bids: db, asks: da };
    this.emitLive(d);
  }
}

function sortLevels(m: Map<number, number>, desc: boolean): Level[] {
  const out: Level[] = [...m.entries()].map(([p, v]) => [p, v]);
  out.sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]));
  return out;
}

function diff(prev: Map<number, number>, next: Map<number, number>): Level[] {
  const out: Level[] = [];
  for (const [p, v] of next) if (prev.get(p) !== v) out.push([p, v]);
  for (const p of prev.keys()) if (!next.has(p)) out.push([p, 0]);
  return out;
}

/**
 * The TapeFlow stream server: msgpack over WebSocket (protocol v1, see PROTOCOL.md). Attaches to an
 * existing http.Server on a path (default /ws) or listens on its own. Data comes from the Engine
 * through SymbolHubs/Topics (topics.ts); each connection has one ordered send queue with per-channel
 * conflation, and is dropped (close 4008) when it cannot keep up within bounded memory.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Engine } from '../../../engine/src/analytics/engine.js';
import type { InstrumentRegistry } from '../../../engine/src/core/instruments.js';
import { parseTimeframe, type BarSpec } from '../../../engine/src/analytics/timeframe.js';
import type { OrderBook } from '../../../engine/src/book/order-book.js';
import type { Logger } from '../../../engine/src/log.js';
import { safeEqual } from '../http/security.js';
import { decode, encode, frameHeadInto, frameHeadLength, frameInto, updateFrame } from './frames.js';
import { DelayHistogram, delayStats, type DeliveryStats } from './delivery-stats.js';
import { TradeBarTopic, TRADE_TF, countRuleOf, tradeTfError, type TradeBarsSource } from './trade-bar-topic.js';
import {
  CHANNELS, CLOSE, ERR, PLACEHOLDER_CHANNELS, PROTOCOL_VERSION, TIMEFRAME_CHANNELS, isChannel, normalizeTimeframe,
  type Channel, type ErrorCode, type ServerLimits, type WireTrade,
} from './protocol.js';
import {
  BarTopic, BookTopic, DEFAULT_INTERVALS, FeedsTopic, type FootprintView, ProfileTopic, PublishedTopic, SNAPSHOT_LIMITS, StatsTopic, SymbolHub, TickTopic,
  Topic, VwapTopic, observeEngine, type PushKind, type TopicSink,
} from './topics.js';

export type TokenCheck = (token: string, req: http.IncomingMessage) => boolean | Promise<boolean>;

export interface StreamServerOptions {
  engine: Engine;
  /** the `feeds` channel's payload (the /api/v1/feeds answer); without it the channel says {available: false} */
  feeds?: () => unknown;
  /** defaults to engine.registry */
  registry?: InstrumentRegistry;
  /** attach to this server (else call listen()) */
  server?: http.Server;
  /** upgrade path (default '/ws') */
  path?: string;
  /** enable auth: a fixed token or a checker; omitted = open */
  token?: string | TokenCheck;
  /** checked before the upgrade (Host and Origin rules of the HTTP server); refused = HTTP status, no WebSocket */
  verifyUpgrade?: (req: http.IncomingMessage) => { ok: true } | { ok: false; status: number; reason: string };
  /** order books for the orderbook channel (the engine does not own books); omitted = empty snapshots */
  books?: (instrumentId: string) => OrderBook | undefined;
  /** hard frame limit (ws maxPayload; larger frames close with 1009), default 1 MiB */
  maxPayload?: number;
  /** soft frame limit (error reply `too_large`), default 64 KiB */
  maxMessageBytes?: number;
  maxSubscriptions?: number;
  /** errors before close 4002 (default 32); one strike is forgiven every strikeDecayMs (default 1000) */
  maxStrikes?: number;
  strikeDecayMs?: number;
  /** protocol ping interval; a client that misses one pong is terminated (default 15000) */
  heartbeatMs?: number;
  /** with auth enabled: close 4001 if not authenticated within this time (default 10000) */
  authTimeoutMs?: number;
  /** stop writing to a socket while ws.bufferedAmount is above this (default 256 KiB) */
  highWaterBytes?: number;
  /** drop the client when ws.bufferedAmount exceeds this (default 4 MiB) */
  maxBufferedBytes?: number;
  /** drop the client when its unsent queue exceeds this (default 4 MiB) */
  maxQueueBytes?: number;
  /** drop the client when it stays congested this long (default 30000) */
  stallTimeoutMs?: number;
  /** trades kept per pending tick batch of a congested subscription (default 5000) */
  maxPendingTrades?: number;
  /**
   * Snapshots of N-tick / volume bar subscriptions (tf "100T", "10V"): the REST grouping of the stored
   * trades (liveTradeBarsSnapshot over the HTTP server's HistoryService). Without it those timeframes are refused.
   */
  tradeBars?: TradeBarsSource;
  /** per-channel update intervals, ms */
  intervals?: Partial<Record<Channel, number>>;
  /** flush timer period, ms (default 20) */
  tickMs?: number;
  logger?: Logger;
}

interface QItem {
  sub: Sub | null;
  /** update payload (sub set) or a whole frame (sub null); null = encode `trades` at send time */
  buf: Uint8Array | null;
  trades: WireTrade[] | null;
  dropped: number;
  bytes: number;
  dead: boolean;
  /** performance.now() at emit for never-conflated updates (send-delay statistics), else 0 */
  at: number;
}

class Sub implements TopicSink {
  seq = 0;
  tickFrom = 0;
  pendingSlot: QItem | null = null;
  pendingTick: QItem | null = null;
  closed = false;
  constructor(readonly id: number, readonly conn: Conn, readonly topic: Topic, readonly key: string) {}
  push(data: Uint8Array, kind: PushKind, at = 0): void { this.conn.enqueue(this, data, kind, at); }
  pushTicks(trades: WireTrade[], buf: Uint8Array | null): void { this.conn.enqueueTicks(this, trades, buf); }
}

const BINARY = { binary: true, compress: false } as const;
const updateFrameOf = (sub: Sub, payload: Uint8Array): Uint8Array => updateFrame(sub.id, ++sub.seq, payload);

interface RawSocket { write(b: Uint8Array): boolean; cork(): void; uncork(): void }
interface WsInternals { _socket?: RawSocket & { writable?: boolean }; _sender?: { _queue?: unknown[]; _state?: number } }

/**
 * The connection's TCP socket when whole frames may be written to it directly: ws's sender keeps no
 * queue of its own (it only queues while compressing or reading a Blob; this server negotiates no
 * compression and sends no Blobs), so our bytes cannot overtake frames ws still holds. ws counts
 * the socket's buffer in `bufferedAmount`, so back-pressure stays exact. Null: send through ws.
 */
function rawSocket(ws: WebSocket): RawSocket | null {
  const w = ws as unknown as WsInternals;
  const sock = w._socket, snd = w._sender;
  if (!sock || typeof sock.write !== 'function' || sock.writable === false) return null;
  if (!snd || snd._state !== 0 || !Array.isArray(snd._queue) || snd._queue.length !== 0) return null;
  return sock;
}

let connIds = 0;
/** longest run of socket writes before the event loop gets a turn */
const PUMP_SLICE_MS = 5;
/**
 * Payloads at least this large are not copied per socket: the topic's encoded update goes to every
 * socket as the same buffer, behind this connection's small frame head, in one corked (writev) write.
 * Smaller ones are cheaper copied into the connection's one write buffer (measured: a few hundred
 * bytes of copy cost nothing beside the write itself; at 32 KB the shared buffer saves ~30 % CPU).
 */
const SHARE_BYTES = 4096;
// one pump's items (pumps never overlap: the event loop runs one at a time); cleared after each pump
const pumpSubs: (Sub | null)[] = [];
const pumpPays: Uint8Array[] = [];
const pumpSeqs: number[] = [];
const pumpAts: number[] = [];
const NO_BYTES = new Uint8Array(0);

class Conn {
  readonly id = ++connIds;
  authed: boolean;
  strikes = 0;
  private strikeAt = 0;
  alive = true;
  closing = false;
  readonly subs = new Map<number, Sub>();
  /** every subscription of this connection per topic key (several per key are allowed: multiplexing) */
  readonly byKey = new Map<string, Set<Sub>>();
  private queue: QItem[] = [];
  private head = 0;
  queueBytes = 0;
  congestedSince = 0;
  sent = 0;
  /** in the server's list of connections to pump */
  listed = false;
  private authTimer: NodeJS.Timeout | null = null;

  constructor(readonly srv: StreamServer, readonly ws: WebSocket, readonly req: http.IncomingMessage, authed: boolean) {
    this.authed = authed;
    if (!authed) {
      this.authTimer = setTimeout(() => this.close(CLOSE.UNAUTHORIZED, 'authentication timeout'), srv.o.authTimeoutMs);
      this.authTimer.unref?.();
    }
  }

  get queued(): number { return this.queue.length - this.head; }

  setAuthed(): void {
    this.authed = true;
    if (this.authTimer) { clearTimeout(this.authTimer); this.authTimer = null; }
  }

  private add(it: QItem): void {
    this.queue.push(it);
    this.queueBytes += it.bytes;
    this.srv.schedulePump(this);
  }

  /** Whole control frame (welcome, snapshot, error, pong, unsubscribed). */
  control(msg: Record<string, unknown>): void {
    if (this.closing) return;
    const buf = encode(msg);
    this.add({ sub: null, buf, trades: null, dropped: 0, bytes: buf.length, dead: false, at: 0 });
  }

  /** `at`: the topic's performance.now() at emit for never-conflated kinds (send-delay statistics) */
  enqueue(sub: Sub, data: Uint8Array, kind: PushKind, at = 0): void {
    if (this.closing || sub.closed) return;
    if (kind === 'slot') {
      const p = sub.pendingSlot;
      if (p && !p.dead) { this.queueBytes += data.length - p.bytes; p.buf = data; p.bytes = data.length; this.srv.delivery.conflated++; return; }
    } else if (kind === 'close' && sub.pendingSlot) {
      const p = sub.pendingSlot;
      if (!p.dead) { p.dead = true; this.queueBytes -= p.bytes; }
      sub.pendingSlot = null;
    }
    const it: QItem = { sub, buf: data, trades: null, dropped: 0, bytes: data.length, dead: false, at: kind === 'slot' ? 0 : at || performance.now() };
    if (kind === 'slot') sub.pendingSlot = it;
    this.add(it);
  }

  enqueueTicks(sub: Sub, trades: WireTrade[], buf: Uint8Array | null): void {
    if (this.closing || sub.closed) return;
    const p = sub.pendingTick;
    if (p && !p.dead) {
      // congested: merge into the pending batch (keep the newest maxPendingTrades, count the rest)
      const merged = (p.trades ?? []).concat(trades);
      const max = this.srv.o.maxPendingTrades;
      if (merged.length > max) { p.dropped += merged.length - max; merged.splice(0, merged.length - max); }
      const bytes = merged.length * 40;
      this.queueBytes += bytes - p.bytes;
      p.trades = merged; p.buf = null; p.bytes = bytes;
      return;
    }
    const it: QItem = { sub, buf, trades, dropped: 0, bytes: buf ? buf.length : trades.length * 40, dead: false, at: 0 };
    sub.pendingTick = it;
    this.add(it);
  }

  /** Write queued frames while the socket is below the high-water mark; enforce the bounds. */
  pump(now: number): void {
    if (this.closing) return;
    const ws = this.ws;
    const o = this.srv.o;
    if (ws.readyState !== WebSocket.OPEN) return;
    const raw = rawSocket(ws);
    if (raw) this.pumpRaw(raw, ws.bufferedAmount);
    else this.pumpSend(ws);
    if (this.head >= this.queue.length) { this.queue.length = 0; this.head = 0; this.queueBytes = 0; }
    else if (this.head > 4096) { this.queue = this.queue.slice(this.head); this.head = 0; }
    const buffered = ws.bufferedAmount;
    if (buffered > o.maxBufferedBytes) return this.drop(`send buffer ${buffered} B above ${o.maxBufferedBytes} B`);
    if (this.queueBytes > o.maxQueueBytes) return this.drop(`queue ${this.queueBytes} B above ${o.maxQueueBytes} B`);
    if (this.queued > 0 && buffered >= o.highWaterBytes) {
      if (!this.congestedSince) this.congestedSince = now;
      else if (now - this.congestedSince > o.stallTimeoutMs) return this.drop(`congested for ${now - this.congestedSince} ms`);
    } else this.congestedSince = 0;
  }

  /** The next item to send (its sub's pending marks cleared, `buf` filled), or null when it was voided. */
  private takeNext(): QItem | null {
    const it = this.queue[this.head++];
    this.queueBytes -= it.bytes;
    if (it.dead) return null;
    const sub = it.sub;
    if (sub) {
      if (sub.pendingSlot === it) sub.pendingSlot = null;
      if (sub.pendingTick === it) sub.pendingTick = null;
      if (sub.closed) return null;
    }
    if (!it.buf) it.buf = encode(it.dropped > 0 ? { trades: it.trades, dropped: it.dropped } : { trades: it.trades });
    return it;
  }

  /**
   * Everything this pump sends, as whole WebSocket frames in one socket write: each message is this
   * subscription's small frame head (`{v, op:'update', sub, seq, d:`) followed by the topic payload,
   * which was encoded once per update for all subscribers. Small payloads are copied in behind their
   * heads (one buffer, one write); payloads of SHARE_BYTES or more are written as the shared buffer
   * itself, corked with the heads into one writev. No ws fragments, no per-message allocations.
   */
  private pumpRaw(sock: RawSocket, buffered: number): void {
    const hw = this.srv.o.highWaterBytes;
    let n = 0, wire = 0, copied = 0, shared = 0;
    while (this.head < this.queue.length && buffered + wire < hw) {
      const it = this.takeNext();
      if (!it) continue;
      const sub = it.sub, pay = it.buf!;
      const seq = sub ? ++sub.seq : 0;
      const head = frameHeadLength(sub ? sub.id : null, seq, pay.length);
      pumpSubs[n] = sub; pumpPays[n] = pay; pumpSeqs[n] = seq; pumpAts[n] = it.at; n++;
      wire += head + pay.length;
      if (pay.length >= SHARE_BYTES) { copied += head; shared++; } else copied += head + pay.length;
    }
    if (n === 0) return;
    const out = Buffer.allocUnsafe(copied);
    let at = 0;
    if (shared === 0) {
      for (let k = 0; k < n; k++) { const s = pumpSubs[k]; at = frameInto(out, at, s ? s.id : null, pumpSeqs[k], pumpPays[k]); }
      sock.write(out);
    } else {
      sock.cork();
      let from = 0;
      for (let k = 0; k < n; k++) {
        const s = pumpSubs[k], p = pumpPays[k];
        if (p.length < SHARE_BYTES) { at = frameInto(out, at, s ? s.id : null, pumpSeqs[k], p); continue; }
        at = frameHeadInto(out, at, s ? s.id : null, pumpSeqs[k], p.length);
        sock.write(out.subarray(from, at));
        sock.write(p);
        from = at;
      }
      if (at > from) sock.write(out.subarray(from, at));
      sock.uncork();
    }
    this.sent += n;
    this.srv.wrote(n, wire, pumpAts, n);
    for (let k = 0; k < n; k++) { pumpSubs[k] = null; pumpPays[k] = NO_BYTES; }
  }

  /** Fallback through ws's own sender (a socket we cannot write frames to directly). */
  private pumpSend(ws: WebSocket): void {
    const hw = this.srv.o.highWaterBytes;
    while (this.head < this.queue.length && ws.bufferedAmount < hw) {
      const it = this.takeNext();
      if (!it) continue;
      const buf = it.sub ? updateFrameOf(it.sub, it.buf!) : it.buf!;
      ws.send(buf, BINARY);
      this.sent++;
      pumpAts[0] = it.at;
      this.srv.wrote(1, buf.length, pumpAts, 1);
    }
  }

  drop(why: string): void {
    this.srv.counters.dropped++;
    this.srv.log?.warn('ws: dropping slow consumer', { conn: this.id, why });
    this.close(CLOSE.SLOW_CONSUMER, 'slow consumer');
  }

  /** Close with a code; the socket is destroyed if the close handshake does not finish quickly. */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.release();
    try { this.ws.close(code, reason); } catch { /* already closed */ }
    const t = setTimeout(() => this.ws.terminate(), 1000);
    t.unref?.();
  }

  /** Free everything the connection holds (subscriptions, queue). */
  release(): void {
    if (this.authTimer) { clearTimeout(this.authTimer); this.authTimer = null; }
    for (const s of this.subs.values()) this.srv.detach(s);
    this.subs.clear();
    this.byKey.clear();
    this.queue = []; this.head = 0; this.queueBytes = 0;
  }

  /** An error reply; counts a strike unless `strike` is false; closes after maxStrikes. */
  error(code: ErrorCode, message: string, ref: unknown, strike = true): void {
    const o = this.srv.o;
    const now = Date.now();
    if (strike) {
      if (this.strikes > 0 && o.strikeDecayMs > 0) {
        const forgiven = Math.floor((now - this.strikeAt) / o.strikeDecayMs);
        if (forgiven > 0) { this.strikes = Math.max(0, this.strikes - forgiven); this.strikeAt += forgiven * o.strikeDecayMs; }
      }
      if (this.strikes === 0) this.strikeAt = now;
      this.strikes++;
      this.srv.counters.errors++;
    }
    this.control({ v: PROTOCOL_VERSION, op: 'error', code, message, ref: ref ?? null, strikes: this.strikes });
    if (strike && this.strikes >= o.maxStrikes) {
      this.pump(now);
      this.close(CLOSE.TOO_MANY_ERRORS, 'too many errors');
    }
  }
}

type Required2<T> = { [K in keyof T]-?: T[K] };
type ResolvedOptions = Required2<Omit<StreamServerOptions, 'server' | 'token' | 'verifyUpgrade' | 'books' | 'logger' | 'registry' | 'intervals' | 'feeds' | 'tradeBars'>> & { intervals: Record<Channel, number> };

export interface StreamServerStats {
  connections: number;
  topics: number;
  counters: { connections: number; dropped: number; errors: number; heartbeatTimeouts: number };
  delivery: DeliveryStats;
  clients: { id: number; subs: number; queued: number; queueBytes: number; bufferedAmount: number; sent: number; strikes: number }[];
}

export class StreamServer {
  readonly o: ResolvedOptions;
  readonly engine: Engine;
  readonly registry: InstrumentRegistry;
  readonly log: Logger | undefined;
  readonly wss: WebSocketServer;
  readonly conns = new Set<Conn>();
  readonly counters = { connections: 0, dropped: 0, errors: 0, heartbeatTimeouts: 0 };
  readonly delivery = { messages: 0, bytes: 0, writes: 0, conflated: 0 };
  /** emit → socket write of never-conflated updates */
  readonly sendDelay = new DelayHistogram();
  private readonly hubs = new Map<string, SymbolHub>();
  private readonly topics = new Map<string, Topic>();
  private readonly token: TokenCheck | null;
  private readonly verifyUpgrade: StreamServerOptions['verifyUpgrade'];
  private readonly books: ((id: string) => OrderBook | undefined) | undefined;
  private readonly feedsSource: (() => unknown) | undefined;
  private readonly tradeBars: TradeBarsSource | undefined;
  private readonly baseSpec: BarSpec;
  private httpServer: http.Server | null = null;
  private ownServer = false;
  private upgradeHandler: ((req: http.IncomingMessage, socket: Duplex, head: Buffer) => void) | null = null;
  private flushTimer: NodeJS.Timeout;
  private heartbeatTimer: NodeJS.Timeout;
  /** connections with something to write, in the order they got it (each once: Conn.listed) */
  private pumpList: Conn[] = [];
  private pumpScheduled = false;
  private subIds = 0;
  private closed = false;

  constructor(opts: StreamServerOptions) {
    this.engine = opts.engine;
    this.registry = opts.registry ?? opts.engine.registry;
    this.log = opts.logger;
    this.books = opts.books;
    this.feedsSource = opts.feeds;
    this.tradeBars = opts.tradeBars;
    this.verifyUpgrade = opts.verifyUpgrade;
    this.o = {
      engine: opts.engine, path: opts.path ?? '/ws',
      maxPayload: opts.maxPayload ?? 1 << 20, maxMessageBytes: opts.maxMessageBytes ?? 64 << 10,
      maxSubscriptions: opts.maxSubscriptions ?? 256, maxStrikes: opts.maxStrikes ?? 32, strikeDecayMs: opts.strikeDecayMs ?? 1000,
      heartbeatMs: opts.heartbeatMs ?? 15_000, authTimeoutMs: opts.authTimeoutMs ?? 10_000,
      highWaterBytes: opts.highWaterBytes ?? 256 << 10, maxBufferedBytes: opts.maxBufferedBytes ?? 4 << 20,
      maxQueueBytes: opts.maxQueueBytes ?? 4 << 20, stallTimeoutMs: opts.stallTimeoutMs ?? 30_000,
      maxPendingTrades: opts.maxPendingTrades ?? 5000,
      intervals: { ...DEFAULT_INTERVALS, ...opts.intervals }, tickMs: opts.tickMs ?? 20,
    };
    const tk = opts.token;
    this.token = tk === undefined ? null : typeof tk === 'string' ? (t) => safeEqual(t, tk) : tk;
    const tf = this.engine.pipelineOptions.timeframe ?? '1m';
    this.baseSpec = typeof tf === 'string' ? parseTimeframe(tf, this.engine.pipelineOptions.align ?? 'utc') : tf;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.o.maxPayload, perMessageDeflate: false, clientTracking: false });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req));
    this.engine.onPipeline((p) => { if (!this.closed) this.hub(p.instrument.id)?.attach(p); });
    observeEngine(this.engine, (id) => this.hubs.get(id), this.books);
    this.flushTimer = setInterval(() => this.tick(), this.o.tickMs);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.o.heartbeatMs);
    this.flushTimer.unref?.();
    this.heartbeatTimer.unref?.();
    if (opts.server) this.attach(opts.server);
  }

  get limits(): ServerLimits {
    const o = this.o;
    return { maxPayload: o.maxPayload, maxMessageBytes: o.maxMessageBytes, maxSubscriptions: o.maxSubscriptions, maxStrikes: o.maxStrikes, heartbeatMs: o.heartbeatMs };
  }

  /** Handle WebSocket upgrades on `path` of an existing http.Server. */
  attach(server: http.Server): void {
    if (this.httpServer) throw new Error('StreamServer is already attached');
    this.httpServer = server;
    this.upgradeHandler = (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== this.o.path) {
        if (server.listenerCount('upgrade') === 1) socket.destroy();
        return;
      }
      if (this.closed) { socket.destroy(); return; }
      const v = this.verifyUpgrade?.(req);
      if (v && !v.ok) {
        this.log?.warn('ws: upgrade refused', { event: 'ws_refused', status: v.status, reason: v.reason, addr: req.socket.remoteAddress, origin: req.headers.origin, host: req.headers.host });
        socket.end(`HTTP/1.1 ${v.status} ${v.status === 421 ? 'Misdirected Request' : 'Forbidden'}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(v.reason)}\r\n\r\n${v.reason}`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
    };
    server.on('upgrade', this.upgradeHandler);
  }

  /** Standalone: create an http.Server (404 for plain HTTP), attach and listen. */
  async listen(port = 0, host = '127.0.0.1'): Promise<{ port: number; url: string }> {
    const server = http.createServer((_req, res) => { res.statusCode = 426; res.end('WebSocket endpoint: connect to ' + this.o.path); });
    this.ownServer = true;
    this.attach(server);
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, () => resolve()); });
    const a = server.address() as AddressInfo;
    return { port: a.port, url: `ws://${host}:${a.port}${this.o.path}` };
  }

  /** Push an item on a producer-less channel (signal, trade_state, bias, rule, pcr). */
  publish(ch: 'signal' | 'trade_state' | 'bias' | 'rule' | 'pcr', symbol: string, item: unknown): void {
    const inst = this.registry.find(symbol);
    if (!inst) throw new Error(`unknown symbol ${symbol}`);
    const hub = this.hub(inst.id)!;
    const key = `${ch}|${inst.id}|`;
    let t = this.topics.get(key) as PublishedTopic | undefined;
    if (!t) { t = new PublishedTopic(key, ch, hub, '', this.o.intervals[ch], encode); this.topics.set(key, t); hub.topics.add(t); }
    t.publish(item);
  }

  stats(): StreamServerStats {
    return {
      connections: this.conns.size, topics: this.topics.size, counters: { ...this.counters },
      delivery: this.deliveryStats(),
      clients: [...this.conns].map((c) => ({ id: c.id, subs: c.subs.size, queued: c.queued, queueBytes: c.queueBytes, bufferedAmount: c.ws.bufferedAmount, sent: c.sent, strikes: c.strikes })),
    };
  }

  /** Fan-out figures (also in /health): counters since start, send delay since the last resetDelivery(). */
  deliveryStats(): DeliveryStats {
    let congested = 0;
    for (const c of this.conns) if (c.congestedSince) congested++;
    return { ...this.delivery, congested, sendDelayMs: delayStats(this.sendDelay) };
  }

  resetDelivery(): void {
    this.delivery.messages = 0; this.delivery.bytes = 0; this.delivery.writes = 0; this.delivery.conflated = 0;
    this.sendDelay.reset();
  }

  /** A socket write of `messages` messages (`bytes` on the wire); `ats[0..n)` = their emit times (0 = not timed). */
  wrote(messages: number, bytes: number, ats: number[], n: number): void {
    const d = this.delivery;
    d.messages += messages; d.bytes += bytes; d.writes++;
    let t = 0;
    for (let k = 0; k < n; k++) { const a = ats[k]; if (a > 0) { if (t === 0) t = performance.now(); this.sendDelay.record(t - a); } }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.flushTimer);
    clearInterval(this.heartbeatTimer);
    for (const h of this.hubs.values()) h.alive = false;
    for (const c of this.conns) c.close(CLOSE.GOING_AWAY, 'server shutting down');
    if (this.httpServer && this.upgradeHandler) this.httpServer.off('upgrade', this.upgradeHandler);
    await new Promise<void>((r) => setTimeout(r, 50));
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    await new Promise<void>((r) => this.wss.close(() => r()));
    if (this.ownServer && this.httpServer) {
      const s = this.httpServer;
      s.closeAllConnections?.();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private hub(id: string): SymbolHub | undefined {
    let h = this.hubs.get(id);
    if (!h) {
      const inst = this.registry.find(id);
      if (!inst) return undefined;
      h = new SymbolHub(inst);
      this.hubs.set(inst.id, h);
      const p = this.engine.pipelines.get(inst.id);
      if (p) h.attach(p);
      if (this.books) h.book = this.books(inst.id);
    }
    return h;
  }

  private enlist(c: Conn): void {
    if (c.listed) return;
    c.listed = true;
    this.pumpList.push(c);
  }

  schedulePump(c: Conn): void {
    this.enlist(c);
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pumpAll());
  }

  /**
   * Pump the connections with something queued, for at most PUMP_SLICE_MS per event-loop turn: with
   * thousands of clients the rest continue on the next turn (first in line), so timers, the feed and
   * new requests are served in between.
   */
  private pumpAll(): void {
    this.pumpScheduled = false;
    const now = Date.now();
    const t0 = performance.now();
    const list = this.pumpList;
    this.pumpList = [];
    let k = 0;
    while (k < list.length) {
      const c = list[k++];
      c.listed = false;
      c.pump(now);
      if ((k & 31) === 0 && performance.now() - t0 > PUMP_SLICE_MS) break;
    }
    if (k < list.length) {
      // the rest go first next turn (still listed), before anything listed meanwhile
      const rest = list.slice(k);
      for (const c of this.pumpList) rest.push(c);
      this.pumpList = rest;
    }
    if (this.pumpList.length > 0 && !this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => this.pumpAll());
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const t of this.topics.values()) {
      if (t.dirty && t.subs.size > 0 && now - t.lastFlush >= t.intervalMs) {
        t.dirty = false;
        t.lastFlush = now;
        try { t.flush(); } catch (e) { this.log?.error('ws: topic flush failed', { topic: t.key, err: String(e) }); }
      }
    }
    for (const c of this.conns) if (c.queued > 0 || c.congestedSince) this.enlist(c);
    this.pumpAll();
  }

  private heartbeat(): void {
    for (const c of this.conns) {
      if (!c.alive) {
        this.counters.heartbeatTimeouts++;
        c.release();
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try { c.ws.ping(); } catch { /* closed */ }
    }
  }

  private onConnection(ws: WebSocket, req: http.IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const qtoken = url.searchParams.get('token');
    const conn = new Conn(this, ws, req, this.token === null);
    this.conns.add(conn);
    this.counters.connections++;
    ws.on('pong', () => { conn.alive = true; });
    ws.on('message', (data, isBinary) => {
      conn.alive = true;
      if (conn.closing) return;
      try { this.onMessage(conn, data, isBinary); } catch (e) {
        this.log?.error('ws: message handler failed', { err: String(e) });
        conn.error(ERR.INTERNAL, 'internal error', null, false);
      }
    });
    ws.on('close', () => { conn.closing = true; conn.release(); this.conns.delete(conn); });
    ws.on('error', (e) => { this.log?.debug('ws: socket error', { conn: conn.id, err: String(e) }); });
    if (qtoken !== null && this.token) void this.authenticate(conn, qtoken, null, false);
  }

  private async authenticate(conn: Conn, token: unknown, ref: unknown, welcome: boolean): Promise<boolean> {
    let ok = false;
    try { ok = typeof token === 'string' && token.length > 0 && token.length <= 4096 && !!(await this.token!(token, conn.req)); } catch { ok = false; }
    if (conn.closing) return false;
    if (!ok) {
      conn.error(ERR.UNAUTHORIZED, 'invalid token', ref, false);
      conn.pump(Date.now());
      conn.close(CLOSE.UNAUTHORIZED, 'unauthorized');
      return false;
    }
    conn.setAuthed();
    if (welcome) this.welcome(conn, ref);
    return true;
  }

  private welcome(conn: Conn, ref: unknown): void {
    conn.control({
      v: PROTOCOL_VERSION, op: 'welcome', ref: ref ?? null, server: 'tapeflow', protocol: PROTOCOL_VERSION,
      authenticated: conn.authed, authRequired: this.token !== null,
      channels: [...CHANNELS], placeholder: [...PLACEHOLDER_CHANNELS], limits: this.limits, time: Date.now(),
    });
  }

  private onMessage(conn: Conn, data: RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    if (!isBinary) return conn.error(ERR.BAD_FRAME, 'text frames are not accepted: send msgpack in binary frames', null);
    if (buf.length > this.o.maxMessageBytes) return conn.error(ERR.TOO_LARGE, `frame of ${buf.length} B exceeds ${this.o.maxMessageBytes} B`, null);
    let msg: unknown;
    try { msg = decode(buf); } catch (e) { return conn.error(ERR.BAD_FRAME, `malformed msgpack: ${String((e as Error).message ?? e).slice(0, 120)}`, null); }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || msg instanceof Uint8Array || msg instanceof Map) {
      return conn.error(ERR.BAD_FRAME, 'frame must be a msgpack map', null);
    }
    const m = msg as Record<string, unknown>;
    const ref = (typeof m.id === 'number' && Number.isFinite(m.id)) || (typeof m.id === 'string' && m.id.length <= 64) ? m.id : null;
    if (m.v !== PROTOCOL_VERSION) return conn.error(ERR.BAD_VERSION, `unsupported protocol version ${JSON.stringify(m.v ?? null)}; this server speaks v${PROTOCOL_VERSION}`, ref);
    switch (m.op) {
      case 'hello':
        if (m.token !== undefined && m.token !== null && this.token && !conn.authed) { void this.authenticate(conn, m.token, ref, true); return; }
        if (m.token !== undefined && m.token !== null && typeof m.token !== 'string') return conn.error(ERR.BAD_REQUEST, 'token must be a string', ref);
        return this.welcome(conn, ref);
      case 'auth':
        if (typeof m.token !== 'string') return conn.error(ERR.BAD_REQUEST, 'auth needs a string token', ref);
        if (!this.token || conn.authed) return this.welcome(conn, ref);
        void this.authenticate(conn, m.token, ref, true);
        return;
      case 'ping':
        return conn.control({ v: PROTOCOL_VERSION, op: 'pong', ref, t: typeof m.t === 'number' ? m.t : null, time: Date.now() });
      case 'subscribe':
        if (!conn.authed) { conn.error(ERR.UNAUTHORIZED, 'authenticate first (hello/auth with a token)', ref, false); conn.pump(Date.now()); conn.close(CLOSE.UNAUTHORIZED, 'unauthorized'); return; }
        return this.subscribe(conn, m, ref);
      case 'unsubscribe':
        if (!conn.authed) return conn.error(ERR.UNAUTHORIZED, 'authenticate first', ref);
        return this.unsubscribe(conn, m, ref);
      default:
        return conn.error(ERR.UNKNOWN_OP, typeof m.op === 'string' ? `unknown op "${m.op.slice(0, 40)}"` : 'op must be a string', ref);
    }
  }

  private resolveKey(conn: Conn, m: Record<string, unknown>, ref: unknown): { ch: Channel; hub: SymbolHub; tf: string; mode: string; depth: number; view: FootprintView | null; valueArea: number | null } | null {
    if (typeof m.ch !== 'string') { conn.error(ERR.BAD_REQUEST, 'ch must be a string', ref); return null; }
    if (!isChannel(m.ch)) { conn.error(ERR.UNKNOWN_CHANNEL, `unknown channel "${m.ch.slice(0, 40)}" (known: ${CHANNELS.join(', ')})`, ref); return null; }
    const ch = m.ch;
    if (typeof m.sym !== 'string' || m.sym.length === 0 || m.sym.length > 64) { conn.error(ERR.BAD_REQUEST, 'sym must be a non-empty string (max 64 chars)', ref); return null; }
    const inst = this.registry.find(m.sym);
    const hub = inst ? this.hub(inst.id) : undefined;
    if (!hub) { conn.error(ERR.BAD_SYMBOL, `unknown symbol "${m.sym}"`, ref); return null; }
    let tf = '';
    let mode = '';
    if (TIMEFRAME_CHANNELS.includes(ch)) {
      if (m.tf !== undefined && m.tf !== null && typeof m.tf !== 'string') { conn.error(ERR.BAD_REQUEST, 'tf must be a string', ref); return null; }
      const raw = typeof m.tf === 'string' && m.tf !== '' ? m.tf : this.baseSpec.label;
      const n = raw === this.baseSpec.label ? raw : normalizeTimeframe(raw);
      if (!n) { conn.error(ERR.BAD_TIMEFRAME, `invalid timeframe "${raw.slice(0, 20)}"`, ref); return null; }
      const spec = this.baseSpec;
      if (TRADE_TF.test(n) && n !== spec.label && this.tradeBars && (ch === 'bar' || ch === 'footprint')) {
        const bad = tradeTfError(n, hub.inst);
        if (bad) { conn.error(ERR.BAD_TIMEFRAME, bad, ref); return null; }
        tf = n; mode = 'trades';
      } else {
      const sup = BarTopic.support({ kind: spec.kind, label: spec.label, ms: spec.kind === 'time' ? spec.ms : undefined }, n);
      if (sup !== 'base' && sup !== 'derived') { conn.error(ERR.BAD_TIMEFRAME, sup, ref); return null; }
      tf = sup === 'base' ? spec.label : n;
      mode = sup;
      }
    }
    for (const k of ['limit', 'depth'] as const) {
      if (m[k] !== undefined && m[k] !== null && (typeof m[k] !== 'number' || !Number.isFinite(m[k]) || (m[k] as number) < 0)) {
        conn.error(ERR.BAD_REQUEST, `${k} must be a non-negative number`, ref); return null;
      }
    }
    const depth = ch === 'orderbook' ? Math.max(1, Math.min(SNAPSHOT_LIMITS.orderbook.max, Math.floor((m.depth as number | undefined) ?? SNAPSHOT_LIMITS.orderbook.def))) : 0;
    let view: FootprintView | null = null;
    let valueArea: number | null = null;
    if (ch === 'profile' && m.valueArea !== undefined && m.valueArea !== null) {
      if (typeof m.valueArea !== 'number' || !(m.valueArea > 0 && m.valueArea <= 1)) { conn.error(ERR.BAD_REQUEST, 'valueArea must be a number in (0, 1]', ref); return null; }
      valueArea = m.valueArea;
    }
    if (ch === 'footprint') {
      const v = this.footprintView(hub, m);
      if (typeof v === 'string') { conn.error(ERR.BAD_REQUEST, v, ref); return null; }
      view = v;
    }
    return { ch, hub, tf, mode, depth, view, valueArea };
  }

  /** A footprint subscription's row size and imbalance options (null: the server's config), or an error text. */
  private footprintView(hub: SymbolHub, m: Record<string, unknown>): FootprintView | null | string {
    const { rowSize, imbalanceRatio: ratio, imbalanceCompare: compare, minVolume } = m;
    const num = (x: unknown): boolean => x === undefined || x === null || (typeof x === 'number' && Number.isFinite(x));
    if (!num(rowSize) || !num(ratio) || !num(minVolume)) return 'rowSize, imbalanceRatio and minVolume must be numbers';
    if (compare !== undefined && compare !== null && compare !== 'diagonal' && compare !== 'horizontal') return 'imbalanceCompare must be "diagonal" or "horizontal"';
    const imbalance: FootprintView['imbalance'] = {};
    if (typeof ratio === 'number') { if (ratio < 1 || ratio > 100) return 'imbalanceRatio must be in 1..100'; imbalance.ratio = ratio; }
    if (compare === 'diagonal' || compare === 'horizontal') imbalance.compare = compare;
    if (typeof minVolume === 'number') { if (minVolume < 0 || minVolume > 1e12) return 'minVolume must be in 0..1e12'; imbalance.minDominant = hub.inst.qty.fromNumber(minVolume); }
    let k = 1;
    if (typeof rowSize === 'number') {
      const base = hub.pipeline?.opts.footprintRowTicks ?? hub.inst.footprintRowTicks;
      k = Math.round(hub.inst.price.fromNumber(rowSize) / base);
      if (!(k >= 1 && k <= 10_000) || Math.abs(hub.inst.price.toNumber(k * base) - rowSize) > 1e-9 * Math.max(1, rowSize)) return `rowSize must be a whole multiple of the footprint row ${hub.inst.price.toNumber(base)} (at most 10000 ×), got ${rowSize}`;
    }
    return k === 1 && Object.keys(imbalance).length === 0 ? null : { k, imbalance };
  }

  private keyOf(k: { ch: Channel; hub: SymbolHub; tf: string; depth: number; view?: FootprintView | null; valueArea?: number | null }): string {
    const v = (k.view ? `|k${k.view.k}|${k.view.imbalance.ratio ?? ''}|${k.view.imbalance.compare ?? ''}|${k.view.imbalance.minDominant ?? ''}` : '') + (k.valueArea ? `|va${k.valueArea}` : '');
    return `${k.ch}|${k.hub.inst.id}|${k.ch === 'orderbook' ? k.depth : k.tf}${v}`;
  }

  private topicFor(ch: Channel, hub: SymbolHub, tf: string, mode: string, depth: number, view: FootprintView | null = null, valueArea: number | null = null): Topic {
    const key = this.keyOf({ ch, hub, tf, depth, view, valueArea });
    let t = this.topics.get(key);
    if (t) return t;
    const iv = this.o.intervals[ch];
    switch (ch) {
      case 'bar': case 'footprint': case 'delta': t = mode === 'trades' && ch !== 'delta' && this.tradeBars
        ? new TradeBarTopic(key, ch, hub, tf, iv, encode, countRuleOf(tf, hub.inst)!, this.tradeBars, view)
        : new BarTopic(key, ch, hub, tf, iv, encode, mode === 'derived', view); break;
      case 'tick': t = new TickTopic(key, hub, iv, encode); break;
      case 'vwap': t = new VwapTopic(key, ch, hub, '', iv, encode); break;
      case 'profile': t = new ProfileTopic(key, hub, iv, encode, valueArea); break;
      case 'stats': t = new StatsTopic(key, ch, hub, '', iv, encode); break;
      case 'orderbook': t = new BookTopic(key, hub, iv, encode, depth); break;
      case 'feeds': t = new FeedsTopic(key, hub, iv, encode, this.feedsSource); break;
      default: t = new PublishedTopic(key, ch, hub, '', iv, encode);
    }
    this.topics.set(key, t);
    hub.topics.add(t);
    return t;
  }

  private subscribe(conn: Conn, m: Record<string, unknown>, ref: unknown): void {
    const k = this.resolveKey(conn, m, ref);
    if (!k) return;
    // no replacement: a second subscription to the same key (a study on the main series' key, a second
    // chart) is a new, independent subscription with its own id, snapshot and updates
    if (conn.subs.size >= this.o.maxSubscriptions) return conn.error(ERR.TOO_MANY_SUBSCRIPTIONS, `at most ${this.o.maxSubscriptions} subscriptions per connection`, ref);
    const topic = this.topicFor(k.ch, k.hub, k.tf, k.mode, k.depth, k.view, k.valueArea);
    const sub = new Sub(++this.subIds, conn, topic, topic.key);
    const limit = typeof m.limit === 'number' ? m.limit : undefined;
    let d: unknown;
    try { d = topic.snapshot({ limit, depth: k.depth }, sub); } catch (e) {
      this.log?.error('ws: snapshot failed', { topic: topic.key, err: String(e) });
      this.gc(topic);
      return conn.error(ERR.INTERNAL, 'snapshot failed', ref, false);
    }
    conn.subs.set(sub.id, sub);
    let same = conn.byKey.get(topic.key);
    if (!same) { same = new Set(); conn.byKey.set(topic.key, same); }
    same.add(sub);
    topic.subs.add(sub);
    conn.control({ v: PROTOCOL_VERSION, op: 'snapshot', ref, sub: sub.id, seq: 0, ch: k.ch, sym: k.hub.inst.id, tf: k.ch === 'orderbook' ? String(k.depth) : k.tf, d });
  }

  /** By `sub`: that subscription. By (ch, sym, tf): every subscription of this connection to that key. */
  private unsubscribe(conn: Conn, m: Record<string, unknown>, ref: unknown): void {
    let subs: Sub[];
    if (m.sub !== undefined) {
      if (typeof m.sub !== 'number') return conn.error(ERR.BAD_REQUEST, 'sub must be a number', ref);
      const s = conn.subs.get(m.sub);
      subs = s ? [s] : [];
    } else {
      const k = this.resolveKey(conn, m, ref);
      if (!k) return;
      subs = [...(conn.byKey.get(this.keyOf(k)) ?? [])];
    }
    if (subs.length === 0) return conn.error(ERR.NOT_SUBSCRIBED, 'no such subscription', ref, false);
    for (const s of subs) {
      this.removeSub(conn, s);
      conn.control({ v: PROTOCOL_VERSION, op: 'unsubscribed', ref, sub: s.id });
    }
  }

  private removeSub(conn: Conn, sub: Sub): void {
    conn.subs.delete(sub.id);
    const same = conn.byKey.get(sub.key);
    if (same) { same.delete(sub); if (same.size === 0) conn.byKey.delete(sub.key); }
    this.detach(sub);
  }

  /** Detach a subscription from its topic (and drop the topic when unused). */
  detach(sub: Sub): void {
    sub.closed = true;
    sub.topic.subs.delete(sub);
    this.gc(sub.topic);
  }

  private gc(t: Topic): void {
    if (t.subs.size > 0 || t instanceof PublishedTopic) return;
    this.topics.delete(t.key);
    t.hub.topics.delete(t);
  }
}

export function createStreamServer(opts: StreamServerOptions): StreamServer {
  return new StreamServer(opts);
}

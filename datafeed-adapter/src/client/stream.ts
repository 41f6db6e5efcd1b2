/**
 * StreamClient: the browser side of the TapeFlow stream protocol (msgpack over WebSocket, v1).
 * Subscriptions survive reconnects: after a drop the client reconnects with jittered exponential
 * backoff, says hello (with the token), resubscribes everything and hands the fresh snapshot to
 * `onSnapshot` with `resync: true`. A sequence gap (never expected) triggers a resubscribe too.
 * Dead servers are detected with application pings. No Node imports: bundles for the browser.
 */
import { Packr, Unpackr } from 'msgpackr';
import {
  CLOSE, PROTOCOL_VERSION,
  type Channel, type ChannelSnapshot, type ChannelUpdate, type ErrorMsg, type WelcomeMsg,
} from '../ws/protocol.js';

/** The subset of the WebSocket API we use (browser WebSocket and the `ws` package both fit). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export type StreamState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthorized';

export interface StreamClientOptions {
  /** ws:// or wss:// URL of the stream endpoint (e.g. ws://host:port/ws) */
  url: string;
  token?: string;
  /** WebSocket implementation (default globalThis.WebSocket) */
  WebSocket?: WebSocketCtor;
  /** reconnect backoff: delay = min(maxMs, minMs·2^attempt) × (0.5 … 1.0) */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** application ping period; no message for pingMs + pongTimeoutMs = dead connection */
  pingMs?: number;
  pongTimeoutMs?: number;
  /** client name sent in hello */
  client?: string;
  onState?: (s: StreamState, info?: { code?: number; reason?: string }) => void;
  onWelcome?: (w: WelcomeMsg) => void;
}

export interface SnapshotInfo { sub: number; ch: Channel; sym: string; tf: string; resync: boolean }

export interface StreamHandlers<C extends Channel> {
  onSnapshot(d: ChannelSnapshot[C], info: SnapshotInfo): void;
  onUpdate(d: ChannelUpdate[C], seq: number): void;
  onError?(e: ErrorMsg): void;
}

/** footprint view options (rowSize, imbalance*, minVolume): see SubscribeMsg in ws/protocol.ts */
export interface SubscribeOptions { tf?: string; limit?: number; depth?: number; rowSize?: number; imbalanceRatio?: number; imbalanceCompare?: 'diagonal' | 'horizontal'; minVolume?: number; valueArea?: number }

export interface StreamSubscription {
  readonly ch: Channel;
  readonly sym: string;
  unsubscribe(): void;
  /** ask for a fresh snapshot (e.g. after the consumer lost its state) */
  resync(): void;
}

interface Handle {
  id: number;
  ch: Channel;
  sym: string;
  opts: SubscribeOptions;
  h: StreamHandlers<Channel>;
  sub: number | null;
  seq: number;
  req: number;
  snapshots: number;
  failed: boolean;
}

const SHARED = new Map<string, { client: StreamClient; users: number }>();

const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export class StreamClient {
  readonly o: Required<Omit<StreamClientOptions, 'token' | 'onState' | 'onWelcome' | 'WebSocket'>> & Pick<StreamClientOptions, 'token' | 'onState' | 'onWelcome'>;
  state: StreamState = 'idle';
  /** successful (re)connections so far */
  connects = 0;
  /** sequence gaps detected (each one resubscribes) */
  gaps = 0;
  private ws: WebSocketLike | null = null;
  private readonly Ctor: WebSocketCtor;
  private readonly handles = new Map<number, Handle>();
  private readonly bySub = new Map<number, Handle>();
  private readonly byReq = new Map<number, Handle>();
  private ids = 0;
  private reqs = 0;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private lastRx = 0;
  private userClosed = false;
  private welcomed = false;
  private openWaiters: (() => void)[] = [];

  constructor(opts: StreamClientOptions) {
    this.o = {
      url: opts.url, token: opts.token, client: opts.client ?? 'tapeflow-client',
      backoffMinMs: opts.backoffMinMs ?? 250, backoffMaxMs: opts.backoffMaxMs ?? 15_000,
      pingMs: opts.pingMs ?? 15_000, pongTimeoutMs: opts.pongTimeoutMs ?? 10_000,
      onState: opts.onState, onWelcome: opts.onWelcome,
    };
    const C = opts.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!C) throw new Error('StreamClient: no WebSocket implementation (pass options.WebSocket)');
    this.Ctor = C;
  }

  /**
   * One client per (url, token) per page: every TapeFlowDatafeed, chart and indicator that asks for the
   * shared client gets the same socket; each of their subscriptions has its own server `sub` id, and
   * updates fan out locally by that id. Pair each call with `release()`; the socket closes when the last
   * user released it.
   */
  static shared(opts: StreamClientOptions): StreamClient {
    const key = `${opts.url}\u0000${opts.token ?? ''}`;
    let e = SHARED.get(key);
    if (!e || e.client.state === 'closed') { e = { client: new StreamClient(opts), users: 0 }; SHARED.set(key, e); e.client.sharedKey = key; }
    e.users++;
    return e.client;
  }

  private sharedKey: string | null = null;

  /** Give back a client obtained from `shared()` (closes it with its last user); other clients close. */
  release(): void {
    const e = this.sharedKey !== null ? SHARED.get(this.sharedKey) : undefined;
    if (e && e.client === this) {
      if (--e.users > 0) return;
      SHARED.delete(this.sharedKey!);
    }
    this.close();
  }

  /** Open the connection (idempotent); resolves once the server said welcome. */
  connect(): Promise<void> {
    this.userClosed = false;
    if (!this.ws && !this.timer) this.open();
    if (this.welcomed) return Promise.resolve();
    return new Promise((r) => this.openWaiters.push(r));
  }

  subscribe<C extends Channel>(ch: C, sym: string, handlers: StreamHandlers<C>, opts: SubscribeOptions = {}): StreamSubscription {
    const hd: Handle = { id: ++this.ids, ch, sym, opts, h: handlers as unknown as StreamHandlers<Channel>, sub: null, seq: 0, req: 0, snapshots: 0, failed: false };
    this.handles.set(hd.id, hd);
    if (this.welcomed) this.sendSubscribe(hd);
    else void this.connect();
    return {
      ch, sym,
      unsubscribe: () => this.unsubscribe(hd),
      resync: () => { if (this.welcomed && this.handles.has(hd.id)) this.sendSubscribe(hd); },
    };
  }

  /** Close for good (no reconnect). */
  close(): void {
    this.userClosed = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    this.stopPing();
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    if (ws) { ws.onclose = null; ws.onmessage = null; try { ws.close(CLOSE.NORMAL, 'client closed'); } catch { /* ignore */ } }
    this.setState('closed');
  }

  get subscriptions(): number { return this.handles.size; }

  // ---- internals ------------------------------------------------------------------------------

  private setState(s: StreamState, info?: { code?: number; reason?: string }): void {
    this.state = s;
    this.o.onState?.(s, info);
  }

  private open(): void {
    this.setState(this.connects > 0 ? 'reconnecting' : 'connecting');
    let ws: WebSocketLike;
    try { ws = new this.Ctor(this.o.url); } catch { this.scheduleReconnect(); return; }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.lastRx = Date.now();
      this.send({ v: PROTOCOL_VERSION, op: 'hello', id: ++this.reqs, client: this.o.client, ...(this.o.token ? { token: this.o.token } : {}) });
      this.startPing();
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onerror = () => { /* onclose follows */ };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.welcomed = false;
      this.stopPing();
      for (const hd of this.handles.values()) { hd.sub = null; hd.req = 0; }
      this.bySub.clear();
      this.byReq.clear();
      if (this.userClosed) return;
      if (ev.code === CLOSE.UNAUTHORIZED) { this.setState('unauthorized', { code: ev.code, reason: ev.reason }); return; }
      this.setState('reconnecting', { code: ev.code, reason: ev.reason });
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.userClosed || this.timer) return;
    const base = Math.min(this.o.backoffMaxMs, this.o.backoffMinMs * 2 ** Math.min(this.attempt, 16));
    const delay = base * (0.5 + Math.random() * 0.5);
    this.attempt++;
    this.timer = setTimeout(() => { this.timer = null; if (!this.userClosed) this.open(); }, delay);
  }

  private startPing(): void {
    this.stopPing();
    const period = Math.max(50, Math.min(this.o.pingMs, this.o.pongTimeoutMs));
    let lastPing = Date.now();
    this.pinger = setInterval(() => {
      const now = Date.now();
      if (now - this.lastRx > this.o.pingMs + this.o.pongTimeoutMs) {
        const ws = this.ws;
        // dead peer: drop the socket and reconnect without waiting for a close handshake
        if (ws) { ws.onclose?.({ code: 4009, reason: 'heartbeat timeout' }); try { ws.close(); } catch { /* ignore */ } }
        return;
      }
      if (now - lastPing >= this.o.pingMs) { lastPing = now; this.send({ v: PROTOCOL_VERSION, op: 'ping', t: now }); }
    }, period);
  }

  private stopPing(): void {
    if (this.pinger) { clearInterval(this.pinger); this.pinger = null; }
  }

  private send(msg: Record<string, unknown>): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return;
    ws.send(packr.pack(msg));
  }

  private sendSubscribe(hd: Handle): void {
    const req = ++this.reqs;
    if (hd.req) this.byReq.delete(hd.req);
    hd.req = req;
    this.byReq.set(req, hd);
    const m: Record<string, unknown> = { v: PROTOCOL_VERSION, op: 'subscribe', id: req, ch: hd.ch, sym: hd.sym };
    if (hd.opts.tf !== undefined) m.tf = hd.opts.tf;
    if (hd.opts.limit !== undefined) m.limit = hd.opts.limit;
    if (hd.opts.depth !== undefined) m.depth = hd.opts.depth;
    for (const k of ['rowSize', 'imbalanceRatio', 'imbalanceCompare', 'minVolume', 'valueArea'] as const) if (hd.opts[k] !== undefined) m[k] = hd.opts[k];
    this.send(m);
  }

  private unsubscribe(hd: Handle): void {
    if (!this.handles.delete(hd.id)) return;
    if (hd.req) this.byReq.delete(hd.req);
    if (hd.sub !== null) {
      this.bySub.delete(hd.sub);
      this.send({ v: PROTOCOL_VERSION, op: 'unsubscribe', sub: hd.sub });
    }
  }

  private onMessage(data: unknown): void {
    this.lastRx = Date.now();
    let m: Record<string, any>;
    try {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
      m = unpackr.unpack(bytes) as Record<string, any>;
    } catch { return; }
    if (!m || typeof m !== 'object') return;
    switch (m.op) {
      case 'welcome':
        if (m.authRequired && !m.authenticated) return; // waiting for auth; the server closes 4001 on a bad token
        this.welcomed = true;
        this.attempt = 0;
        this.connects++;
        this.setState('open');
        this.o.onWelcome?.(m as WelcomeMsg);
        for (const hd of this.handles.values()) if (!hd.failed) this.sendSubscribe(hd);
        for (const w of this.openWaiters.splice(0)) w();
        return;
      case 'snapshot': {
        const hd = this.byReq.get(m.ref);
        if (!hd) { if (typeof m.sub === 'number') this.send({ v: PROTOCOL_VERSION, op: 'unsubscribe', sub: m.sub }); return; }
        this.byReq.delete(m.ref);
        hd.req = 0;
        if (hd.sub !== null && hd.sub !== m.sub) {
          // a resync (gap or resync()) made a second server subscription: end the old one (the server multiplexes, never replaces)
          this.bySub.delete(hd.sub);
          this.send({ v: PROTOCOL_VERSION, op: 'unsubscribe', sub: hd.sub });
        }
        hd.sub = m.sub;
        hd.seq = 0;
        this.bySub.set(m.sub, hd);
        const resync = hd.snapshots > 0;
        hd.snapshots++;
        hd.h.onSnapshot(m.d, { sub: m.sub, ch: m.ch, sym: m.sym, tf: m.tf, resync });
        return;
      }
      case 'update': {
        const hd = this.bySub.get(m.sub);
        if (!hd) return;
        if (m.seq !== hd.seq + 1) { this.gaps++; this.sendSubscribe(hd); return; }
        hd.seq = m.seq;
        hd.h.onUpdate(m.d, m.seq);
        return;
      }
      case 'error': {
        const hd = typeof m.ref === 'number' ? this.byReq.get(m.ref) : undefined;
        if (hd) { this.byReq.delete(m.ref); hd.req = 0; hd.failed = true; hd.h.onError?.(m as ErrorMsg); }
        return;
      }
      default:
        return; // pong, unsubscribed
    }
  }
}

/**
 * One reconnecting WebSocket connection: jittered backoff between attempts, protocol pings with a
 * staleness timeout, an optional application ping (Bybit `{"op":"ping"}`), and an optional planned
 * reconnect after a maximum connection age (Binance closes every connection at 24 h).
 * State `open` means the venue is talking: it is set by the first message after the socket opened, not by
 * the handshake — a root that accepts the connection and then sends nothing stays `connecting`.
 */
import WebSocket from 'ws';
import type { Logger } from '../log.js';
import { Backoff, causeOf } from './util.js';
import type { ConnectionStatus, ConnState } from './types.js';

export interface WsConnOptions {
  name: string;
  url: () => string;
  backoff: Backoff;
  pingIntervalMs: number;
  staleMs: number;
  /**
   * stall: the socket is open (and may answer pings) but carries no data frame for this long — a pong is
   * not data. The connection reports the stall (onStall, from the last data frame) and reconnects; it
   * stays stalled until data flows again. 0 = off.
   */
  stallMs?: number;
  /** frames that only say the connection is alive (application pongs, heartbeats): not data for the stall check */
  isHeartbeat?(text: string): boolean;
  maxConnectionMs?: number;
  appPing?: { intervalMs: number; message: () => string };
  log: Logger;
  now: () => number;
  onOpen(conn: WsConn, reconnect: boolean): void;
  onMessage(text: string, recv: number, conn: WsConn): void;
  /** binary frames go here instead of onMessage when set (Kite Ticker packets); isHeartbeatBinary marks liveness-only ones */
  onBinary?(data: Uint8Array, recv: number, conn: WsConn): void;
  isHeartbeatBinary?(data: Uint8Array): boolean;
  /** the connection went down (not called on stop) */
  onDown(reason: string, conn: WsConn): void;
  onState?(conn: WsConn): void;
  /** no data frame since `since` (local ms) although the socket is open */
  onStall?(since: number, conn: WsConn): void;
  /** data flows again after a stall that began at `since` */
  onStallEnd?(since: number, conn: WsConn): void;
}

export class WsConn {
  state: ConnState = 'idle';
  since: number;
  attempts = 0;
  opens = 0;
  lastMessageAt: number | null = null;
  /** last data frame (pongs excluded) */
  lastDataAt: number | null = null;
  /** local ms since which no data has come (null when not stalled) */
  stalledSince: number | null = null;
  lastError: string | null = null;
  private ws: WebSocket | null = null;
  private timers: NodeJS.Timeout[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private retryAt = 0;
  private stopped = false;
  private planned = false;
  private gotMessage = false;
  /** the current socket completed its handshake (subscriptions sent) */
  private socketUp = false;
  url = '';

  constructor(readonly o: WsConnOptions) {
    this.since = o.now();
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private setState(s: ConnState): void {
    if (this.state === s) return;
    this.state = s;
    this.since = this.o.now();
    this.o.onState?.(this);
  }

  private connect(): void {
    if (this.stopped) return;
    const full = this.o.url();
    // credentials in the query (Kite api_key/access_token) never reach a log line or /health
    this.url = full.replace(/([?&](?:access_token|api_key|token|key|secret)=)[^&]*/gi, '$1***');
    this.setState('connecting');
    this.gotMessage = false;
    this.socketUp = false;
    let ws: WebSocket;
    try {
      ws = new WebSocket(full, { handshakeTimeout: 10_000, perMessageDeflate: false });
    } catch (e) {
      this.lastError = (e as Error).message;
      this.scheduleRetry(this.lastError);
      return;
    }
    this.ws = ws;
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.attempts = 0;
      this.lastError = null;
      const reconnect = this.opens > 0;
      this.opens++;
      this.lastMessageAt = this.o.now();
      // a stall goes on through reconnects until data flows; otherwise the quiet time counts from the open
      if (this.stalledSince === null) this.lastDataAt = this.lastMessageAt;
      this.socketUp = true;
      if (reconnect) this.o.log.info(`${this.o.name}: reconnected to ${this.url}`);
      else this.o.log.info(`${this.o.name}: connected to ${this.url}`);
      this.timers.push(setInterval(() => this.checkLiveness(), this.o.pingIntervalMs));
      const stallMs = this.o.stallMs ?? 0;
      if (stallMs > 0) this.timers.push(setInterval(() => this.checkStall(ws), Math.max(20, Math.min(1000, stallMs / 4))));
      if (this.o.appPing) {
        const ap = this.o.appPing;
        this.timers.push(setInterval(() => this.send(ap.message()), ap.intervalMs));
      }
      if (this.o.maxConnectionMs && this.o.maxConnectionMs > 0) {
        this.timers.push(setTimeout(() => { this.planned = true; this.drop(`planned reconnect after ${this.o.maxConnectionMs} ms`); }, this.o.maxConnectionMs));
      }
      this.o.onOpen(this, reconnect);
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (this.ws !== ws) return;
      const recv = this.o.now();
      this.lastMessageAt = recv;
      const bin = isBinary && this.o.onBinary ? (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)) : undefined;
      const text = bin ? '' : isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      if (bin ? !this.o.isHeartbeatBinary?.(bin) : !this.o.isHeartbeat?.(text)) {
        this.lastDataAt = recv;
        if (this.stalledSince !== null) { const since = this.stalledSince; this.stalledSince = null; this.o.onStallEnd?.(since, this); }
      }
      if (!this.gotMessage) { this.gotMessage = true; this.o.backoff.reset(); this.setState('open'); }
      if (bin) this.o.onBinary!(bin, recv, this);
      else this.o.onMessage(text, recv, this);
    });
    ws.on('pong', () => { if (this.ws === ws) this.lastMessageAt = this.o.now(); });
    ws.on('error', (e: Error) => { if (this.ws === ws) this.lastError = causeOf(e) || e.message; });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearTimers();
      if (this.stopped) { this.setState('stopped'); return; }
      const why = this.lastError ?? `closed (${code}${reason.length ? ' ' + reason.toString() : ''})`;
      const wasUp = this.socketUp;
      this.socketUp = false;
      if (wasUp) this.o.onDown(why, this);
      if (this.planned) {
        this.planned = false;
        this.connect();
        return;
      }
      this.scheduleRetry(why);
    });
  }

  private scheduleRetry(why: string): void {
    if (this.stopped) return;
    this.attempts++;
    const d = this.o.backoff.next();
    this.retryAt = this.o.now() + d;
    this.setState('backoff');
    this.o.log.warn(`${this.o.name}: no connection to ${this.url}: ${why}; retrying in ${(d / 1000).toFixed(1)} s (attempt ${this.attempts}); still serving what we have`);
    this.retryTimer = setTimeout(() => { this.retryTimer = null; this.connect(); }, d);
  }

  private checkLiveness(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const idle = this.o.now() - (this.lastMessageAt ?? 0);
    if (idle > this.o.staleMs) {
      this.lastError = `no data for ${idle} ms`;
      ws.terminate();
      return;
    }
    try { ws.ping(); } catch { /* closing */ }
  }

  /** Open and maybe answering pings, but no data frame for stallMs: report it (from the last data frame) and reconnect. */
  private checkStall(ws: WebSocket): void {
    if (this.ws !== ws || ws.readyState !== WebSocket.OPEN || this.lastDataAt === null) return;
    const quiet = this.o.now() - this.lastDataAt;
    if (quiet <= (this.o.stallMs ?? 0)) return;
    if (this.stalledSince === null) {
      this.stalledSince = this.lastDataAt;
      this.o.log.warn(`${this.o.name}: stalled: no data for ${quiet} ms on ${this.url} although the socket is open; reconnecting`);
      this.o.onStall?.(this.stalledSince, this);
    }
    this.drop(`stalled: no data for ${quiet} ms`);
  }

  send(text: string): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(text);
    return true;
  }

  /** Close the current socket; it reconnects (after backoff unless planned). */
  drop(reason: string): void {
    this.lastError = reason;
    this.ws?.terminate();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; }
    this.clearTimers();
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { ws.terminate(); resolve(); }, 1000);
        ws.once('close', () => { clearTimeout(t); resolve(); });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'stop');
      });
    }
    this.ws = null;
    this.setState('stopped');
  }

  status(): ConnectionStatus {
    return {
      url: this.url, state: this.state, since: this.since, lastMessageAt: this.lastMessageAt, attempts: this.attempts,
      lastError: this.lastError, retryInMs: this.state === 'backoff' ? Math.max(0, this.retryAt - this.o.now()) : null,
      lastDataAt: this.lastDataAt, stalledSince: this.stalledSince,
    };
  }
}

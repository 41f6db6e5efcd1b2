/**
 * Loopback venue doubles for tests and benchmarks: one HTTP server on 127.0.0.1 (ephemeral port) that
 * answers REST routes and accepts WebSocket upgrades. Scripts drive it: send frames to the connected
 * clients, drop connections, refuse new ones, delay REST answers. Never contacts anything off-host.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export interface RestReply { status?: number; body: unknown; headers?: Record<string, string>; delayMs?: number }
export type RestRoute = (url: URL, req: IncomingMessage) => RestReply | Promise<RestReply>;

export class FakeVenue extends EventEmitter {
  readonly routes = new Map<string, RestRoute>();
  readonly requests: string[] = [];
  readonly sockets = new Set<WebSocket>();
  /** WebSocket request paths (with query) of every accepted connection */
  readonly connectionUrls: string[] = [];
  /** JSON messages received from clients */
  readonly received: unknown[] = [];
  refuse = false;
  /** answer `{"op":"ping"}` like Bybit */
  bybitPong = true;
  /**
   * Binance USD-M routing since the 2026-03-06 notice: `send()` delivers depth/bookTicker frames only to
   * connections on `/public…`, trade/markPrice/kline frames only to `/market…`, and nothing to any other
   * path (the retired combined root). Raw text (malformed-frame tests) goes to `/market…` only.
   */
  binanceRouting = false;
  /** text `ping` frames received (OKX), each answered with `pong` */
  textPings = 0;
  private readonly paths = new Map<WebSocket, string>();
  private constructor(readonly http: Server, readonly wss: WebSocketServer, readonly port: number) { super(); }

  static async start(port = 0): Promise<FakeVenue> {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve, reject) => { http.once('error', reject); http.listen(port, '127.0.0.1', () => resolve()); });
    const v = new FakeVenue(http, wss, (http.address() as AddressInfo).port);
    http.on('request', (req, res) => void v.handle(req, res));
    http.on('upgrade', (req, socket, head) => {
      if (v.refuse) { socket.write('HTTP/1.1 503 Service Unavailable\r\n\r\n'); socket.destroy(); return; }
      wss.handleUpgrade(req, socket, head, (ws) => {
        v.sockets.add(ws);
        v.paths.set(ws, req.url ?? '/');
        v.connectionUrls.push(req.url ?? '/');
        ws.on('close', () => { v.sockets.delete(ws); v.paths.delete(ws); });
        ws.on('message', (data) => {
          const text = data.toString();
          if (text === 'ping') { v.textPings++; ws.send('pong'); v.emit('tick'); return; } // OKX text ping
          let o: unknown;
          try { o = JSON.parse(text); } catch { return; }
          v.received.push(o);
          const m = o as { op?: string; req_id?: string };
          if (v.bybitPong && m.op === 'ping') ws.send(JSON.stringify({ success: true, ret_msg: 'pong', op: 'ping', req_id: m.req_id }));
          if ((o as { method?: string }).method === 'ping') ws.send(JSON.stringify({ channel: 'pong' })); // Hyperliquid
          v.emit('message', o, ws);
        });
        v.emit('connection', ws, req.url ?? '/');
      });
    });
    return v;
  }

  get wsBase(): string { return `ws://127.0.0.1:${this.port}`; }
  get restUrl(): string { return `http://127.0.0.1:${this.port}`; }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.restUrl);
    this.requests.push(url.pathname + url.search);
    this.emit('request', url);
    const route = this.routes.get(url.pathname);
    let reply: RestReply;
    try {
      reply = route ? await route(url, req) : { status: 404, body: { error: 'no route' } };
    } catch (e) {
      reply = { status: 500, body: { error: (e as Error).message } };
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
    res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }

  /** Send a frame (object → JSON, string as is) to every open client, or to one. */
  send(frame: unknown, to?: WebSocket): void {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    for (const ws of to ? [to] : this.sockets) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (!to && this.binanceRouting && !binanceRouted(this.paths.get(ws) ?? '/', frame)) continue;
      ws.send(text);
    }
  }

  /** Paths of the currently open connections. */
  openPaths(): string[] { return [...this.sockets].map((ws) => this.paths.get(ws) ?? '/'); }

  /** Terminate every client connection (clients see an abnormal close). */
  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Resolves with the n-th accepted connection (1-based, counting all so far). */
  connection(n: number, timeoutMs = 10_000): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.connectionUrls.length >= n) {
          const open = [...this.sockets];
          if (open.length) { resolve(open[open.length - 1]!); return true; }
        }
        return false;
      };
      if (check()) return;
      const t = setTimeout(() => { this.off('connection', on); reject(new Error(`timeout waiting for connection #${n} (have ${this.connectionUrls.length})`)); }, timeoutMs);
      const on = (): void => { if (check()) { clearTimeout(t); this.off('connection', on); } };
      this.on('connection', on);
    });
  }

  /** Resolves with the first client message (from now on) that matches. */
  message(pred: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.off('message', on); reject(new Error('timeout waiting for a client message')); }, timeoutMs);
      const on = (m: Record<string, unknown>): void => { if (pred(m)) { clearTimeout(t); this.off('message', on); resolve(m); } };
      this.on('message', on);
    });
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/** Whether the split Binance venue pushes `frame` on a connection to `path` (see FakeVenue.binanceRouting). */
export function binanceRouted(path: string, frame: unknown): boolean {
  const route = /^\/public[/?]/.test(path) ? 'public' : /^\/market[/?]/.test(path) ? 'market' : 'root';
  if (route === 'root') return false;
  if (typeof frame !== 'object' || frame === null) return route === 'market'; // raw text (malformed-frame tests): one route
  const o = frame as { stream?: unknown; data?: { e?: unknown }; e?: unknown };
  const e = (o.data && typeof o.data === 'object' ? o.data.e : o.e) ?? (typeof o.stream === 'string' && o.stream.endsWith('@bookTicker') ? 'bookTicker' : undefined);
  const isPublic = e === 'depthUpdate' || e === 'bookTicker';
  return route === 'public' ? isPublic : !isPublic;
}

const WAKE = ['frame', 'snapshot', 'backfill', 'open', 'down', 'gap', 'state', 'malformed', 'request', 'connection', 'message', 'tick'];

/**
 * Resolve when `cond()` holds, re-checking whenever one of the emitters reports progress (feeds emit
 * frame/snapshot/backfill/open/down/gap/state; FakeVenue emits request/connection/message). Rejects after
 * `timeoutMs` with `what`.
 */
export function waitFor(cond: () => boolean, emitters: EventEmitter[], timeoutMs = 10_000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (cond()) { resolve(); return; }
    const offAll = (): void => { for (const e of emitters) for (const n of WAKE) e.off(n, check); };
    const t = setTimeout(() => { offAll(); reject(new Error(`timeout after ${timeoutMs} ms waiting for ${what}`)); }, timeoutMs);
    function check(): void {
      let ok = false;
      try { ok = cond(); } catch (e) { clearTimeout(t); offAll(); reject(e as Error); return; }
      if (ok) { clearTimeout(t); offAll(); setImmediate(resolve); }
    }
    for (const e of emitters) for (const n of WAKE) e.on(n, check);
  });
}

/** A free loopback port (bound and released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

// ---- frame builders in the venues' documented formats ----

export const binance = {
  aggTrade(s: string, a: number, p: string, q: string, T: number, m: boolean): unknown {
    return { stream: `${s.toLowerCase()}@aggTrade`, data: { e: 'aggTrade', E: T, s, a, p, q, f: a, l: a, T, m } };
  },
  /** futures diff (spot: pass pu undefined) */
  depth(s: string, U: number, u: number, pu: number | undefined, b: [string, string][], a: [string, string][], T: number): unknown {
    const data: Record<string, unknown> = { e: 'depthUpdate', E: T, T, s, U, u, b, a };
    if (pu !== undefined) data.pu = pu;
    return { stream: `${s.toLowerCase()}@depth@100ms`, data };
  },
  bookTicker(s: string, u: number, b: string, B: string, a: string, A: string, T: number): unknown {
    return { stream: `${s.toLowerCase()}@bookTicker`, data: { e: 'bookTicker', u, s, b, B, a, A, T, E: T } };
  },
  snapshot(lastUpdateId: number, bids: [string, string][], asks: [string, string][], T: number): unknown {
    return { lastUpdateId, E: T, T, bids, asks };
  },
  restAggTrade(a: number, p: string, q: string, T: number, m: boolean): unknown {
    return { a, p, q, f: a, l: a, T, m };
  },
  exchangeInfo(symbols: { symbol: string; base: string; quote: string; tick: string; step: string; contractType?: string }[]): unknown {
    return {
      timezone: 'UTC', symbols: symbols.map((s) => ({
        symbol: s.symbol, pair: s.symbol, contractType: s.contractType ?? 'PERPETUAL', status: 'TRADING', baseAsset: s.base, quoteAsset: s.quote,
        filters: [{ filterType: 'PRICE_FILTER', tickSize: s.tick, minPrice: s.tick, maxPrice: '1000000' }, { filterType: 'LOT_SIZE', stepSize: s.step, minQty: s.step, maxQty: '1000' }],
      })),
    };
  },
};

export const bybit = {
  trades(s: string, ts: number, rows: { i: string; T: number; p: string; v: string; S: 'Buy' | 'Sell' }[]): unknown {
    return { topic: `publicTrade.${s}`, type: 'snapshot', ts, data: rows.map((r) => ({ ...r, s, BT: false })) };
  },
  book(s: string, depth: number, type: 'snapshot' | 'delta', u: number, b: [string, string][], a: [string, string][], ts: number, seq = u * 10): unknown {
    return { topic: `orderbook.${depth}.${s}`, type, ts, data: { s, b, a, u, seq }, cts: ts };
  },
};

export const coinbase = {
  trades(seq: number, type: 'snapshot' | 'update', rows: { trade_id: string; product_id: string; price: string; size: string; side: 'BUY' | 'SELL'; time: string }[]): unknown {
    return { channel: 'market_trades', client_id: '', timestamp: rows[0]?.time ?? new Date(0).toISOString(), sequence_num: seq, events: [{ type, trades: rows }] };
  },
  l2(seq: number, type: 'snapshot' | 'update', product: string, time: string, updates: { side: 'bid' | 'offer'; price_level: string; new_quantity: string }[]): unknown {
    return { channel: 'l2_data', client_id: '', timestamp: time, sequence_num: seq, events: [{ type, product_id: product, updates: updates.map((u) => ({ ...u, event_time: time })) }] };
  },
  heartbeat(seq: number, counter: number, time: string): unknown {
    return { channel: 'heartbeats', client_id: '', timestamp: time, sequence_num: seq, events: [{ current_time: time, heartbeat_counter: counter }] };
  },
};

/** CRC-32 (IEEE), bit by bit, as a signed 32-bit integer: the loopback OKX venue's own implementation. */
function crc32Bitwise(s: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < s.length; i++) {
    c ^= s.charCodeAt(i);
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c | 0;
}

type OkxLevel = [string, string];

export const okx = {
  /** OKX checksum of a book given best-first bids and asks: top 25, bid then ask per rank, `px:sz` joined by `:` */
  checksum(bids: OkxLevel[], asks: OkxLevel[]): number {
    const parts: string[] = [];
    for (let i = 0; i < 25; i++) {
      if (bids[i]) parts.push(`${bids[i]![0]}:${bids[i]![1]}`);
      if (asks[i]) parts.push(`${asks[i]![0]}:${asks[i]![1]}`);
    }
    return crc32Bitwise(parts.join(':'));
  },
  trades(instId: string, rows: { tradeId: string; px: string; sz: string; side: 'buy' | 'sell'; ts: number }[]): unknown {
    return { arg: { channel: 'trades', instId }, data: rows.map((r) => ({ instId, tradeId: r.tradeId, px: r.px, sz: r.sz, side: r.side, ts: String(r.ts), count: '1' })) };
  },
  /** a books push; `checksum` is the venue's value for the book after this message */
  book(instId: string, action: 'snapshot' | 'update', seqId: number, prevSeqId: number, bids: OkxLevel[], asks: OkxLevel[], ts: number, checksum: number): unknown {
    const lv = (ls: OkxLevel[]): string[][] => ls.map(([p, q]) => [p, q, '0', '1']);
    return { arg: { channel: 'books', instId }, action, data: [{ asks: lv(asks), bids: lv(bids), ts: String(ts), checksum, prevSeqId, seqId }] };
  },
  bbo(instId: string, bid: OkxLevel, ask: OkxLevel, ts: number, seqId: number): unknown {
    return { arg: { channel: 'bbo-tbt', instId }, data: [{ asks: [[ask[0], ask[1], '0', '1']], bids: [[bid[0], bid[1], '0', '1']], ts: String(ts), seqId }] };
  },
};

export const hyperliquid = {
  trades(coin: string, rows: { tid: number; px: string; sz: string; side: 'B' | 'A'; time: number }[]): unknown {
    return { channel: 'trades', data: rows.map((r) => ({ coin, side: r.side, px: r.px, sz: r.sz, time: r.time, hash: '0x' + r.tid.toString(16).padStart(64, '0'), tid: r.tid })) };
  },
  l2Book(coin: string, time: number, bids: [string, string][], asks: [string, string][]): unknown {
    const lv = (ls: [string, string][]): { px: string; sz: string; n: number }[] => ls.map(([px, sz]) => ({ px, sz, n: 1 }));
    return { channel: 'l2Book', data: { coin, time, levels: [lv(bids), lv(asks)] } };
  },
};

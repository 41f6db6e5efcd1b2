/**
 * Shared helpers for the stream-server tests (unit and browser): a real engine + StreamServer on an
 * ephemeral loopback port, a msgpack `ws` test client that records every message, and a generated tape.
 */
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';
import { Engine } from '../../engine/src/analytics/engine.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { newTrade, type Trade } from '../../engine/src/core/events.js';
import { mulberry32 } from '../../engine/src/sim/prng.js';
import type { PipelineOptions } from '../../engine/src/analytics/pipeline.js';
import { createStreamServer, type StreamServer, type StreamServerOptions } from '../../datafeed-adapter/src/ws/server.js';
import { decode, encode } from '../../datafeed-adapter/src/ws/frames.js';

export interface Started { engine: Engine; server: StreamServer; url: string; port: number }

export async function startStream(opts: Partial<StreamServerOptions> = {}, pipeline: Partial<PipelineOptions> = { timeframe: '1m', keepBars: 5000 }): Promise<Started> {
  const engine = opts.engine ?? new Engine(new InstrumentRegistry(), pipeline);
  const server = createStreamServer({ ...opts, engine });
  const { url, port } = await server.listen(0, '127.0.0.1');
  return { engine, server, url, port };
}

/**
 * For a test file (call at module level): `start` a stream server and open `client`s in a test; all of
 * them are closed after each test.
 */
export function streamPerTest(): { start: typeof startStream; client: (url: string) => Promise<TestClient> } {
  let started: Started | null = null;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await started?.server.close();
    started = null;
  });
  return {
    start: async (opts, pipeline) => (started = await startStream(opts, pipeline)),
    client: async (url) => { const c = await TestClient.open(url); clients.push(c); return c; },
  };
}

export type Msg = Record<string, any>;

export class TestClient {
  readonly ws: WebSocket;
  readonly msgs: Msg[] = [];
  readonly times: number[] = [];
  closeCode: number | null = null;
  closeReason = '';
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = 'nodebuffer';
    this.opened = new Promise((resolve, reject) => { this.ws.once('open', () => resolve()); this.ws.once('error', reject); });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => { this.closeCode = code; this.closeReason = reason.toString(); this.wake(); resolve({ code, reason: reason.toString() }); }));
    this.ws.on('error', () => {});
    this.ws.on('message', (data: Buffer) => {
      this.msgs.push(decode(data) as Msg);
      this.times.push(performance.now());
      this.wake();
    });
  }

  static async open(url: string): Promise<TestClient> {
    const c = new TestClient(url);
    await c.opened;
    return c;
  }

  private wake(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  send(msg: Msg): void { this.ws.send(encode(msg)); }
  sendRaw(buf: Uint8Array | string, binary = true): void { this.ws.send(buf, { binary }); }

  /** Wait for the first message (from index `from`) matching `pred`. */
  async next(pred: (m: Msg) => boolean, timeoutMs = 5000, from = 0): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    let i = from;
    for (;;) {
      for (; i < this.msgs.length; i++) if (pred(this.msgs[i])) return this.msgs[i];
      if (this.closeCode !== null) throw new Error(`closed (${this.closeCode} ${this.closeReason}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for message; got ${this.msgs.length}: ${JSON.stringify(this.msgs.slice(-3)).slice(0, 400)}`);
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  async subscribe(ch: string, sym: string, tf?: string, extra: Msg = {}): Promise<Msg> {
    const id = Math.floor(Math.random() * 1e9);
    this.send({ v: 1, op: 'subscribe', id, ch, sym, ...(tf !== undefined ? { tf } : {}), ...extra });
    return this.next((m) => m.ref === id && (m.op === 'snapshot' || m.op === 'error'));
  }

  updates(sub: number): Msg[] { return this.msgs.filter((m) => m.op === 'update' && m.sub === sub); }

  close(): void { this.ws.terminate(); }
}

/** A random-walk tape with flagged sides: `n` trades from `start`, `stepMs` apart, prices in ticks. */
export function tape(n: number, o: { instrument?: string; start?: number; stepMs?: number; price?: number; seed?: number } = {}): Trade[] {
  const r = mulberry32(o.seed ?? 7);
  let ts = o.start ?? Date.UTC(2024, 7, 8, 0, 0);
  let p = o.price ?? 600_000;
  const out: Trade[] = [];
  for (let i = 0; i < n; i++) {
    ts += o.stepMs ?? 100;
    p += Math.floor(r() * 7) - 3;
    const t = newTrade(o.instrument ?? 'BTCUSDT');
    t.ts = ts; t.id = i + 1; t.price = p; t.size = 1 + Math.floor(r() * 50);
    t.side = r() < 0.5 ? 'buy' : 'sell'; t.sideSource = 'flag';
    out.push(t);
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Feed `trades` into the engine at `perTick` trades every `everyMs` (a live-ish tape). */
export function feed(engine: Engine, trades: Trade[], perTick: number, everyMs: number): { done: Promise<void>; stop: () => void } {
  let i = 0;
  let stop = false;
  const done = new Promise<void>((resolve) => {
    const step = (): void => {
      if (stop || i >= trades.length) { resolve(); return; }
      const end = Math.min(trades.length, i + perTick);
      for (; i < end; i++) engine.onEvent(trades[i]);
      setTimeout(step, everyMs);
    };
    step();
  });
  return { done, stop: () => { stop = true; } };
}

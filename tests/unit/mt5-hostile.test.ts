/**
 * Issue 14 §4 and issue 18's server-side defects against the real bridge server over TCP (127.0.0.1):
 * pre-auth connection and line caps with their memory bound, rate-limited reject logs, a ticks line
 * with one malformed tick rejected whole (error naming the tick) and its resend accepted with
 * exactly-once id accounting, the broker's tick size honoured, two brokers never interleaved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import type { MarketEvent, Quote } from '../../engine/src/core/events.js';
import { createLogger } from '../../engine/src/log.js';
import { BridgeServer, type BridgeServerOptions } from '../../mt5-bridge/src/server.js';
import { MemoryTickSink } from '../../mt5-bridge/src/sink.js';
import { computeMac, type ServerMsg } from '../../mt5-bridge/src/protocol.js';

const SECRET = 'hostile-secret';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

async function rig(o: Partial<BridgeServerOptions> = {}): Promise<{ server: BridgeServer; sink: MemoryTickSink; live: MarketEvent[]; port: number; registry: InstrumentRegistry }> {
  const live: MarketEvent[] = [];
  const sink = new MemoryTickSink();
  const registry = o.registry ?? new InstrumentRegistry();
  const server = new BridgeServer({ secret: SECRET, sink, registry, onEvent: (e) => live.push(e), ackMs: 5, ...o });
  const port = await server.listen();
  cleanups.push(() => server.close());
  return { server, sink, live, port, registry };
}

interface Raw { sock: Socket; msgs: ServerMsg[]; closed: Promise<void>; s: number; send(m: Record<string, unknown>): void }
async function raw(port: number): Promise<Raw> {
  const sock = connect({ host: '127.0.0.1', port });
  const msgs: ServerMsg[] = [];
  let buf = '';
  sock.on('data', (b) => { buf += b.toString('utf8'); let i; while ((i = buf.indexOf('\n')) >= 0) { msgs.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); } });
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  await new Promise<void>((r, j) => { sock.once('connect', () => r()); sock.once('error', j); });
  cleanups.push(() => { sock.destroy(); });
  const c: Raw = { sock, msgs, closed, s: 1, send(m) { sock.write(JSON.stringify({ ...m, s: ++c.s }) + '\n'); } };
  return c;
}
async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) { if (Date.now() - t0 > ms) throw new Error('condition not reached'); await new Promise((r) => setTimeout(r, 5)); }
}
async function authed(port: number, term: Record<string, string>, syms: string[]): Promise<Raw> {
  const c = await raw(port);
  await until(() => c.msgs.length >= 1);
  const nonce = (c.msgs[0] as { nonce: string }).nonce;
  const sid = `sid-${term.company}`;
  c.sock.write(JSON.stringify({ t: 'hello', s: 1, proto: 1, sid, conn: 1, term, utc_off: 7200, syms, mac: computeMac(SECRET, nonce, sid, 1, 1) }) + '\n');
  await until(() => c.msgs.some((m) => m.t === 'welcome'));
  return c;
}
const rssMB = (): number => process.memoryUsage().rss / 2 ** 20;

describe('MT5 bridge before authentication', () => {
  it('at most maxPreAuth connections may be unauthenticated at once; the rest are refused at once', async () => {
    const r = await rig({ maxPreAuth: 32, helloTimeoutMs: 60_000 });
    const socks: Socket[] = [];
    for (let i = 0; i < 200; i++) { const s = connect({ host: '127.0.0.1', port: r.port }); s.on('error', () => {}); socks.push(s); }
    cleanups.push(() => { for (const s of socks) s.destroy(); });
    await until(() => r.server.stats.connections + r.server.stats.preAuthRefused >= 200, 10_000);
    expect(r.server.stats.connections).toBe(32);
    expect(r.server.stats.preAuthRefused).toBe(168);
    for (const s of socks) s.destroy();
    await new Promise((res) => setTimeout(res, 200));
    const ok = await authed(r.port, { company: 'C', server: 'S', login_h: 'h' }, []);
    expect(ok.msgs.some((m) => m.t === 'welcome')).toBe(true);
  }, 30_000);

  it('200 unauthenticated connections sending 1 MB without a newline: each is cut at the 8 KiB pre-auth line cap, RSS bounded', async () => {
    const r = await rig({ maxPreAuth: 32, preAuthMaxLine: 8192, helloTimeoutMs: 60_000 });
    const rss0 = rssMB();
    let peakBuffered = 0;
    const probe = setInterval(() => { peakBuffered = Math.max(peakBuffered, r.server.bufferedBytes()); }, 1);
    const socks: Socket[] = [];
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    await Promise.all(Array.from({ length: 200 }, async () => {
      const s = connect({ host: '127.0.0.1', port: r.port });
      s.on('error', () => {});
      socks.push(s);
      await new Promise<void>((res) => { s.once('connect', () => res()); s.once('close', () => res()); });
      for (let i = 0; i < 16 && !s.destroyed; i++) s.write(chunk);
    }));
    cleanups.push(() => { for (const s of socks) s.destroy(); });
    await until(() => r.server.stats.oversized + r.server.stats.preAuthRefused >= 200, 10_000);
    clearInterval(probe);
    expect(r.server.stats.rejects.LINE_TOO_LONG).toBe(r.server.stats.oversized);
    expect(r.server.stats.oversized).toBeGreaterThan(0);
    expect(peakBuffered).toBeLessThanOrEqual(32 * 8192);
    expect(rssMB() - rss0).toBeLessThan(60);
  }, 30_000);

  it('2,000 idle sockets timing out write a handful of log lines, not 2,000', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'human', write: (l) => lines.push(l) });
    const r = await rig({ maxPreAuth: 5000, helloTimeoutMs: 300, logger });
    const socks: Socket[] = [];
    for (let i = 0; i < 2000; i++) {
      if (i % 200 === 0) await new Promise((res) => setTimeout(res, 20)); // stay inside the listen backlog
      const s = connect({ host: '127.0.0.1', port: r.port }); s.on('error', () => {}); socks.push(s); }
    cleanups.push(() => { for (const s of socks) s.destroy(); });
    await until(() => (r.server.stats.rejects.HELLO_TIMEOUT ?? 0) >= 2000, 20_000);
    const timeouts = lines.filter((l) => l.includes('HELLO_TIMEOUT'));
    expect(timeouts.length).toBeLessThanOrEqual(10);
    expect(timeouts.length).toBeGreaterThan(0);
  }, 30_000);
});

describe('MT5 bridge batch atomicity', () => {
  it('a ticks line with one malformed tick is rejected whole, naming the tick; the resend is accepted; every id exactly once', async () => {
    const r = await rig();
    const c = await authed(r.port, { company: 'C', server: 'S', login_h: 'h' }, ['EURUSD.r']);
    c.send({ t: 'sym', sym: 'EURUSD.r', digits: 5, point: '0.00001', tick_size: '0.00001', tape: 'quotes' });
    const good = (i: number): unknown[] => [1717000000000 + i, 0, (1.1 + i / 1e5).toFixed(5), (1.10002 + i / 1e5).toFixed(5), '0', '0', 6];
    c.send({ t: 'ticks', sym: 'EURUSD.r', live: true, ts: [good(0), good(1)] });
    const bad = [good(2), good(3), [1717000000004, 0, 'abc', '1.10006', '0', '0', 6], good(5)];
    c.send({ t: 'ticks', sym: 'EURUSD.r', live: true, ts: bad });
    await until(() => c.msgs.some((m) => m.t === 'err'));
    const err = c.msgs.find((m) => m.t === 'err') as { code: string; msg: string; s: number };
    expect(err.code).toBe('BAD_MESSAGE');
    expect(err.msg).toContain('tick 2');
    expect(err.msg).toContain('"abc"');
    expect(err.s).toBe(c.s);
    // nothing of the rejected line reached the engine or the sink
    await new Promise((res) => setTimeout(res, 50));
    expect(r.live.filter((e) => e.type === 'quote')).toHaveLength(2);
    // the EA resends the same ticks, corrected, on a new line
    c.send({ t: 'ticks', sym: 'EURUSD.r', live: true, ts: [good(2), good(3), good(4), good(5)] });
    await until(() => r.sink.ticks.length === 6);
    await until(() => c.msgs.some((m) => m.t === 'ack' && (m as { s: number }).s === c.s));
    const ids = r.sink.ticks.map((t) => `${t.ms}:${t.ord}`);
    expect(new Set(ids).size).toBe(6);
    expect(ids.sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `${1717000000000 + i}:0`));
    const quotes = r.live.filter((e): e is Quote => e.type === 'quote');
    expect(quotes.map((q) => q.ts)).toEqual([0, 1, 2, 3, 4, 5].map((i) => 1717000000000 + i - 7_200_000));
    expect(r.server.stats.batchesRejected).toBe(1);
  });
});

describe('MT5 symbols: tick sizes and brokers', () => {
  it("honours the broker's announced tick size when the built-in instrument is coarser (US30 at 0.01 is not DJ30 at 1.0)", async () => {
    const r = await rig();
    const c = await authed(r.port, { company: 'C', server: 'S', login_h: 'h' }, ['US30']);
    c.send({ t: 'sym', sym: 'US30', digits: 2, point: '0.01', tick_size: '0.01', tape: 'quotes' });
    c.send({ t: 'ticks', sym: 'US30', live: true, ts: [[1717000000000, 0, '39000.45', '39001.07', '0', '0', 6]] });
    await until(() => r.sink.ticks.length === 1);
    const inst = r.registry.get(r.sink.ticks[0].instrument);
    expect(inst.id).not.toBe('DJ30');
    expect(inst.price.format(r.sink.ticks[0].bid)).toBe('39000.45');
    expect(inst.price.format(r.sink.ticks[0].ask)).toBe('39001.07');
    // a broker on the built-in's grid still maps onto it
    const d = await authed(r.port, { company: 'D', server: 'S2', login_h: 'h2' }, ['GER40']);
    d.send({ t: 'sym', sym: 'GER40', digits: 1, point: '0.1', tick_size: '0.1', tape: 'quotes' });
    d.send({ t: 'ticks', sym: 'GER40', live: true, ts: [[1717000000000, 0, '18000.1', '18000.6', '0', '0', 6]] });
    await until(() => r.sink.ticks.length === 2);
    expect(r.sink.ticks[1].instrument).toBe('DAX40');
  });

  it('two brokers feeding one canonical symbol never interleave: the second is keyed by its account', async () => {
    const r = await rig();
    const a = await authed(r.port, { company: 'Broker A', server: 'A-Live', login_h: 'ha' }, ['EURUSD.r']);
    const b = await authed(r.port, { company: 'Broker B', server: 'B-Live', login_h: 'hb' }, ['EURUSDm']);
    a.send({ t: 'sym', sym: 'EURUSD.r', digits: 5, point: '0.00001', tick_size: '0.00001', tape: 'quotes' });
    b.send({ t: 'sym', sym: 'EURUSDm', digits: 5, point: '0.00001', tick_size: '0.00001', tape: 'quotes' });
    a.send({ t: 'ticks', sym: 'EURUSD.r', live: true, ts: [[1717000005000, 0, '1.10000', '1.10002', '0', '0', 6]] });
    b.send({ t: 'ticks', sym: 'EURUSDm', live: true, ts: [[1717000001000, 0, '1.10010', '1.10013', '0', '0', 6]] });
    await until(() => r.sink.ticks.length === 2);
    const byFeed = new Map(r.sink.ticks.map((t) => [t.sym, t.instrument]));
    expect(byFeed.get('EURUSD.r')).toBe('EURUSD');
    expect(byFeed.get('EURUSDm')).toBe('EURUSD@B-Live');
    expect(r.server.stats.keyedByAccount).toBe(1);
  });
});

describe('tapeflow mt5-sim', () => {
  it('--gap-every works without --rate (the README example): lines are lost and the server backfills them', async () => {
    const { mt5SimCommand } = await import('../../engine/src/cli/commands/mt5-sim.js');
    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    (process.stdout as { write: unknown }).write = (chunk: string): boolean => { out += chunk; return true; };
    let code: number;
    try {
      code = await mt5SimCommand.run(['--serve', '--source', 'tape:3000', '--gap-every', '2', '--json']);
    } finally {
      (process.stdout as { write: unknown }).write = write;
    }
    expect(code).toBe(0);
    const j = JSON.parse(out) as { backfillRequests: number; server: { seqGaps: number; ticksLive: number; ticksHistory: number } };
    expect(j.server.seqGaps).toBeGreaterThan(0);
    expect(j.backfillRequests).toBeGreaterThan(0);
  }, 60_000);
});

/**
 * /history latency over 5,000 1m bars against the real server on loopback: uncached (a distinct
 * slice per request) and cached (the same slice repeated), plus a 5-minute aggregation. Prints one
 * JSON line per variant with p50/p99 in ms.
 */
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { Engine } from '../../src/analytics/engine.js';
import { newTrade } from '../../src/core/events.js';
import { createServer } from '../../../datafeed-adapter/src/server.js';
import { emit, peakRssMB } from '../harness.js';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(3));
}

export async function benchHistory(): Promise<void> {
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
  const start = Date.UTC(2024, 0, 1);
  const bars = 5200;
  let seed = 1, price = 600_000, id = 0;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const t = newTrade('BTCUSDT');
  for (let ts = start; ts < start + bars * 60_000; ts += 500 + Math.floor(rnd() * 4000)) {
    price += Math.floor(rnd() * 9) - 4;
    t.ts = ts; t.id = ++id; t.price = price; t.size = 1 + Math.floor(rnd() * 200); t.side = rnd() < 0.5 ? 'buy' : 'sell'; t.sideSource = 'flag';
    engine.onEvent(t);
  }
  const srv = await createServer({ engine, port: 0, staticDir: false, cacheEntries: 10_000 });
  const endS = (start + bars * 60_000) / 1000;
  const time = async (path: string): Promise<number> => {
    const t0 = performance.now();
    const r = await fetch(srv.url + path);
    const body = await r.text();
    if (r.status !== 200 || body.length < 1000) throw new Error(`bad answer ${r.status} ${body.slice(0, 100)}`);
    return performance.now() - t0;
  };
  const q = (res: string, to: number): string => `/history?symbol=BTCUSDT&resolution=${res}&from=${to - 5000 * 60}&to=${to}&countback=5000`;
  for (let k = 0; k < 20; k++) await time(q('1', endS - k * 60)); // warm-up
  for (const [name, res] of [['history_1m_5000', '1'], ['history_5m_over_5000_1m', '5']] as const) {
    const unc: number[] = [];
    for (let k = 0; k < 200; k++) unc.push(await time(q(res, endS - 60 * (100 + k))));
    const cached: number[] = [];
    const same = q(res, endS - 60 * 100);
    for (let k = 0; k < 200; k++) cached.push(await time(same));
    emit({ name, requests: 200, uncachedP50ms: pct(unc, 0.5), uncachedP99ms: pct(unc, 0.99), cachedP50ms: pct(cached, 0.5), cachedP99ms: pct(cached, 0.99), cacheHits: srv.cache.hits, peakRssMB: peakRssMB() });
  }
  await srv.close();
}

/**
 * "A simulated broker hour" for the EA's own source (translated + compiled through the MQL5 shim)
 * against the real bridge server over TCP: two symbols (an exchange tape with aggressor flags and DOM,
 * an FX quote feed), 10 minutes of history before the EA starts (first-contact backfill), a DST switch
 * half-way (US dates, GMT+2 → GMT+3), DOM floods (bursts of images, then silence), the server killing
 * the connection every few seconds (reconnect + resume), 20 server lines/s (hb every 50 ms). The broker
 * clock is accelerated (`speed` virtual ms per real ms); timers, GetTickCount64 and the server's
 * liveness run in real time. Measured: ticks/s, id accounting (lost / duplicated), exact UTC per tick,
 * spurious disconnects, and how long after a DOM burst's last change its image reached the server.
 */
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import type { BookDelta, BookSnapshot, MarketEvent } from '../../engine/src/core/events.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { mulberry32 } from '../../engine/src/sim/prng.js';
import { BridgeServer } from '../src/server.js';
import type { Mt5Tick } from '../src/sim-ea.js';
import { brokerMs, type ShimBook, type ShimBroker, type ShimSymbol } from './broker.js';
import { AccountingSink } from './accounting-sink.js';
import { ShimEA } from './run.js';

export interface HourOptions {
  /** virtual ms per real ms (default 240: the hour takes 15 s) */
  speed?: number;
  /** Windows clock interrupt in µs: 1000 (timeBeginPeriod(1)) or 15625 */
  timerResUs?: number;
  /** EA input InpTimerMs (the EA clamps it to >= 10) */
  timerMs?: number;
  /** the server drops the connection this often (real ms; 0 = never) */
  killEveryMs?: number;
  /** virtual minutes of live data (default 60) */
  minutes?: number;
  seed?: number;
}

export interface HourResult {
  ticks: number;
  seconds: number;
  ticksPerSec: number;
  lost: number;
  duplicated: number;
  unexpected: number;
  utcWrong: number;
  forcedDisconnects: number;
  spuriousDisconnects: number;
  eaDisconnectReasons: Record<string, number>;
  serverRejects: Record<string, number>;
  backfillRequests: number;
  bookBursts: number;
  /** from a burst's last change (or the reconnect, when it changed while cut off) to that image at the server */
  bookLatencyMs: { max: number; p50: number; measured: number };
  /** this process (the bridge server's): longest event-loop delay and longest GC pause during the run */
  serverLoop: { maxDelayMs: number; maxGcMs: number };
  /** the first few duplicated / unexpected / wrong-UTC ticks */
  examples: string[];
  speed: number;
  timerResUs: number;
}

const SW = Date.UTC(2024, 2, 10, 7, 0); // US DST 2024: the broker goes GMT+2 → GMT+3

function ticksFor(r: () => number, sym: string, from: number, to: number, offsets: ShimBroker['offsets'], trades: boolean): Mt5Tick[] {
  const out: Mt5Tick[] = [];
  let utc = from, p = trades ? 128_000 : 108_000;
  while (utc < to) {
    if (r() > 0.2) utc += 1 + Math.floor(r() * 180); // some ticks share a millisecond
    const ms = brokerMs(offsets, utc);
    if (!trades || r() < 0.4) {
      p += (Math.floor(r() * 3) - 1) * (trades ? 5 : 1);
      out.push(trades
        ? { ms, bid: String(p), ask: String(p + 5), last: '0', vol: '0', flags: 6, utc }
        : { ms, bid: (p / 100_000).toFixed(5), ask: ((p + 2) / 100_000).toFixed(5), last: '0', vol: '0', flags: 6, utc });
    } else {
      const buy = r() < 0.5;
      out.push({ ms, bid: String(p), ask: String(p + 5), last: String(buy ? p + 5 : p), vol: String(1 + Math.floor(r() * 9)), flags: 8 | 16 | (buy ? 32 : 64), utc });
    }
  }
  void sym;
  return out;
}

export function hourBroker(o: HourOptions = {}): { broker: ShimBroker; start: number; end: number } {
  const r = mulberry32(o.seed ?? 18);
  const minutes = o.minutes ?? 60;
  const start = SW - (minutes / 2) * 60_000, end = start + minutes * 60_000;
  const offsets = [{ fromUtc: 0, off: 7200 }, { fromUtc: SW, off: 10800 }];
  const win = ticksFor(r, 'WINQ26', start - 10 * 60_000, end, offsets, true);
  const fx = ticksFor(r, 'EURUSD.r', start - 10 * 60_000, end, offsets, false);
  const books: ShimBook[] = [];
  // a DOM flood every 3 virtual minutes: 100 images 2 ms apart, then silence
  for (let t = start + 60_000; t < end - 60_000; t += 180_000) {
    for (let i = 0; i < 100; i++) {
      const mid = 128_000 + Math.floor(r() * 20) * 5;
      books.push({ utc: t + i * 2, bids: [[String(mid), String(1 + Math.floor(r() * 50))], [String(mid - 5), String(1 + i)]], asks: [[String(mid + 5), String(1 + Math.floor(r() * 50))], [String(mid + 10), String(100 - i)]] });
    }
  }
  const wspec = { digits: 0, point: '1', tick_size: '5', tick_value: '0.2', contract: '1', calc: 'SYMBOL_CALC_MODE_EXCH_FUTURES', chart: 'SYMBOL_CHART_MODE_LAST', book_levels: 10, tape: 'trades' as const, side_flags: true, basis: 'WIN', vol_step: '1', desc: 'Mini Ibovespa (simulated)' };
  const fspec = { digits: 5, point: '0.00001', tick_size: '0.00001', tick_value: '1', contract: '100000', calc: 'SYMBOL_CALC_MODE_FOREX', chart: 'SYMBOL_CHART_MODE_BID', book_levels: 0, tape: 'quotes' as const, side_flags: false, vol_step: '0.01', desc: 'Euro vs US Dollar' };
  const symbols: ShimSymbol[] = [{ sym: 'WINQ26', spec: wspec, ticks: win, books }, { sym: 'EURUSD.r', spec: fspec, ticks: fx }];
  return { broker: { startUtc: start, speed: o.speed ?? 240, offsets, symbols }, start, end };
}

export async function runBrokerHour(o: HourOptions = {}): Promise<HourResult> {
  const { broker, end } = hourBroker(o);
  const speed = broker.speed ?? 240;
  // expected ids and UTC per symbol, numbered like the terminal (ordinal within the millisecond)
  const sink = new AccountingSink(broker.symbols.map((s) => ({ sym: s.sym, ms: s.ticks.map((t) => t.ms), utc: s.ticks.map((t) => t.utc) })));
  const registry = new InstrumentRegistry();
  const live: { at: number; ev: MarketEvent }[] = [];
  const server = new BridgeServer({ secret: 'hour', sink, registry, hbMs: 50, ackMs: 50, onEvent: (ev) => { if (ev.type === 'book_snapshot' || ev.type === 'book_delta') live.push({ at: Date.now(), ev }); } });
  const port = await server.listen();
  // connection windows: a DOM change made while the EA was cut off can only arrive after it is back
  const downs: { from: number; to: number }[] = [];
  server.on('disconnected', () => downs.push({ from: Date.now(), to: Infinity }));
  server.on('connected', () => { const d = downs[downs.length - 1]; if (d && d.to === Infinity) d.to = Date.now(); });
  const ea = new ShimEA({ broker, timerResUs: o.timerResUs ?? 15625, inputs: { InpPort: port, InpSecret: 'hour', InpSymbols: 'WINQ26,EURUSD.r', InpDom: true, InpTimerMs: o.timerMs ?? 20, InpBackfillDays: 1 } });
  // the server's event loop (this process): how long it was held, and by which GC pauses
  const t0 = Date.now();
  ea.start(); // (writes the broker tape synchronously: the loop is watched from here on)
  // the tape is in the EA's file now: drop this process's copy of the ticks (600k+ objects every major
  // GC would mark again, pausing the server's event loop by 80-110 ms on a loaded 2-core box)
  const books = broker.symbols[0].books!;
  for (const sy of broker.symbols) { sy.ticks = []; sy.books = []; }
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const gcs: { at: number; ms: number }[] = [];
  const gcObs = new PerformanceObserver((l) => { for (const e of l.getEntries()) gcs.push({ at: performance.timeOrigin + e.startTime, ms: e.duration }); });
  gcObs.observe({ entryTypes: ['gc'] });
  const lags: string[] = [];
  let lastBeat = Date.now();
  const beat = process.env.MT5_HOUR_DEBUG ? setInterval(() => { const n = Date.now(); if (n - lastBeat > 30) lags.push(`${lastBeat - ea.t0}+${n - lastBeat}`); lastBeat = n; }, 5) : null;
  let forced = 0;
  const killer = o.killEveryMs === 0 ? null : setInterval(() => {
    for (const f of server.feeds.values()) if (f.conn && f.conn.state === 'ready') { f.conn.socket.destroy(); forced++; }
  }, o.killEveryMs ?? 4000);
  const realEnd = t0 + (end - broker.startUtc) / speed;
  while (Date.now() < realEnd + 500) await new Promise((r) => setTimeout(r, 100));
  if (killer) clearInterval(killer);
  const deadline = Date.now() + 60_000;
  while (sink.stored < sink.expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 300));
  await ea.stop();
  await server.close();
  loop.disable();
  gcObs.disconnect();
  if (beat) clearInterval(beat);
  const lost = sink.lost(), duplicated = sink.duplicated, unexpected = sink.unexpected, utcWrong = sink.utcWrong;
  // EA-side disconnects: forced ones show as peer closed / read or send errors; the rest are spurious
  const reasons: Record<string, number> = {};
  for (const l of ea.disconnects()) { const why = /\(([^)]*)\)/.exec(l)?.[1] ?? l; reasons[why] = (reasons[why] ?? 0) + 1; }
  const spurious = (reasons['server silent'] ?? 0) + (reasons['no challenge'] ?? 0) + (server.stats.rejects.DEAD ?? 0);
  // DOM: the server's book after each burst's last image, against the real time that image became current
  const inst = registry.get(server.instrumentOf([...server.feeds.keys()][0], 'WINQ26')!);
  const lastOfBurst = books.filter((b, i) => i === books.length - 1 || books[i + 1].utc - b.utc > 1000);
  const lat: number[] = [];
  const dbg: string[] = [];
  const state = { bids: new Map<number, number>(), asks: new Map<number, number>() };
  let li = 0;
  for (const b of lastOfBurst) {
    let due = ea.realTimeOf(b.utc);
    // changed while cut off, or cut off before it could be sent (within 100 ms): due at the reconnect
    for (const d of downs) if (due >= d.from - 100 && due < d.to) due = d.to;
    const want = (rows: [string, string][]): string => rows.map(([p, v]) => `${inst.price.parse(p)}:${inst.qty.parse(v)}`).sort().join(',');
    const wb = want(b.bids), wa = want(b.asks);
    const have = (m: Map<number, number>): string => [...m].map(([p, v]) => `${p}:${v}`).sort().join(',');
    // replay the server's book events in order; the first state equal to the burst's last image after it was due
    for (; li < live.length; li++) {
      const { at, ev } = live[li];
      if (ev.type === 'book_snapshot') { const s = ev as BookSnapshot; state.bids = new Map(s.bids); state.asks = new Map(s.asks); }
      else { const d = ev as BookDelta; for (const [p, v] of d.bids) v ? state.bids.set(p, v) : state.bids.delete(p); for (const [p, v] of d.asks) v ? state.asks.set(p, v) : state.asks.delete(p); }
      if (at >= due - 5 && have(state.bids) === wb && have(state.asks) === wa) {
        lat.push(Math.max(0, at - due));
        const e0 = ea.t0, dueE = due - e0;
        const sends = ea.grep(/trace book sent|slow/).filter((l) => l.ms >= dueE - 40 && l.ms <= at - e0 + 5).map((l) => `${Math.round(l.ms - dueE)}${l.text.includes('slow') ? l.text.replace(/.*slow /, 's:') : ''}`);
        dbg.push(`${Math.round(dueE)}:${Math.round(at - due)}[${sends.join(' ')}]`);
        li++;
        break;
      }
    }
  }
  lat.sort((a, b) => a - b);
  if (process.env.MT5_HOUR_DEBUG) console.log('event loop delay max', loop.max / 1e6, 'p99', loop.percentile(99) / 1e6, 'lags', lags.join(' '), 'gc >20ms', gcs.filter((g) => g.ms > 20).map((g) => `${Math.round(g.at - ea.t0)}:${Math.round(g.ms)}`).join(' '));
  if (process.env.MT5_HOUR_DEBUG) console.log('book latencies (due:ms)', dbg.join(' '), 'downs', downs.map((d) => `${d.from - t0}-${d.to - t0}`).join(' '), ea.grep(/slow|disconnected|connected/).map((l) => `${l.ms}:${l.text}`).join(' | '));
  return {
    ticks: sink.expected, seconds: Number(seconds.toFixed(2)), ticksPerSec: Math.round(sink.stored / seconds), lost, duplicated, unexpected, utcWrong,
    forcedDisconnects: forced, spuriousDisconnects: spurious, eaDisconnectReasons: reasons, serverRejects: server.stats.rejects as Record<string, number>,
    backfillRequests: server.stats.backfillRequests, bookBursts: lastOfBurst.length,
    bookLatencyMs: { max: lat.length ? Math.round(lat[lat.length - 1]) : NaN, p50: lat.length ? Math.round(lat[Math.floor(lat.length / 2)]) : NaN, measured: lat.length },
    serverLoop: { maxDelayMs: Math.round(loop.max / 1e6), maxGcMs: Math.round(Math.max(0, ...gcs.map((g) => g.ms))) },
    examples: sink.examples, speed, timerResUs: o.timerResUs ?? 15625,
  };
}

import { describe, expect, it } from 'vitest';
import type { BookDelta, MarketEvent, Quote, Trade } from '../../engine/src/core/events.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { DiscretePowerLaw, Rng } from '../../engine/src/sim/prng.js';
import { MarketSimulator, createDemoSimulators, runRealtime, simChecksum, type SimConfig } from '../../engine/src/sim/index.js';

const T0 = Date.UTC(2026, 0, 5, 14, 0, 0);

function cfg(over: Partial<SimConfig> = {}): SimConfig {
  return { seed: 7, instrument: 'SIMX', startTs: T0, startPrice: 100_000, durationMs: 30 * 60_000, scenario: 'random', eventsPerHour: 8, ...over };
}

function collect(c: SimConfig): { events: MarketEvent[]; sim: MarketSimulator; stats: ReturnType<MarketSimulator['run']> } {
  const sim = new MarketSimulator(c);
  const events: MarketEvent[] = [];
  const stats = sim.run((ev) => events.push(ev));
  return { events, sim, stats };
}

describe('sim prng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 8 }, () => a.nextU32());
    const xb = Array.from({ length: 8 }, () => b.nextU32());
    const xc = Array.from({ length: 8 }, () => c.nextU32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
    for (const x of xa) expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true);
  });

  it('samples exponential, log-normal, poisson and power-law distributions with the right moments', () => {
    const r = new Rng(1);
    const n = 200_000;
    let se = 0;
    let sl = 0;
    let sp = 0;
    for (let i = 0; i < n; i++) {
      se += r.exp(2);
      sl += Math.log(r.logNormal(10, 0.5));
      sp += r.poisson(3.5);
    }
    expect(se / n).toBeCloseTo(0.5, 2);
    expect(sl / n).toBeCloseTo(Math.log(10), 2);
    expect(sp / n).toBeCloseTo(3.5, 1);
    const pl = new DiscretePowerLaw(40, 1.3);
    const counts = new Array(40).fill(0);
    for (let i = 0; i < n; i++) counts[pl.sample(r)]++;
    expect(counts[0] / n).toBeCloseTo(pl.prob(0), 2);
    expect(counts[5] / n).toBeCloseTo(pl.prob(5), 2);
    expect(counts[0]).toBeGreaterThan(counts[1]);
    expect(counts[1]).toBeGreaterThan(counts[10]);
  });
});

describe('sim determinism', () => {
  it('same seed → same checksum and identical labels; different seed → different checksum', () => {
    const a = collect(cfg());
    const b = collect(cfg());
    const c = collect(cfg({ seed: 8 }));
    expect(a.stats.checksum).toMatch(/^[0-9a-f]{16}$/);
    expect(a.stats.checksum).toBe(b.stats.checksum);
    expect(a.stats.events).toBe(b.stats.events);
    expect(a.sim.labels).toEqual(b.sim.labels);
    expect(a.sim.labels.length).toBeGreaterThan(0);
    expect(c.stats.checksum).not.toBe(a.stats.checksum);
    // the checksum in the stats is the checksum of the emitted stream
    expect(simChecksum(a.events)).toBe(a.stats.checksum);
    expect(a.stats.events).toBe(a.events.length);
  });

  it('step() in arbitrary chunks produces exactly the run() stream', () => {
    const whole = collect(cfg());
    const sim = new MarketSimulator(cfg());
    const out: MarketEvent[] = [];
    const r = new Rng(99);
    let t = T0;
    let more = true;
    while (more) {
      t += Math.floor(r.float() * 5_000);
      more = sim.step(t, (ev) => out.push(ev));
    }
    expect(out.length).toBe(whole.events.length);
    expect(simChecksum(out)).toBe(whole.stats.checksum);
    expect(sim.labels).toEqual(whole.sim.labels);
  });
});

/** Rebuild the book from the snapshot and deltas and check every invariant on the way. */
describe('sim event stream invariants', () => {
  it('book never crossed, sizes positive, trade ids and seqs contiguous, quotes match the book', () => {
    const { events, stats, sim } = collect(cfg({ durationMs: 20 * 60_000, seed: 11 }));
    expect(events[0].type).toBe('book_snapshot');
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    let lastSeq = NaN;
    let lastId = NaN;
    let lastTs = -Infinity;
    let crossed = 0;
    let negative = 0;
    let quoteMismatch = 0;
    let quotes = 0;
    let trades = 0;
    let tradeOutsideTouch = 0;
    const best = (m: Map<number, number>, bid: boolean): number => {
      let b = bid ? -Infinity : Infinity;
      for (const p of m.keys()) b = bid ? Math.max(b, p) : Math.min(b, p);
      return b;
    };
    let bb = NaN;
    let ba = NaN;
    for (const ev of events) {
      expect(ev.instrument).toBe('SIMX');
      expect(ev.ts).toBeGreaterThanOrEqual(lastTs);
      expect(Number.isInteger(ev.ts)).toBe(true);
      lastTs = ev.ts;
      if (ev.type === 'book_snapshot') {
        for (const [p, s] of ev.bids) bids.set(p, s);
        for (const [p, s] of ev.asks) asks.set(p, s);
        lastSeq = ev.seq;
      } else if (ev.type === 'book_delta') {
        const d = ev as BookDelta;
        expect(d.firstSeq).toBe(lastSeq + 1);
        expect(d.prevSeq).toBe(lastSeq);
        expect(d.seq).toBeGreaterThanOrEqual(d.firstSeq);
        lastSeq = d.seq;
        for (const [p, s] of d.bids) {
          if (s < 0) negative++;
          if (s === 0) bids.delete(p);
          else bids.set(p, s);
        }
        for (const [p, s] of d.asks) {
          if (s < 0) negative++;
          if (s === 0) asks.delete(p);
          else asks.set(p, s);
        }
        bb = best(bids, true);
        ba = best(asks, false);
        if (!(bb < ba)) crossed++;
      } else if (ev.type === 'trade') {
        const t = ev as Trade;
        trades++;
        if (!Number.isNaN(lastId)) expect(t.id).toBe(lastId + 1);
        lastId = t.id;
        expect(t.sideSource).toBe('flag');
        expect(t.side === 'buy' || t.side === 'sell').toBe(true);
        expect(t.size).toBeGreaterThan(0);
        expect(Number.isInteger(t.size)).toBe(true);
        // a buy executes at or above the pre-trade best ask (the book is updated after the trades)
        if (t.side === 'buy' ? t.price < ba : t.price > bb) tradeOutsideTouch++;
      } else if (ev.type === 'quote') {
        const q = ev as Quote;
        quotes++;
        const b = best(bids, true);
        const a = best(asks, false);
        if (q.bid !== b || q.ask !== a || q.bidSize !== bids.get(b) || q.askSize !== asks.get(a)) quoteMismatch++;
        expect(q.ask).toBeGreaterThan(q.bid);
      }
    }
    expect(crossed).toBe(0);
    expect(negative).toBe(0);
    expect(quoteMismatch).toBe(0);
    expect(tradeOutsideTouch).toBe(0);
    expect(trades).toBe(stats.trades);
    expect(quotes).toBe(stats.quotes);
    expect(lastSeq).toBe(stats.lastSeq);
    expect(stats.trades).toBeGreaterThan(1000);
    // the rebuilt book equals the simulator's own book
    const snap = sim.bookSnapshot();
    expect(snap.seq).toBe(lastSeq);
    expect(new Map(snap.bids)).toEqual(bids);
    expect(new Map(snap.asks)).toEqual(asks);
  });

  it('price wanders but stays sane; activity is realistic', () => {
    const { events, stats } = collect(cfg({ durationMs: 60 * 60_000, seed: 3, scenario: undefined }));
    const prices = events.filter((e): e is Trade => e.type === 'trade').map((t) => t.price);
    const lo = Math.min(...prices);
    const hi = Math.max(...prices);
    expect(hi - lo).toBeGreaterThan(10);
    expect(hi - lo).toBeLessThan(2_000);
    expect(stats.trades / 3600).toBeGreaterThan(2);
    expect(stats.bookDeltas).toBeGreaterThan(stats.trades);
    expect(stats.labels).toBe(0);
  });

  it('measures throughput (log only)', () => {
    const sim = new MarketSimulator(cfg({ durationMs: 4 * 3_600_000, seed: 5 }));
    let n = 0;
    const t0 = performance.now();
    const stats = sim.run(() => { n++; });
    const ms = performance.now() - t0;
    console.log(`[sim] ${stats.events} events in ${ms.toFixed(0)} ms → ${(stats.events / (ms / 1000) / 1e6).toFixed(2)} M events/s (trades ${stats.trades}, deltas ${stats.bookDeltas}, quotes ${stats.quotes}, labels ${stats.labels})`);
    expect(n).toBe(stats.events);
  });
});

describe('sim modes, multiple instruments, real time', () => {
  it('quotes mode emits only Quote events with unknown sizes and a valid spread', () => {
    const { events, stats } = collect(cfg({ mode: 'quotes', scenario: undefined, durationMs: 10 * 60_000 }));
    expect(events.length).toBeGreaterThan(100);
    expect(events.every((e) => e.type === 'quote')).toBe(true);
    for (const e of events as Quote[]) {
      expect(e.bidSize).toBe(0);
      expect(e.ask).toBeGreaterThan(e.bid);
    }
    expect(stats.trades).toBe(0);
    // price-only quotes: consecutive quotes differ in bid or ask
    let same = 0;
    for (let i = 1; i < events.length; i++) {
      const a = events[i - 1] as Quote;
      const b = events[i] as Quote;
      if (a.bid === b.bid && a.ask === b.ask) same++;
    }
    expect(same).toBe(0);
  });

  it('levelTicks puts every price on the level grid', () => {
    const { events } = collect(cfg({ levelTicks: 10, startPrice: 650_000, durationMs: 5 * 60_000 }));
    for (const e of events) {
      if (e.type === 'trade') expect(e.price % 10).toBe(0);
      if (e.type === 'book_delta') for (const [p] of [...e.bids, ...e.asks]) expect(p % 10).toBe(0);
    }
  });

  it('createDemoSimulators builds one simulator per instrument with distinct seeds and registry-consistent prices', () => {
    const reg = new InstrumentRegistry();
    const sims = createDemoSimulators(reg, T0, 1, { durationMs: 5 * 60_000 });
    expect(sims.map((s) => s.instrument)).toEqual(['BTCUSDT', 'ETHUSDT', 'NAS100', 'EURUSD']);
    const sums = new Set<string>();
    for (const s of sims) {
      const evs: MarketEvent[] = [];
      const st = s.run((e) => evs.push(e));
      sums.add(st.checksum);
      expect(evs.length).toBeGreaterThan(50);
      expect(evs.every((e) => e.instrument === s.instrument)).toBe(true);
    }
    expect(sums.size).toBe(4);
    const btc = sims[0].top();
    expect(btc.bid).toBeGreaterThan(640_000); // 64 000.0 in 0.1 ticks
    expect(btc.bid).toBeLessThan(660_000);
    expect(sims[2].mode).toBe('quotes'); // NAS100 is a quote-activity CFD in the registry
    expect(sims[3].mode).toBe('quotes');
  });

  it('runRealtime paces step() by the clock and ends with the run() checksum', async () => {
    const ref = collect(cfg({ durationMs: 2 * 60_000 }));
    const sim = new MarketSimulator(cfg({ durationMs: 2 * 60_000 }));
    let fake = 0;
    const out: MarketEvent[] = [];
    const seenTs: number[] = [];
    const stats = await new Promise<ReturnType<MarketSimulator['stats']>>((resolve) => {
      runRealtime(sim, (e) => out.push(e), {
        speed: 1,
        tickMs: 1,
        clock: () => {
          fake += 10_000; // each tick advances 10 s of wall clock
          seenTs.push(sim.now);
          return fake;
        },
        onEnd: resolve,
      });
    });
    expect(stats.checksum).toBe(ref.stats.checksum);
    expect(out.length).toBe(ref.events.length);
    // paced: the simulated time never ran ahead of the clock
    for (const e of out) expect(e.ts).toBeLessThanOrEqual(T0 + fake);
    expect(seenTs.length).toBeGreaterThan(5);
  });

  it('runRealtime stop() halts emission', async () => {
    const sim = new MarketSimulator(cfg({ durationMs: 60 * 60_000 }));
    let n = 0;
    const h = runRealtime(sim, () => { n++; }, { speed: 1000, tickMs: 5 });
    await new Promise((r) => setTimeout(r, 40));
    h.stop();
    const at = n;
    expect(h.running).toBe(false);
    await new Promise((r) => setTimeout(r, 40));
    expect(n).toBe(at);
    expect(sim.done).toBe(false);
  });
});

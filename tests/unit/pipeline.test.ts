import { describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { InstrumentPipeline } from '../../engine/src/analytics/pipeline.js';
import { valueArea } from '../../engine/src/analytics/value-area.js';
import { newQuote, newTrade } from '../../engine/src/core/events.js';
import { randomTape } from '../helpers/tape.js';

const reg = new InstrumentRegistry();

function run(tape = randomTape(7, 20000), opts = {}) {
  const p = new InstrumentPipeline(reg.get('BTCUSDT'), { timeframe: '1m', ...opts });
  for (const t of tape) p.onEvent({ ...t });
  p.finish();
  return p;
}

describe('pipeline: incremental equals batch', () => {
  // the registry's rows and 1-tick rows; each tape also mirrored in price (falls where it rose) with sides swapped
  const cases: [number, boolean, boolean][] = [[1, false, false], [2, false, false], [3, false, false], [4, true, false], [4, true, true], [5, false, true], [6, true, true]];
  for (const [seed, oneTick, mirror] of cases) {
    it(`random tape seed ${seed}${oneTick ? ', 1-tick rows' : ''}${mirror ? ', mirrored (falling)' : ''}`, () => {
      let tape = randomTape(seed, 15000);
      if (mirror) tape = tape.map((t) => ({ ...t, price: 1_200_000 - t.price, side: t.side === 'buy' ? 'sell' as const : 'buy' as const }));
      const p = run(tape, oneTick ? { footprintRowTicks: 1, profileRowTicks: 1 } : {});
      const rowTicks = oneTick ? 1 : reg.get('BTCUSDT').footprintRowTicks;
      // batch recomputation straight from the tape
      const groups = new Map<number, typeof tape>();
      for (const t of tape) {
        const k = Math.floor(t.ts / 60000) * 60000;
        if (!groups.has(k)) groups.set(k, []);
        groups.get(k)!.push(t);
      }
      expect(p.bars.map((b) => b.bar.start)).toEqual([...groups.keys()]);
      let cvd = 0;
      for (const { bar, stats } of p.bars) {
        const g = groups.get(bar.start)!;
        const buy = g.filter((t) => t.side === 'buy').reduce((s, t) => s + t.size, 0);
        const sell = g.filter((t) => t.side === 'sell').reduce((s, t) => s + t.size, 0);
        expect([bar.open, bar.close, bar.high, bar.low]).toEqual([g[0].price, g.at(-1)!.price, Math.max(...g.map((t) => t.price)), Math.min(...g.map((t) => t.price))]);
        expect([bar.buyVolume, bar.sellVolume, bar.delta, bar.trades]).toEqual([buy, sell, buy - sell, g.length]);
        // running delta extremes and CVD candle
        let d = 0, mn = 0, mx = 0;
        const cOpen = cvd; let cHi = cvd, cLo = cvd;
        for (const t of g) { const s = t.side === 'buy' ? t.size : -t.size; d += s; cvd += s; mn = Math.min(mn, d); mx = Math.max(mx, d); cHi = Math.max(cHi, cvd); cLo = Math.min(cLo, cvd); }
        expect([bar.deltaMin, bar.deltaMax]).toEqual([mn, mx]);
        expect([bar.cvdOpen, bar.cvdHigh, bar.cvdLow, bar.cvdClose]).toEqual([cOpen, cHi, cLo, cvd]);
        // rows and POC
        const rows = new Map<number, number>();
        for (const t of g) rows.set(Math.floor(t.price / rowTicks), (rows.get(Math.floor(t.price / rowTicks)) ?? 0) + t.size);
        const lo = Math.min(...rows.keys()), hi = Math.max(...rows.keys());
        const vol = Array.from({ length: hi - lo + 1 }, (_, i) => rows.get(lo + i) ?? 0);
        const va = valueArea(vol, vol.length);
        expect(stats.poc).toBe((lo + va.poc) * rowTicks);
        expect([stats.val, stats.vah]).toEqual([(lo + va.low) * rowTicks, (lo + va.high) * rowTicks]);
        // the held bar's rows (sealed compact after the close) hold the same volumes
        for (let i = 0; i < vol.length; i++) expect(bar.rows.volumeAt(lo + i - bar.rows.base)).toBe(vol[i]);
        expect(bar.rows.base).toBe(lo);
        expect(bar.rows.length).toBe(vol.length);
      }
      expect(p.counters.buyVolume - p.counters.sellVolume).toBe(p.cvd.value);
    });
  }
});

describe('pipeline: determinism', () => {
  it('replaying the same events twice gives the same checksum; a changed event changes it', () => {
    const tape = randomTape(11, 5000);
    const a = run(tape).checksum();
    const b = run(tape).checksum();
    expect(a).toBe(b);
    const t2 = tape.map((t) => ({ ...t }));
    t2[2500].size += 1;
    expect(run(t2).checksum()).not.toBe(a);
  });
});

describe('pipeline: bars by tick count and volume', () => {
  it('tick bars hold exactly N trades', () => {
    const p = run(randomTape(5, 1050), { timeframe: '100T' });
    expect(p.bars).toHaveLength(11);
    expect(p.bars.slice(0, 10).every((b) => b.bar.trades === 100)).toBe(true);
    expect(p.bars[10].bar.trades).toBe(50);
  });
  it('volume bars close at the trade that reaches the target', () => {
    const tape = randomTape(6, 3000);
    const p = run(tape, { timeframe: '10V' }); // 10 BTC = 10000 lots
    for (const { bar } of p.bars.slice(0, -1)) {
      expect(bar.volume).toBeGreaterThanOrEqual(10000);
      expect(bar.volume - 10000).toBeLessThan(500);
    }
    expect(p.bars.reduce((s, b) => s + b.bar.volume, 0)).toBe(tape.reduce((s, t) => s + t.size, 0));
  });
});

describe('pipeline: sessions', () => {
  it('CVD resets at a new session; never-reset keeps accumulating', () => {
    const nas = reg.get('NAS100'); // NY cash 09:30-16:00 America/New_York
    const mk = (iso: string, side: 'buy' | 'sell', size: number) => {
      const t = newTrade('NAS100'); t.ts = Date.parse(iso); t.price = 180000; t.size = size; t.side = side; t.sideSource = 'flag'; return t;
    };
    const tape = [mk('2024-03-08T15:00:00Z', 'buy', 500), mk('2024-03-08T20:00:00Z', 'buy', 200), mk('2024-03-11T13:31:00Z', 'sell', 100)];
    const p = new InstrumentPipeline(nas, { timeframe: '1m' });
    tape.forEach((t) => p.onEvent({ ...t }));
    // Monday 11 March is after the US DST change: the session opens 13:30 UTC, so 13:31 is inside and resets
    expect(p.cvd.value).toBe(-100);
    const q = new InstrumentPipeline(nas, { timeframe: '1m', cvdReset: 'never' });
    tape.forEach((t) => q.onEvent({ ...t }));
    expect(q.cvd.value).toBe(600);
    // 20:00 UTC on 8 March is 15:00 EST: inside Friday's session; the third bar is still open
    expect(p.bars.length).toBe(2);
    expect(p.profiles.sessions.map((s) => [s.key, s.closed])).toEqual([['2024-03-08', true], ['2024-03-11', false]]);
    expect(p.profiles.sessions[0].profile.totalVolume).toBe(700);
  });

  it('quote-only instruments produce quote-activity units labelled midtick', () => {
    const p = new InstrumentPipeline(reg.get('EURUSD'), { timeframe: '1m' });
    const mids = [[108000, 108002], [108001, 108003], [108000, 108002], [108000, 108002]];
    mids.forEach(([b, a], i) => { const q = newQuote('EURUSD'); q.ts = Date.UTC(2024, 0, 2, 10, 0, i); q.bid = b; q.ask = a; p.onEvent(q); });
    p.finish();
    expect(p.counters.quoteActivityUnits).toBe(4);
    const bar = p.bars[0].bar;
    const unit = reg.get('EURUSD').qty.parse('1');
    expect([bar.trades, bar.buyVolume, bar.sellVolume, bar.unknownVolume]).toEqual([4, unit, 2 * unit, unit]);
    expect(bar.sourceVolume[3]).toBe(3 * unit); // midtick
  });
});

describe('checksum', () => {
  it('is 16 lowercase hex digits', async () => {
    const { Checksum } = await import('../../engine/src/analytics/checksum.js');
    for (let i = 0; i < 200; i++) expect(new Checksum().num(i * 7919.5).str(`x${i}`).hex()).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('pipeline: clock flush and late trades', () => {
  it('advance() closes a quiet bar; a late trade goes to the next bar, never reopening a closed one', () => {
    const p = new InstrumentPipeline(reg.get('BTCUSDT'), { timeframe: '1m' });
    const mk = (ts: number, size: number) => { const t = newTrade('BTCUSDT'); t.ts = ts; t.price = 600000; t.size = size; t.side = 'buy'; t.sideSource = 'flag'; return t; };
    const m = Date.UTC(2024, 0, 2, 10, 0);
    p.onEvent(mk(m + 1000, 5));
    p.advance(m + 60_000); // the clock reaches the bar end: the bar closes without a new trade
    expect(p.bars.map((b) => [b.bar.start, b.bar.volume])).toEqual([[m, 5]]);
    p.onEvent(mk(m + 59_000, 7)); // late: belongs to a closed bar
    p.onEvent(mk(m + 61_000, 1));
    p.finish();
    expect(p.bars.map((b) => [b.bar.start, b.bar.volume])).toEqual([[m, 5], [m + 60_000, 8]]);
  });
});

describe('pipeline: clocks', () => {
  it('a book snapshot or gap stamped with local time never closes a bar; a book diff does', () => {
    const p = new InstrumentPipeline(reg.get('BTCUSDT'), { timeframe: '1m' });
    const m = Date.UTC(2024, 0, 2, 10, 0);
    const t = newTrade('BTCUSDT'); t.ts = m + 1000; t.price = 600000; t.size = 5; t.side = 'buy'; t.sideSource = 'flag';
    p.onEvent(t);
    const later = m + 3_600_000; // e.g. the wall clock when a REST snapshot was fetched
    p.onEvent({ type: 'book_snapshot', instrument: 'BTCUSDT', ts: later, seq: 1, bids: [], asks: [] });
    p.onEvent({ type: 'gap', instrument: 'BTCUSDT', ts: later, from: 1, to: 2, reason: 'test' });
    expect(p.bars).toHaveLength(0);
    expect(p.openBar?.start).toBe(m);
    p.onEvent({ type: 'book_delta', instrument: 'BTCUSDT', ts: m + 60_000, firstSeq: 2, seq: 2, prevSeq: 1, bids: [], asks: [] });
    expect(p.bars.map((b) => b.bar.start)).toEqual([m]);
  });
});

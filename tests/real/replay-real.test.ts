import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import type { BookDelta, BookSnapshot, MarketEvent, MboEvent, Trade } from '../../engine/src/core/events.js';
import { replayFile, replayFiles, type FormatName, type ReplayLineError } from '../../engine/src/replay/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = process.env.TAPEFLOW_DATA ?? path.resolve(repoRoot, '../shared/data');
const d = (rel: string) => path.join(DATA, rel);

async function replay(rel: string, onEvent?: (e: MarketEvent) => void, registry = new InstrumentRegistry()) {
  const errors: ReplayLineError[] = [];
  const stats = await replayFile(d(rel), onEvent ?? (() => {}), { registry, onError: (e) => errors.push(e) });
  return { stats, errors, registry };
}

/** trade ids seen in order; asserts contiguity */
function idTracker() {
  let first = NaN, last = NaN, gaps = 0, n = 0;
  return {
    on(e: MarketEvent) {
      if (e.type !== 'trade') return;
      if (n > 0 && e.id !== last + 1) gaps++;
      if (n === 0) first = e.id;
      last = e.id;
      n++;
    },
    get result() { return { first, last, gaps, n }; },
  };
}

describe('real data folder', () => {
  it(`exists at ${DATA} (set TAPEFLOW_DATA to move it)`, () => {
    expect(existsSync(path.join(DATA, 'README.md'))).toBe(true);
  });
});

describe('real data: every file detected and replayed', () => {
  const expected: Record<string, { format: FormatName; badLines: number; offGrid: number }> = {
    'binance/cm_btcusd_perp_20240808.gz': { format: 'binance-capture', badLines: 0, offGrid: 0 },
    'binance/cm_btcusd_perp_20240809.gz': { format: 'binance-capture', badLines: 0, offGrid: 0 },
    // spot depth amounts with 6 decimals (e.g. "25.42618900") are finer than the built-in lot 0.00001
    'binance/spot_btcusdt_20240808.gz': { format: 'binance-capture', badLines: 0, offGrid: 0 },
    'binance/spot_btcusdt_20240809.gz': { format: 'binance-capture', badLines: 0, offGrid: 0 },
    'binance/usdm_btcusdt_20240808.gz': { format: 'binance-capture', badLines: 0, offGrid: 0 },
    'bybit/2024-12-01_XRPUSDT_ob500.data.zip': { format: 'bybit-jsonl', badLines: 0, offGrid: 0 },
    // the Bybit public trading archive: newest first in the file, replayed forward by its own reader
    'bybit/BTCUSD2019-10-01.csv.gz': { format: 'bybit-archive' as FormatName, badLines: 0, offGrid: 0 },
    // the samples mix spot frames (6-decimal sizes) into BTCUSDT topics; the built-in BYBIT:BTCUSDT lot is 0.001
    'bybit/tardis_node_bybit_v5_samples.jsonl': { format: 'bybit-jsonl', badLines: 0, offGrid: 22 },
    'cme/esh4_20231225_mbo.csv.gz': { format: 'cme-mbo', badLines: 0, offGrid: 0 },
    // deliberate odd rows: line 5 (year-0001 time), line 6 ("0.-10000" size)
    'coinbase/tardis_node_coinbase_exchange_samples.jsonl': { format: 'coinbase-jsonl', badLines: 2, offGrid: 0 },
    'cryptofeed/BINANCE_FUTURES.http.0.0.gz': { format: 'cryptofeed', badLines: 0, offGrid: 0 },
    'cryptofeed/BINANCE_FUTURES.ws.1.0.gz': { format: 'cryptofeed', badLines: 0, offGrid: 0 },
    'cryptofeed/BYBIT.ws.26.0.gz': { format: 'cryptofeed', badLines: 0, offGrid: 0 },
    'cryptofeed/COINBASE.ws.28.0.gz': { format: 'cryptofeed', badLines: 0, offGrid: 0 },
    'forex/histdata_eurusd_ticks_9500.csv': { format: 'histdata', badLines: 0, offGrid: 0 },
    'forex/truefx_audusd_20200130_31_ticks.csv.gz': { format: 'truefx', badLines: 0, offGrid: 0 },
    'forex/truefx_usdjpy_ticks_1000.csv': { format: 'truefx-usdjpy', badLines: 0, offGrid: 0 },
    // 2020 Binance futures BTCUSDT traded on a 0.01 tick; the built-in BTCUSDT tick is 0.10 (see the exactness test below)
    'tardis/binance-futures_book_snapshot_25_BTCUSDT.csv': { format: 'tardis-book-snapshot', badLines: 0, offGrid: 470 },
    'tardis/bitmex_trades_XBTUSD.csv': { format: 'tardis-trades', badLines: 0, offGrid: 0 },
    'tardis/deribit_incremental_book_L2_BTC-PERPETUAL.csv': { format: 'tardis-incremental-l2', badLines: 0, offGrid: 0 },
    'tardis/tardis_binance-futures_trades_BTCUSDT_20200222.csv.gz': { format: 'tardis-trades', badLines: 0, offGrid: 7821 },
  };

  it('the expectation table covers every data file', () => {
    const files = readdirSync(DATA, { withFileTypes: true }).filter((e) => e.isDirectory())
      .flatMap((e) => readdirSync(path.join(DATA, e.name)).map((f) => `${e.name}/${f}`)).sort();
    expect(files).toEqual(Object.keys(expected).sort());
  });

  for (const [rel, want] of Object.entries(expected)) {
    it(rel, async () => {
      const { stats, errors } = await replay(rel);
      expect({ format: stats.format, badLines: stats.badLines, offGrid: stats.offGrid }).toEqual(want);
      expect(stats.events).toBeGreaterThan(0);
      if (want.badLines) expect(errors.map((e) => e.line)).toEqual([5, 6]);
    });
  }
});

describe('real data: Binance captures', () => {
  const counts: Record<string, { trades: number; quotes: number; bookEvents: number; instrument: string; snapshots?: number }> = {
    'binance/usdm_btcusdt_20240808.gz': { trades: 21313, quotes: 66089, bookEvents: 6552, instrument: 'BTCUSDT' },
    'binance/spot_btcusdt_20240808.gz': { trades: 9757, quotes: 28040, bookEvents: 3452, instrument: 'BINANCE_SPOT:BTCUSDT' },
    'binance/spot_btcusdt_20240809.gz': { trades: 10147, quotes: 45134, bookEvents: 3044, instrument: 'BINANCE_SPOT:BTCUSDT', snapshots: 0 },
    'binance/cm_btcusd_perp_20240808.gz': { trades: 2286, quotes: 19136, bookEvents: 26848, instrument: 'BINANCE_COINM:BTCUSD_PERP' },
    'binance/cm_btcusd_perp_20240809.gz': { trades: 2949, quotes: 29219, bookEvents: 17948, instrument: 'BINANCE_COINM:BTCUSD_PERP', snapshots: 0 },
  };
  for (const [rel, want] of Object.entries(counts)) {
    it(`${rel}: counts, contiguous trade ids, snapshots, flag sides`, async () => {
      const ids = idTracker();
      let snapshots = 0, flagged = 0;
      const { stats } = await replay(rel, (e) => {
        ids.on(e);
        if (e.type === 'book_snapshot') snapshots++;
        if (e.type === 'trade' && e.sideSource === 'flag' && e.side !== 'unknown') flagged++;
      });
      expect({ trades: stats.trades, quotes: stats.quotes, bookEvents: stats.bookEvents, instruments: stats.instruments }).toEqual({ trades: want.trades, quotes: want.quotes, bookEvents: want.bookEvents, instruments: [want.instrument] });
      expect(ids.result.gaps).toBe(0);
      expect(ids.result.last - ids.result.first + 1).toBe(want.trades);
      expect(snapshots).toBe(want.snapshots ?? 1); // the _20240809 files continue the _0808 streams without a new REST snapshot
      expect(flagged).toBe(want.trades);
    });
  }
  it('usdm: 6,551 depthUpdates with pu, trade times inside the README span', async () => {
    let deltas = 0, withPu = 0, minTs = Infinity, maxTs = -Infinity;
    await replay('binance/usdm_btcusdt_20240808.gz', (e) => {
      if (e.type === 'book_delta') { deltas++; if (e.prevSeq === e.prevSeq) withPu++; }
      if (e.type === 'trade') { minTs = Math.min(minTs, e.ts); maxTs = Math.max(maxTs, e.ts); }
    });
    expect(deltas).toBe(6551);
    expect(withPu).toBe(6551);
    expect(new Date(minTs).toISOString().slice(0, 16)).toBe('2024-08-08T23:54');
    expect(new Date(maxTs).toISOString().slice(0, 19)).toBe('2024-08-08T23:59:59');
  });
  it('spot and COIN-M file pairs join with no trade id gap', async () => {
    for (const pair of [['binance/spot_btcusdt_20240808.gz', 'binance/spot_btcusdt_20240809.gz'], ['binance/cm_btcusd_perp_20240808.gz', 'binance/cm_btcusd_perp_20240809.gz']]) {
      const ids = idTracker();
      const stats = await replayFiles(pair.map(d), (e) => ids.on(e), { registry: new InstrumentRegistry() });
      expect(stats.map((s) => s.badLines)).toEqual([0, 0]);
      expect(ids.result.gaps).toBe(0);
      expect(ids.result.n).toBe(stats[0]!.trades + stats[1]!.trades);
    }
  });
});

describe('real data: other formats', () => {
  it('forex quote counts and times', async () => {
    const first: Record<string, number> = {};
    const reg = new InstrumentRegistry();
    const onE = (e: MarketEvent) => { first[e.instrument] ??= e.ts; };
    const a = await replay('forex/truefx_audusd_20200130_31_ticks.csv.gz', onE, reg);
    const h = await replay('forex/histdata_eurusd_ticks_9500.csv', onE, reg);
    const j = await replay('forex/truefx_usdjpy_ticks_1000.csv', onE, reg);
    expect([a.stats.quotes, h.stats.quotes, j.stats.quotes]).toEqual([100000, 9500, 1000]);
    expect([a.stats.trades, h.stats.trades, j.stats.trades]).toEqual([0, 0, 0]);
    expect(first).toEqual({
      AUDUSD: Date.UTC(2020, 0, 30, 15, 28, 9, 820),
      EURUSD: Date.UTC(2020, 0, 1, 22, 0, 0, 65), // 17:00:00.065 EST
      USDJPY: Date.UTC(2013, 0, 1, 22, 0, 0, 295),
    });
  });
  it('Tardis trades: 9,999 contiguous ids; exact with a 0.01-tick instrument for 2020', async () => {
    const reg = new InstrumentRegistry();
    reg.add({ ...InstrumentRegistry.builtinSpecs().find((s) => s.id === 'BTCUSDT')!, id: 'BTCUSDT_2020', tickSize: '0.01' });
    const ids = idTracker();
    const errors: ReplayLineError[] = [];
    const stats = await replayFile(d('tardis/tardis_binance-futures_trades_BTCUSDT_20200222.csv.gz'), (e) => ids.on(e), { registry: reg, instrument: 'BTCUSDT_2020', onError: (e) => errors.push(e) });
    expect({ trades: stats.trades, badLines: stats.badLines, offGrid: stats.offGrid, gaps: ids.result.gaps, span: ids.result.last - ids.result.first + 1 }).toEqual({ trades: 9999, badLines: 0, offGrid: 0, gaps: 0, span: 9999 });
  });
  it('CME MBO: 68,792 events, 2,973 trades, actions and ES tick', async () => {
    const byAction: Record<string, number> = {};
    let nTrades = 0, unknownT = 0;
    const { stats, registry } = await replay('cme/esh4_20231225_mbo.csv.gz', (e) => {
      const m = e as MboEvent;
      byAction[m.action] = (byAction[m.action] ?? 0) + 1;
      if (m.action === 'T') { nTrades++; if (m.side === 'unknown') unknownT++; }
    });
    expect(stats.bookEvents).toBe(68792);
    expect(byAction).toEqual({ A: 29216, C: 17999, F: 6371, M: 12233, T: 2973 });
    expect(nTrades).toBe(2973);
    expect(unknownT).toBeGreaterThan(0);
    expect(registry.get('CME:ESH4').tickSize).toBe('0.25');
  });
  it('cryptofeed captures: event counts per README', async () => {
    const bf = await replay('cryptofeed/BINANCE_FUTURES.ws.1.0.gz');
    expect({ t: bf.stats.trades, q: bf.stats.quotes, b: bf.stats.bookEvents }).toEqual({ t: 91, q: 613, b: 764 });
    expect(bf.stats.instruments.sort()).toEqual(['AKROUSDT', 'CTKUSDT', 'KEEPUSDT', 'SUSHIUSDT']);
    const http = await replay('cryptofeed/BINANCE_FUTURES.http.0.0.gz');
    expect(http.stats.bookEvents).toBe(4);
    const cb = await replay('cryptofeed/COINBASE.ws.28.0.gz');
    expect({ t: cb.stats.trades, b: cb.stats.bookEvents, n: cb.stats.instruments.length }).toEqual({ t: 97, b: 9729, n: 10 });
    let snaps = 0, deltas = 0;
    const by = await replay('cryptofeed/BYBIT.ws.26.0.gz', (e) => { if (e.type === 'book_snapshot') snaps++; if (e.type === 'book_delta') deltas++; });
    // 76 trade frames carry 150 individual trades
    expect({ t: by.stats.trades, snaps, deltas }).toEqual({ t: 150, snaps: 2, deltas: 1016 });
  });
  it('Bybit v5 archive zip: 1 snapshot + 49 deltas, u contiguous', async () => {
    const evs: Array<BookSnapshot | BookDelta> = [];
    await replay('bybit/2024-12-01_XRPUSDT_ob500.data.zip', (e) => evs.push(e as BookSnapshot | BookDelta));
    expect(evs[0]!.type).toBe('book_snapshot');
    expect(evs.slice(1).every((e) => e.type === 'book_delta')).toBe(true);
    expect(evs).toHaveLength(50);
    let prev = evs[0]!.seq;
    let breaks = 0;
    for (const e of evs.slice(1)) { if ((e as BookDelta).firstSeq !== prev + 1) breaks++; prev = e.seq; }
    expect(breaks).toBe(0);
  });
  it('Tardis trade sides and Coinbase sample', async () => {
    const sides = new Set<string>();
    await replay('tardis/bitmex_trades_XBTUSD.csv', (e) => sides.add(`${(e as Trade).side}/${(e as Trade).sideSource}`));
    expect([...sides].every((s) => s === 'buy/flag' || s === 'sell/flag')).toBe(true);
    const cb = await replay('coinbase/tardis_node_coinbase_exchange_samples.jsonl');
    expect({ t: cb.stats.trades, q: cb.stats.quotes, b: cb.stats.bookEvents }).toEqual({ t: 1, q: 3, b: 3 });
    expect(cb.errors.map((e) => e.reason)).toEqual(['time out of range (0001-01-01T00:00:00.000Z)', 'invalid bids size "0.-10000"']);
  });
});


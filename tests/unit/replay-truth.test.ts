/**
 * Inputs that tell the truth (issue 13 §3): non-market Binance prints, tick/lot/row inference from
 * significant digits with bounded rows, auto thresholds for unknown instruments, files that yield
 * nothing are errors, off-grid counts in the human output, files merged by content time whatever the
 * argument order, receive-time quotes that never close a bar, and `replay --json` = `replay --serve`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import type { MarketEvent } from '../../engine/src/core/events.js';
import { FeedContext, parseVenueFrame, replayFile, NoEventsError, RowSpanError } from '../../engine/src/replay/index.js';
import { inferSteps } from '../../engine/src/replay/context.js';
import { Thresholds } from '../../engine/src/signals/thresholds.js';
import { runReplay, registeredWarnings } from '../../engine/src/cli/commands/replay.js';
import { startApp } from '../../engine/src/cli/commands/start.js';
import { feedEvents, loadReplayEvents } from '../../datafeed-adapter/src/service/serve-replay.js';
import { REPO_ROOT } from '../helpers/data.js';

const dir = mkdtempSync(join(tmpdir(), 'replay-truth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer): string => { const p = join(dir, name); writeFileSync(p, content); return p; };
const cli = (args: string[]) => { const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'tapeflow.js'), ...args], { cwd: dir, encoding: 'utf8' }); return { code: r.status, out: r.stdout, err: r.stderr }; };

const T0 = Date.UTC(2024, 7, 8, 23, 55, 0);
const ns = (ms: number): string => `${BigInt(ms) * 1_000_000n}`;
/** a USD-M @trade frame line of an hftbacktest capture */
const tradeLine = (t: number, id: number, p: string, q: string, m: boolean, X = 'MARKET'): string =>
  `${ns(t + 5)} {"stream":"btcusdt@trade","data":{"e":"trade","E":${t},"T":${t},"s":"BTCUSDT","t":${id},"p":"${p}","q":"${q}","X":"${X}","m":${m}}}`;

describe('non-market prints (Binance @trade X ≠ MARKET)', () => {
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) lines.push(tradeLine(T0 + i * 1000, 100 + i, (60000 + (i % 5) / 10).toFixed(1), '0.010', i % 2 === 0));
  // an insurance-fund print 2 % above the market, then ADL and NA prints
  lines.splice(10, 0, tradeLine(T0 + 9500, 9_000_001, '61200.0', '0.500', false, 'INSURANCE_FUND'));
  lines.splice(20, 0, tradeLine(T0 + 19500, 9_000_002, '59990.0', '0.100', true, 'ADL'), tradeLine(T0 + 19600, 9_000_003, '60000.0', '0.100', true, 'NA'));
  const path = file('usdm_btcusdt_nonmarket.gz', gzipSync(lines.join('\n') + '\n'));

  it('are excluded from replay, counted by kind, and the bar high stays the market high', async () => {
    const r = await runReplay([path], {});
    const i = r.instruments.find((x) => x.instrument === 'BTCUSDT')!;
    expect(i.trades).toBe(40);
    expect(r.files[0]!.nonMarket).toEqual({ INSURANCE_FUND: 1, ADL: 1, NA: 1 });
    expect(r.files[0]!.nonMarketIncluded).toBe(false);
    const reg = new InstrumentRegistry();
    const evs: MarketEvent[] = [];
    await replayFile(path, (e) => evs.push({ ...e } as MarketEvent), { registry: reg });
    const prices = evs.filter((e) => e.type === 'trade').map((e) => (e as { price: number }).price);
    expect(Math.max(...prices)).toBe(600004); // 60000.4, not 61200.0
  });

  it('an option includes them, labelled in the output', async () => {
    const r = await runReplay([path], { includeNonMarket: true });
    expect(r.instruments.find((x) => x.instrument === 'BTCUSDT')!.trades).toBe(43);
    expect(r.files[0]!.nonMarketIncluded).toBe(true);
    const c = cli(['replay', path, '--include-non-market']);
    expect(c.code).toBe(0);
    expect(c.out).toContain('non-market prints INCLUDED: INSURANCE_FUND 1, ADL 1, NA 1');
    const d = cli(['replay', path]);
    expect(d.out).toContain('non-market prints excluded: INSURANCE_FUND 1, ADL 1, NA 1');
  });

  it('live and replay agree: the same parser drops the print on a live @trade stream', () => {
    const ctx = new FeedContext(new InstrumentRegistry());
    const out: MarketEvent[] = [];
    parseVenueFrame('binance-usdm', { stream: 'btcusdt@trade', data: { e: 'trade', E: T0, T: T0, s: 'BTCUSDT', t: 1, p: '61200.0', q: '0.5', X: 'INSURANCE_FUND', m: false } }, T0, ctx, (e) => out.push(e));
    expect(out).toEqual([]);
    expect(ctx.nonMarket.get('INSURANCE_FUND')).toBe(1);
  });
});

describe('tick, lot and row inference', () => {
  it('uses significant digits of padded decimals, bounded by the price, with a row near price / 1000', () => {
    expect(inferSteps(['2683.80000000'], ['1.23400000'], { minPriceDecimals: 0, minQtyDecimals: 0 })).toEqual({ priceDecimals: 3, qtyDecimals: 8, rowExp: 0 });
    expect(inferSteps(['61800.20000000', '61800.21000000'], ['0.1'], { minPriceDecimals: 0, minQtyDecimals: 0 })).toEqual({ priceDecimals: 2, qtyDecimals: 1, rowExp: 1 });
    // a venue that does not pad keeps the decimals it writes
    expect(inferSteps(['6421.5'], ['18640'], { minPriceDecimals: 2, minQtyDecimals: 0 })).toEqual({ priceDecimals: 2, qtyDecimals: 0, rowExp: 0 });
  });

  it('an unknown Binance spot symbol with padded prices replays with bounded rows and a warning', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      const t = T0 + i * 500;
      const p = (2683.8 + Math.sin(i / 20) * 60).toFixed(2);
      lines.push(`${ns(t)} {"stream":"ethusdc@trade","data":{"e":"trade","E":${t},"T":${t},"s":"ETHUSDC","t":${1000 + i},"p":"${Number(p).toFixed(8)}","q":"0.12340000","m":${i % 3 === 0},"M":true}}`);
    }
    const path = file('spot_ethusdc_20240808.gz', gzipSync(lines.join('\n') + '\n'));
    const r = await runReplay([path], {});
    const inst = r.registry.get('BINANCE_SPOT:ETHUSDC');
    expect(inst.tickSize).toBe('0.001');
    expect(inst.profileRow).toBe('1');
    expect(inst.thresholds.auto).toBe(true);
    expect(r.files[0]!.offGrid).toBe(0);
    expect(r.instruments[0]!.trades).toBe(600);
    const w = registeredWarnings(r.files, r.registry);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/BINANCE_SPOT:ETHUSDC is not in the instrument registry: tick 0\.001, lot 0\.00000001 and row 1 were inferred .* detector thresholds are auto .*instruments\[\] entry with id "BINANCE_SPOT:ETHUSDC"/);
    const c = cli(['replay', path]);
    expect(c.code).toBe(0);
    expect(c.err).toContain('warning: BINANCE_SPOT:ETHUSDC is not in the instrument registry');
  });

  it('a price span beyond the bounded rows is a clear error naming the instrument and the config keys', async () => {
    const reg = new InstrumentRegistry();
    reg.add({ ...InstrumentRegistry.builtinSpecs().find((s) => s.id === 'ETHUSDT')!, tickSize: '0.00000001', profileRow: '0.00000001', footprintRow: '0.00000001' });
    const lines = [tradeLine(T0, 1, '2683.80', '0.010', true).replace(/BTCUSDT/g, 'ETHUSDT').replace('btcusdt', 'ethusdt'), tradeLine(T0 + 1, 2, '2700.00', '0.010', true).replace(/BTCUSDT/g, 'ETHUSDT').replace('btcusdt', 'ethusdt')];
    const path = file('usdm_ethusdt_wide.gz', gzipSync(lines.join('\n') + '\n'));
    const p = replayFile(path, () => {}, { registry: reg });
    await expect(p).rejects.toBeInstanceOf(RowSpanError);
    await expect(replayFile(path, () => {}, { registry: reg })).rejects.toThrow(/ETHUSDT: its prices span more than 1,000,000 rows .*set instruments\[\]\.tickSize, profileRow and footprintRow for id "ETHUSDT"/);
  });
});

describe('unknown instruments: auto thresholds, no 1-lot floor', () => {
  it('nothing fires before the data is known, then thresholds come from the bars', () => {
    const inst = new InstrumentRegistry().get('ETHUSDT');
    const known = new Thresholds(inst);
    expect(known.absorptionMin()).toBe(200_000); // 200 ETH in lots of 0.001
    const unknown = new Thresholds({ qty: inst.qty, thresholds: { absorptionMinVolume: 0, initiativeMinDelta: 0, auto: true } });
    expect(unknown.absorptionMin()).toBe(Infinity);
    expect(unknown.initiativeMin()).toBe(Infinity);
    for (let i = 0; i < 10; i++) unknown.onBar(1000 + (i % 2) * 200, (i % 2 ? 1 : -1) * 100);
    expect(unknown.absorptionMin()).toBe(100);
    expect(unknown.initiativeMin()).toBe(150);
    expect(unknown.source).toBe('auto');
  });
});

describe('files that yield nothing are errors', () => {
  // a `<recv ns> <frame>` capture whose frames no venue recognizes (Binance subscription results only): read as
  // binance-capture by its shape, 0 events. (A Hyperliquid capture is now detected as hyperliquid-capture and
  // replays: tests/unit/feeds-hyperliquid.test.ts.)
  const acks = [1, 2, 3].map((i) => `${ns(T0 + i)} {"result":null,"id":${i}}`);
  const path = file('acks_btc.gz', gzipSync(acks.join('\n') + '\n'));

  it('replayFile rejects with the reason', async () => {
    await expect(replayFile(path, () => {}, { registry: new InstrumentRegistry() })).rejects.toBeInstanceOf(NoEventsError);
    await expect(replayFile(path, () => {}, { registry: new InstrumentRegistry() })).rejects.toThrow(/read as binance-capture, 0 events: none of its 3 lines is a binance-capture market event \(first frame keys: result, id\)/);
  });

  it('the CLI exits non-zero with one line; a --format that yields nothing too', () => {
    const a = cli(['replay', path]);
    expect(a.code).toBe(1);
    expect(a.err.trim().split('\n')).toHaveLength(1);
    expect(a.err).toMatch(/0 events/);
    const tape = file('tape.csv', ['time,price,qty,side', `${T0},42000.0,0.010,buy`].join('\n'));
    const b = cli(['replay', tape, '--instrument', 'BTCUSDT', '--format', 'truefx']);
    expect(b.code).not.toBe(0);
  });
});

describe('human output says how many prices were off the grid', () => {
  it('prints the off-grid count per file', () => {
    // 42000.05 is finer than BTCUSDT's 0.10 tick
    const tape = file('offgrid.csv', ['time,price,qty,side', `${T0},42000.05,0.010,buy`, `${T0 + 1},42000.10,0.010,sell`, `${T0 + 2},42000.15,0.010,sell`].join('\n'));
    const c = cli(['replay', tape, '--instrument', 'BTCUSDT']);
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/0 bad lines, 2 off-grid prices\/sizes/);
  });
});

describe('several files: merged by content time', () => {
  it('replay day2 day1 equals replay day1 day2', async () => {
    const day = (start: number, id0: number): string => {
      const l = ['agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker'];
      for (let i = 0; i < 300; i++) l.push(`${id0 + i},${(60000 + ((i * 7) % 23) / 10).toFixed(1)},0.${(i % 9) + 1}00,${id0 + i},${id0 + i},${start + i * 997},${i % 3 === 0}`);
      return l.join('\n') + '\n';
    };
    const d1 = file('usdm_btcusdt_day1.csv', day(Date.UTC(2024, 7, 8, 23, 56), 1));
    const d2 = file('usdm_btcusdt_day2.csv', day(Date.UTC(2024, 7, 9, 0, 1), 301));
    const a = await runReplay([d1, d2], {});
    const b = await runReplay([d2, d1], {});
    expect(b.checksum).toBe(a.checksum);
    expect(b.instruments[0]!.cvd).toBe(a.instruments[0]!.cvd);
    expect(b.files.map((f) => f.file)).toEqual([d1, d2]);
    expect(a.instruments[0]!.tradeIdGaps).toBe(0);
  });
});

describe('receive-time quotes', () => {
  // Binance spot: bookTicker frames carry no exchange time (stamped with receive time), trades do
  const spot = [
    `${ns(T0 + 59_000)} {"stream":"btcusdt@trade","data":{"e":"trade","E":${T0 + 59_000},"T":${T0 + 59_000},"s":"BTCUSDT","t":1,"p":"61800.00000000","q":"0.01000000","m":false,"M":true}}`,
    // received after the minute turned, while later trades still carry exchange times inside it
    `${ns(T0 + 60_400)} {"stream":"btcusdt@bookTicker","data":{"u":10,"s":"BTCUSDT","b":"61800.00000000","B":"1.00000000","a":"61800.01000000","A":"1.00000000"}}`,
    `${ns(T0 + 60_401)} {"stream":"btcusdt@trade","data":{"e":"trade","E":${T0 + 59_950},"T":${T0 + 59_950},"s":"BTCUSDT","t":2,"p":"61800.01000000","q":"0.02000000","m":false,"M":true}}`,
    `${ns(T0 + 61_000)} {"stream":"btcusdt@trade","data":{"e":"trade","E":${T0 + 60_900},"T":${T0 + 60_900},"s":"BTCUSDT","t":3,"p":"61800.00000000","q":"0.03000000","m":true,"M":true}}`,
  ];
  const path = file('spot_btcusdt_recv.gz', gzipSync(spot.join('\n') + '\n'));

  it('never close a bar before later-stamped trades arrive', async () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', align: 'utc' });
    await replayFile(path, engine.onEvent, { registry: engine.registry });
    engine.finish();
    const p = engine.pipeline('BINANCE_SPOT:BTCUSDT');
    // both trades of the first minute are in its bar (a quote-closed bar pushed trade 2 into the next one)
    expect(p.bars.map((b) => [b.bar.start, b.bar.trades])).toEqual([[T0, 2], [T0 + 60_000, 1]]);
  });

  it('replay --json and replay --serve give the same bars and checksum', async () => {
    const lines = [...spot];
    // a REST snapshot (receive time) between diffs, as the captures have it
    lines.splice(1, 0, `${ns(T0 + 59_100)} {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":${T0 + 59_050},"s":"BTCUSDT","U":5,"u":6,"b":[["61799.99000000","1.00000000"]],"a":[]}}`,
      `${ns(T0 + 59_200)} {"lastUpdateId":6,"bids":[["61800.00000000","2.00000000"]],"asks":[["61800.01000000","3.00000000"]]}`);
    const p = file('spot_btcusdt_serve.gz', gzipSync(lines.join('\n') + '\n'));
    const json = await runReplay([p], {});
    const cfg = file('serve.yaml', 'feeds: []\n');
    const app = await startApp({ config: cfg, port: 0, storePath: null, pipeline: { align: 'utc' } });
    try {
      const { events } = await loadReplayEvents([p], app.engine.registry, {});
      // the very order `replay` feeds: receive-stamped quotes and the REST snapshot stay where the file has them
      const fileOrder: MarketEvent[] = [];
      await replayFile(p, (e) => fileOrder.push({ ...e } as MarketEvent), { registry: new InstrumentRegistry() });
      expect(events.map((e) => [e.type, e.ts])).toEqual(fileOrder.map((e) => [e.type, e.ts]));
      await feedEvents(events, app.engine.onEvent, 'max').done;
      app.engine.finish();
      expect(app.engine.checksum()).toBe(json.checksum);
      expect(app.engine.pipeline('BINANCE_SPOT:BTCUSDT').bars.length).toBe(json.instruments[0]!.bars);
    } finally { await app.close(); }
  });
});

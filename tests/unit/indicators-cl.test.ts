/**
 * Charting Library side: metainfo of every study checked against our declarations (checklist 21–23),
 * each PineJS `main` run with a minimal two-symbol context, the drawing helpers with sync (≤v28) and
 * Promise (v29) APIs, and the derived tickers resolved and served by TapeFlowDatafeed (wrapped) from a
 * real datafeed server over HTTP, compared with /api/v1/footprint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { tapeflowIndicators, METAINFO, validateMetainfo, plotCount } from '../../indicators/charting-library/studies.js';
import { parseDerivedTicker, withDerivedTickers, derivedBars, signalMarks } from '../../indicators/charting-library/derived.js';
import { drawProfileLevels, drawTrades, type ChartApiLike } from '../../indicators/charting-library/drawings.js';
import type { PineContext, PineJS, PineSeries, StudyId } from '../../indicators/charting-library/types.js';
import { TapeFlowDatafeed } from '../../datafeed-adapter/src/client/datafeed.js';
import type { Bar, LibrarySymbolInfo } from '../../datafeed-adapter/src/client/types.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { simEngine, apiFootprint, type SimFixture } from '../../indicators/testing/sim-bars.js';

/** Minimal PineJS: symbols = bar arrays by ticker; main is called bar by bar on symbol 0. */
function pine(symbols: Record<string, Bar[]>, mainTicker: string) {
  const requested: { tickerid: string; period: string }[] = [];
  let cur = 0, bar = 0;
  const syms: Bar[][] = [symbols[mainTicker]];
  const at = (): Bar | undefined => {
    if (cur === 0) return syms[0][bar];
    const t = syms[0][bar].time; // other symbol: the bar with the same time (series may miss bars)
    return syms[cur].find((b) => b.time === t);
  };
  const vars: { times: number[]; vals: number[] }[] = [];
  let varIdx = 0;
  const ctx: PineContext & { symbol: { time: number } } = {
    symbol: { time: NaN },
    new_sym(tickerid, period) { requested.push({ tickerid, period }); syms.push(symbols[tickerid] ?? []); return {}; },
    select_sym(i) { cur = i; ctx.symbol.time = at()?.time ?? NaN; },
    new_var(v) { return ctx.new_unlimited_var(v); },
    new_unlimited_var(v) {
      const slot = (vars[varIdx++] ??= { times: [], vals: [] });
      const s: PineSeries & { _v: number } = { _v: v ?? NaN, get: () => s._v, set: (x) => { s._v = x; }, adopt: (src: PineSeries, dst: PineSeries) => { const t = (dst as any)._v; const srcT = (src as any)._v; return t === srcT ? s._v : NaN; } };
      slot.vals.push(v ?? NaN);
      return s;
    },
  };
  const std = {
    ticker: () => mainTicker, tickerid: () => mainTicker, period: () => '1', time: () => at()?.time ?? NaN,
    open: () => at()?.open ?? NaN, high: () => at()?.high ?? NaN, low: () => at()?.low ?? NaN, close: () => at()?.close ?? NaN, volume: () => at()?.volume ?? NaN,
  };
  const PineJS: PineJS = { Std: std as any };
  return {
    PineJS, requested,
    run(ctor: any, inputs: unknown[] = []) {
      const inst = new ctor();
      const inp = (i: number) => inputs[i];
      cur = 0; bar = 0; syms.length = 1;
      inst.init(ctx, inp);
      const out: (number[] | null)[] = [];
      for (bar = 0; bar < syms[0].length; bar++) { varIdx = 0; cur = 0; ctx.symbol.time = syms[0][bar].time; out.push(inst.main(ctx, inp)); }
      return out;
    },
  };
}

let fx: SimFixture;
let http: DatafeedServer;
let fp: Record<string, any>[];

beforeAll(async () => {
  fx = simEngine(120, 5);
  fp = apiFootprint(fx, '1', false);
  http = await createServer({ engine: fx.engine, service: fx.service, port: 0, host: '127.0.0.1', staticDir: false });
}, 120_000);
afterAll(async () => { await http?.close(); });

describe('Charting Library studies', () => {
  it('metainfo of every study passes our declarations and checklist 22', async () => {
    for (const m of Object.values(METAINFO)) expect(validateMetainfo(m), m.id).toEqual([]);
    // histogram as a style, never a type
    expect(METAINFO.delta.defaults.styles!.delta.plottype).toBe(1);
    expect(validateMetainfo({ ...METAINFO.delta, plots: [{ id: 'x', type: 'histogram' as any }] }).length).toBeGreaterThan(0);
    expect(validateMetainfo({ ...METAINFO.cvd, id: 'cvd' as StudyId }).length).toBeGreaterThan(0);
    // the renderer's candle fields and the colourer's palette are checked (their absence threw every frame)
    const { borderColor: _b, ...noBorder } = METAINFO.cvd.defaults.ohlcPlots!.cvd;
    expect(validateMetainfo({ ...METAINFO.cvd, defaults: { ...METAINFO.cvd.defaults, ohlcPlots: { cvd: { ...noBorder, borderColor: '' } } } })).toEqual(['ohlcPlots.cvd.borderColor missing']);
    expect(validateMetainfo({ ...METAINFO.vwap, styles: { ...METAINFO.vwap.styles, u1: undefined as never } })).toEqual(['plot u1: styles.u1.title missing']);
    const list = await tapeflowIndicators(pine({ X: [] }, 'X').PineJS);
    expect(list.map((s) => s.name)).toEqual(['TapeFlow Cumulative Delta', 'TapeFlow Bar Delta', 'TapeFlow VWAP Bands', 'TapeFlow Order-flow Signals', 'TapeFlow Imbalance Count']);
    for (const s of list) { expect(typeof s.constructor).toBe('function'); expect((s.constructor as any).prototype).toBeDefined(); }
  });

  it('each main requests its derived ticker in init, reads symbol 1 and returns one number per plot', async () => {
    const main = fp.map((b) => ({ time: b.time, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume }));
    const cvd = derivedBars('CVD', fp), delta = derivedBars('DELTA', fp), imb = derivedBars('IMB', fp);
    const vwap = main.map((b, i) => ({ time: b.time, open: 100 + i, high: 102 + i, low: 98 + i, close: 100 + i, volume: 2 }));
    const sig = derivedBars('SIG', fp, { signals: [{ ts: fp[5].time + 10, kind: 'absorption', side: 'buy' }, { ts: fp[9].time, kind: 'sweep', side: 'sell' }] });
    const P = pine({ BTCUSDT: main, 'BTCUSDT#CVD': cvd, 'BTCUSDT#DELTA': delta.filter((_, i) => i !== 3), 'BTCUSDT#IMB': imb, 'BTCUSDT#VWAP': vwap, 'BTCUSDT#SIG': sig }, 'BTCUSDT');
    const studies = await tapeflowIndicators(P.PineJS);
    const by = Object.fromEntries(studies.map((s, k) => [Object.keys(METAINFO)[k], s]));
    const r = P.run(by.cvd.constructor);
    expect(P.requested.at(-1)).toEqual({ tickerid: 'BTCUSDT#CVD', period: '1' });
    // OHLC, then the up/down palette index of the ohlc_colorer
    expect(r[10]).toEqual([fp[10].cvd.open, fp[10].cvd.high, fp[10].cvd.low, fp[10].cvd.close, fp[10].cvd.close >= fp[10].cvd.open ? 0 : 1]);
    expect(new Set(r.map((x) => x![4]))).toEqual(new Set([0, 1]));
    for (const x of r) expect(x!.length).toBe(plotCount(METAINFO.cvd));
    const d = P.run(by.delta.constructor);
    expect(d[7]).toEqual([fp[7].delta, fp[7].delta >= 0 ? 0 : 1]);
    expect(d[3]!.every((v) => Number.isNaN(v))).toBe(true); // missing derived bar → NaN, not a shifted value
    const v = P.run(by.vwap.constructor, [1, 2]);
    expect(v[4]).toEqual([104, 106, 102, 108, 100]);
    const s = P.run(by.signals.constructor);
    expect(s[5]![0]).toBe(1); expect(Number.isNaN(s[5]![1])).toBe(true);
    expect(s[9]![1]).toBe(1); expect(Number.isNaN(s[9]![0])).toBe(true);
    expect(Number.isNaN(s[6]![0]) && Number.isNaN(s[6]![1])).toBe(true);
    const im = P.run(by.imbalance.constructor);
    expect(im[12]!.slice(0, 2)).toEqual([fp[12].buyImbalances, fp[12].sellImbalances]);
  });

  it('drawing helpers handle v28 (sync, null) and v29 (Promise) createShape', async () => {
    const calls: any[] = [];
    // horizontal rays are multipoint tools (one point): the library's createShape takes single-point tools only
    const v28: ChartApiLike = { createShape: (p, o) => { calls.push([p, o.shape]); return `id${calls.length}`; }, createMultipointShape: (p, o) => { calls.push([p, o.shape]); return o.text === 'VAH' ? null : `m${calls.length}`; }, removeEntity() {} };
    const v29: ChartApiLike = { createShape: async (_p, o) => `p-${o.text}`, createMultipointShape: async (_p, o) => (o.shape === 'rectangle' ? 'box' : `p-${o.text}`), removeEntity() {} };
    const lv = { poc: 65010, vah: 65020, val: 65000, start: 1723075200000, end: 1723078800000 };
    const a = await drawProfileLevels(v28, lv, { box: true });
    expect(a).toEqual(['m1', 'm3', 'm4']);
    expect(calls[0]).toEqual([[{ time: 1723075200, price: 65010 }], 'horizontal_ray']);
    expect(calls[3][0]).toEqual([{ time: 1723075200, price: 65020 }, { time: 1723078800, price: 65000 }]);
    expect(await drawProfileLevels(v29, lv)).toEqual(['p-POC', 'p-VAH', 'p-VAL']);
    expect(await drawTrades(v29, [{ time: 1723075260000, price: 65001, side: 'buy', kind: 'entry' }])).toEqual(['p-entry buy']);
  });
});

describe('derived tickers through TapeFlowDatafeed (real server)', () => {
  const feed = (): TapeFlowDatafeed => withDerivedTickers(new TapeFlowDatafeed({ baseUrl: http.url, WebSocket: WebSocket as any }), { apiBase: http.url });
  const resolve = (f: TapeFlowDatafeed, name: string) => new Promise<LibrarySymbolInfo>((ok, bad) => f.resolveSymbol(name, ok, bad));
  const bars = (f: TapeFlowDatafeed, info: LibrarySymbolInfo) => new Promise<{ bars: Bar[]; meta: unknown }>((ok, bad) => f.getBars(info, '1' as any, { from: fx.start / 1000, to: fx.end / 1000 + 60, countBack: 0, firstDataRequest: true }, (b, meta) => ok({ bars: b, meta }), bad));

  it('parses derived names', () => {
    expect(parseDerivedTicker('BTCUSDT#CVD')).toEqual({ base: 'BTCUSDT', kind: 'CVD' });
    expect(parseDerivedTicker('BINANCE:BTCUSDT#delta')).toEqual({ base: 'BINANCE:BTCUSDT', kind: 'DELTA' });
    expect(parseDerivedTicker('BTCUSDT')).toBeNull();
    expect(parseDerivedTicker('BTCUSDT#FOO')).toBeNull();
  });

  it('resolves BTCUSDT#CVD like its base and serves the CVD candles of /api/v1/footprint', async () => {
    const f = feed();
    const base = await resolve(f, 'BTCUSDT');
    const info = await resolve(f, 'BTCUSDT#CVD');
    expect(info.ticker).toBe(`${base.ticker}#CVD`);
    expect([info.session, info.timezone, info.has_intraday]).toEqual([base.session, base.timezone, base.has_intraday]);
    const { bars: b } = await bars(f, info);
    expect(b.length).toBe(fp.length);
    expect(b[20]).toEqual({ time: fp[20].time, open: fp[20].cvd.open, high: fp[20].cvd.high, low: fp[20].cvd.low, close: fp[20].cvd.close, volume: Math.abs(fp[20].delta) });
    const dinfo = await resolve(f, 'BTCUSDT#DELTA');
    const { bars: d } = await bars(f, dinfo);
    expect(d[15].close).toBe(fp[15].delta);
    const iinfo = await resolve(f, 'BTCUSDT#IMB');
    const { bars: im } = await bars(f, iinfo);
    expect([im[15].open, im[15].close]).toEqual([fp[15].buyImbalances, fp[15].sellImbalances]);
    const vinfo = await resolve(f, 'BTCUSDT#VWAP');
    const { bars: vw } = await bars(f, vinfo);
    expect(vw.length).toBeGreaterThan(100);
    expect(vw.every((x) => x.high >= x.close && x.low <= x.close)).toBe(true);
    // the base symbol is still served by the inner datafeed
    const { bars: plain } = await bars(f, base);
    expect(plain[20].close).toBe(fp[20].close);
    await expect(resolve(f, 'NOPE#CVD')).rejects.toBe('unknown_symbol');
    f.stream.close();
  });

  it('signal marks: seconds, at bar starts, one per bar and side with a count badge', () => {
    const times = fp.map((b) => b.time);
    const sigs = [
      ...Array.from({ length: 14 }, (_, k) => ({ ts: times[3] + k * 100, kind: 'absorption', side: 'buy', text: `a${k}` })),
      { ts: times[3] + 5, kind: 'sweep', side: 'sell', text: 'swept' },
      { ts: times[4] + 5, kind: 'iceberg', side: 'sell', text: 'refilled' },
    ];
    const m = signalMarks(sigs, times);
    expect(m.map((x) => [x.time, x.color, x.label])).toEqual([[times[3] / 1000, 'green', '9+'], [times[3] / 1000, 'red', 'S'], [times[4] / 1000, 'red', 'I']]);
    expect(m[0].text.split('\n')[0]).toBe('14 signals');
    expect(m[0].text).toContain('… and 8 more');
    expect(m[1].text).toBe('sweep (sell): swept');
  });
});

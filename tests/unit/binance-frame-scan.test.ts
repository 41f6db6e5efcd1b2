/**
 * The in-place Binance frame scanner (venues/binance/frame-scan.ts) against the general path
 * (JSON.parse + parseBinanceFrame): on random and edge frames — every field missing, mistyped,
 * repeated, escaped, padded with whitespace, off the tick grid, out of range — the two give the same
 * events, the same errors and the same parser state. The scanner may refuse a frame (the general
 * path then reads it); it must read the ordinary shapes itself.
 */
import { describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { FeedContext } from '../../engine/src/replay/context.js';
import { BadRow } from '../../engine/src/replay/types.js';
import { parseBinanceFrame } from '../../engine/src/venues/binance/parse.js';
import { scanBinanceFrame } from '../../engine/src/venues/binance/frame-scan.js';
import { rng } from '../helpers/tape.js';

const RECV = 1723161255030;

interface Outcome { events: unknown[]; error: string | null; scanned: boolean; last: string | undefined; offGrid: number[]; nonMarket: [string, number][] }

function context(venue: string): FeedContext {
  const ctx = new FeedContext(new InstrumentRegistry());
  ctx.binanceVenue = venue;
  return ctx;
}

/** The general path, as the capture handler runs it. */
function general(text: string, ctx: FeedContext, sink: (e: unknown) => void): void {
  let frame: unknown;
  try { frame = JSON.parse(text); } catch (e) { throw new BadRow(`invalid JSON: ${(e as Error).message}`); }
  parseBinanceFrame(frame, RECV, ctx, sink as never);
}

function run(text: string, ctx: FeedContext, fast: boolean): Outcome {
  const events: unknown[] = [];
  const sink = (e: unknown): void => { events.push(structuredClone(e)); };
  let error: string | null = null, scanned = false;
  // the scanner reads the frame where it lies in the capture line (after "<receive ns> ")
  const line = `1723161255030314667 ${text}`;
  try {
    scanned = fast && scanBinanceFrame(line, 20, RECV, ctx, sink as never);
    if (!scanned) general(text, ctx, sink);
  } catch (e) { error = e instanceof BadRow ? `BadRow ${e.message}` : `other ${(e as Error).message}`; }
  const offGrid: number[] = [];
  for (const i of ctx.registry.all()) offGrid.push(i.price.offGrid, i.qty.offGrid);
  return { events, error, scanned, last: ctx.lastBinanceSymbol, offGrid, nonMarket: [...ctx.nonMarket] };
}

const TEMPLATES: Record<string, string> = {
  trade: '{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}',
  aggTrade: '{"e":"aggTrade","E":1723161256322,"a":26129,"s":"BTCUSDT","p":"61800.30","q":"0.106","f":100,"l":105,"T":1723161256321,"m":true}',
  depth: '{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,"T":1723161256298,"s":"BTCUSDT","U":5123107832006,"u":5123107837557,"pu":5123107831937,"b":[["58710.20","0.014"],["61496.50","0.010"],["61510.90","0.000"]],"a":[["61800.30","1.211"],["61801.00","0"]]}}',
  spotDepth: '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.60","0.000"]],"a":[]}}',
  ticker: '{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}}',
  spotTicker: '{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.60","B":"3.788","a":"61837.70","A":"1.546"}}',
};

/** Values a field may be replaced with: good, off-grid, malformed, mistyped. */
const VALUES = ['"61800.30"', '"61800.35"', '"0.0001"', '"0"', '"-1.5"', '""', '"1e3"', '"abc"', '"61800.3\\u0030"', '"61\\"800"', '61800.3', '5', '-7', '0', '012', '1.5', '1e5', '12345678901234567', '123456789012345', 'null', 'true', 'false', '[]', '[["1.0","2.0"]]', '[["1.0"]]', '[["1.0","2.0","3"]]', '[[1.0,"2"]]', '{}', '"MARKET"', '"ADL"', '"trade"', '"aggTrade"', '"depthUpdate"', '"bookTicker"', '"kline"', '"BTCUSDT"', '"ETHUSDT"', '"BTC\\u0055SDT"', '"BTC\tUSD"', '9999999999999', '1723161256322'];
const KEYS = ['e', 'E', 'T', 's', 't', 'a', 'p', 'q', 'X', 'm', 'u', 'U', 'pu', 'b', 'B', 'A', 'M', 'x', 'stream', 'data', 'lastUpdateId', 'bids', 'asks', 'é', 'p\\u0070'];

/** Split a flat object text into its top-level "key":value members (templates only: no nesting beyond level arrays). */
function members(obj: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 1, inStr = false;
  for (let i = 1; i < obj.length - 1; i++) {
    const c = obj[i];
    if (inStr) { if (c === '\\') i++; else if (c === '"') inStr = false; continue; }
    if (c === '"') inStr = true;
    else if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) { out.push(obj.slice(start, i)); start = i + 1; }
  }
  out.push(obj.slice(start, obj.length - 1));
  return out;
}

function mutate(template: string, r: () => number): string {
  const env = template.startsWith('{"stream"');
  const inner = env ? template.slice(template.indexOf('"data":') + 7, -1) : template;
  let ms = members(inner);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const edits = 1 + Math.floor(r() * 3);
  for (let k = 0; k < edits; k++) {
    const op = r();
    if (op < 0.35 && ms.length) { const i = Math.floor(r() * ms.length); ms[i] = ms[i].slice(0, ms[i].indexOf(':') + 1) + pick(VALUES); }
    else if (op < 0.5 && ms.length) ms.splice(Math.floor(r() * ms.length), 1);
    else if (op < 0.65) ms.splice(Math.floor(r() * (ms.length + 1)), 0, `"${pick(KEYS)}":${pick(VALUES)}`);
    else if (op < 0.75 && ms.length) ms.push(ms[Math.floor(r() * ms.length)]); // a repeated key
    else if (op < 0.85 && ms.length) { const i = Math.floor(r() * ms.length); ms[i] = ms[i].replace(':', pick([' :', ': ', ':\t', ':\r'])); }
    else ms = ms.slice().reverse();
  }
  let body = `{${ms.join(',')}}`;
  const tail = r();
  if (tail < 0.05) body += ' ';
  else if (tail < 0.08) body += '\r';
  else if (tail < 0.1) body = body.slice(0, Math.floor(r() * body.length));
  else if (tail < 0.12) body += '}';
  if (!env) return body;
  const wrap = r();
  if (wrap < 0.05) return `{"data":${body},"stream":"x"}`;
  if (wrap < 0.08) return `{"stream":"a\\"b","data":${body}}`;
  if (wrap < 0.1) return `{"stream":5,"data":${body}}`;
  return `{"stream":"btcusdt@x","data":${body}}`;
}

function same(frames: string[], venue: string): { scanned: number } {
  const a = context(venue), b = context(venue);
  // both contexts know the instrument (first sight registers it: the general path does that)
  run(TEMPLATES.trade, a, false); run(TEMPLATES.trade, b, false);
  let scanned = 0;
  for (const f of frames) {
    const x = run(f, a, true), y = run(f, b, false);
    if (x.scanned) scanned++;
    const { scanned: _s, ...xs } = x, { scanned: _t, ...ys } = y;
    expect(xs, f).toEqual(ys);
  }
  return { scanned };
}

describe('Binance frame scanner = JSON.parse + parseBinanceFrame', () => {
  it('reads every ordinary shape itself (trade, aggTrade, depth with and without pu, bookTicker with and without e, bare or in the envelope)', () => {
    for (const venue of ['binance-usdm', 'binance-spot']) {
      const ctx = context(venue);
      run(TEMPLATES.trade, ctx, false);
      for (const [name, t] of Object.entries(TEMPLATES)) {
        const bare = t.startsWith('{"stream"') ? t.slice(t.indexOf('"data":') + 7, -1) : t;
        for (const f of [t, bare]) {
          const x = run(f, ctx, true);
          expect(x.scanned, `${name}: ${f}`).toBe(true);
          expect(x.events.length).toBe(1);
        }
      }
      expect(same(Object.values(TEMPLATES), venue).scanned).toBe(Object.keys(TEMPLATES).length);
    }
  });

  it('refuses without a known venue variant or before the symbol is known (the general path registers it)', () => {
    const ctx = new FeedContext(new InstrumentRegistry());
    expect(scanBinanceFrame(TEMPLATES.trade, 0, RECV, ctx, () => {})).toBe(false);
    ctx.binanceVenue = 'binance-usdm';
    expect(scanBinanceFrame(TEMPLATES.trade.replaceAll('BTCUSDT', 'ZZZUSDT'), 0, RECV, ctx, () => {})).toBe(false);
    expect(ctx.registered).toEqual([]);
  });

  for (const seed of [1, 2, 3, 4]) {
    it(`random edits of every shape (seed ${seed}): same events, errors, off-grid counts and state`, () => {
      const r = rng(seed);
      const frames: string[] = [];
      for (let i = 0; i < 1500; i++) frames.push(mutate(TEMPLATES[Object.keys(TEMPLATES)[i % 6]], r));
      // some still scan (the edits keep many frames ordinary); the rest fall back
      const { scanned } = same(frames, seed % 2 ? 'binance-usdm' : 'binance-spot');
      expect(scanned).toBeGreaterThan(100);
      expect(scanned).toBeLessThan(frames.length);
    });
  }

  it('edge frames: escapes, whitespace, big and fractional integers, off-grid decimals, non-market prints, level arrays', () => {
    const t = TEMPLATES;
    const frames = [
      t.trade.replace('"X":"MARKET"', '"X":"INSURANCE_FUND"'),
      t.trade.replace('"p":"61800.30"', '"p":"61800.333"'),
      t.trade.replace('"q":"0.006"', '"q":"0.0065"'),
      t.trade.replace('"t":5266583935', '"t":9007199254740993'),
      t.trade.replace('"T":1723161256322', '"T":1723161256322.5'),
      t.trade.replace('"T":1723161256322', '"T":1e12'),
      t.trade.replace('"T":1723161256322,"s"', '"T":-5,"s"').replace('"E":1723161256322', '"E":-5'),
      t.trade.replace('"m":false', '"m":"false"'),
      t.trade.replace('"m":false', '"m":null'),
      t.trade.replace('"s":"BTCUSDT"', '"s":"BTC\\u0055SDT"'),
      t.trade.replace('"s":"BTCUSDT"', '"s":"BTCUSDT\\\\"'),
      t.trade.replace(',"m"', ', "m"'),
      t.trade.replace('"p":"61800.30"', '"p":"61800.30","p":"61800.40"'),
      t.trade.replace('"p":"61800.30"', '"p":"61800.30","p":61800.4'),
      t.trade.replace('"e":"trade"', '"e":"trade","lastUpdateId":5,"bids":[]'),
      t.depth.replace('"pu":5123107831937', '"pu":null'),
      t.depth.replace('"pu":5123107831937', '"pu":"5123107831937"'),
      t.depth.replace('"U":5123107832006', '"U":"5123107832006"'),
      t.depth.replace('"0.014"', '"-0.014"'),
      t.depth.replace('"0.014"', '"0.0145"'),
      t.depth.replace('["58710.20","0.014"]', '["58710.20","0.014","x"]'),
      t.depth.replace('"b":[', '"b":null,"x":['),
      t.depth.replace('"T":1723161256298', '"T":null'),
      t.ticker.replace('"B":"2.507"', '"B":2.507'),
      t.ticker.replace('"a":"61800.30"', '"a":"61800.305"'),
      t.ticker.replace(',"T":1723161256313,"E":1723161256313', ''),
      t.spotTicker.replace('"u":50093239212,', ''),
      t.spotTicker.replace('"u":50093239212', '"u":null'),
      `${t.trade}\r`, `${t.trade} `, ` ${t.trade}`, t.trade.slice(0, -1), `${t.trade}}`,
      t.trade.replace('"data":{', '"data": {'), t.trade.replace('btcusdt@trade', 'btc\\"usdt'),
      '{"e":"kline","s":"BTCUSDT"}', '{}', '[]', 'null', '"x"',
    ];
    same(frames, 'binance-usdm');
    same(frames, 'binance-spot');
  });
});

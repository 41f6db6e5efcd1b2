/**
 * The venue registry is the one list of venues: config validation, `tapeflow config check`, replay
 * format detection, the recorder replay and the feed manager read it, and every venue lives in one folder.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FEED_VENUES, LIVE_VENUES, VENUES, createFeed, findVenue, tardisVenue, venueFromFileName, venueFromUrl } from '../../engine/src/venues/registry.js';
import { configCommand } from '../../engine/src/cli/commands/config.js';
import { detectFormat } from '../../engine/src/replay/detect.js';
import { createBookSync } from '../../engine/src/book/sync.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';

const ROOT = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-venues-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('venue registry', () => {
  it('every venue is one folder with its parser, book rule, live connection and metadata', () => {
    const families = new Set(VENUES.map((v) => v.family));
    expect([...families].sort()).toEqual(expect.arrayContaining(['binance', 'bybit', 'coinbase']));
    for (const f of families) for (const part of ['index.ts', 'parse.ts', 'book.ts', 'feed.ts', 'meta.ts']) expect(existsSync(join(ROOT, 'engine/src/venues', f, part)), `${f}/${part}`).toBe(true);
  });

  it('live venues include binance-coinm and bybit-spot; config accepts exactly these plus mt5/replay/simulator', () => {
    expect(LIVE_VENUES).toEqual(expect.arrayContaining(['binance-usdm', 'binance-spot', 'binance-coinm', 'bybit', 'bybit-spot', 'coinbase']));
    expect(FEED_VENUES).toEqual([...LIVE_VENUES, 'mt5', 'replay', 'simulator']);
  });

  it('each live venue builds its feed and its instruments get a book rule', () => {
    const registry = new InstrumentRegistry();
    for (const id of LIVE_VENUES) {
      const feed = createFeed({ venue: id, symbols: ['BTCUSDT'], registry, sink: () => {} });
      expect(feed.venue).toBe(id);
      expect(createBookSync(findVenue(id)!.instrumentVenue).synced).toBe(false);
    }
    expect(() => createFeed({ venue: 'nowhere', symbols: ['X'], registry, sink: () => {} })).toThrow(/no live feed for venue "nowhere"/);
  });

  it('URLs, cryptofeed file names and Tardis ids map to venues', () => {
    expect(venueFromUrl('wss://fstream.binance.com/stream?streams=btcusdt@depth')).toBe('binance-usdm');
    expect(venueFromUrl('https://dapi.binance.com/dapi/v1/depth')).toBe('binance-coinm');
    expect(venueFromUrl('wss://stream.binance.com:9443/ws')).toBe('binance-spot');
    expect(venueFromUrl('wss://stream.bybit.com/v5/public/linear')).toBe('bybit');
    expect(venueFromFileName('BINANCE_FUTURES.ws.1.0.gz')).toBe('binance-usdm');
    expect(venueFromFileName('BINANCE_DELIVERY.ws.1.0.gz')).toBe('binance-coinm');
    expect(venueFromFileName('BINANCE.ws.1.0.gz')).toBe('binance-spot');
    expect(tardisVenue('binance-futures')).toBe('binance-usdm');
    expect(tardisVenue('bybit-spot')).toBe('bybit');
    expect(tardisVenue('deribit')).toBe('deribit');
  });

  it('JSON-line detection goes through the venues', () => {
    expect(detectFormat(['{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade"}}'], 'x.jsonl')).toBe('binance-jsonl');
    expect(detectFormat(['{"topic":"publicTrade.BTCUSDT","data":[]}'], 'x.jsonl')).toBe('bybit-jsonl');
    expect(detectFormat(['{"channel":"market_trades","events":[]}'], 'x.jsonl')).toBe('coinbase-jsonl');
    expect(detectFormat(['1723075200123456789 {"stream":"btcusdt@depth","data":{"e":"depthUpdate"}}'], 'x.gz')).toBe('binance-capture');
  });
});

describe('tapeflow config check accepts every live venue', () => {
  let out = '', err = '';
  beforeEach(() => {
    out = ''; err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
    vi.stubEnv('TAPEFLOW_CONFIG', '');
  });
  afterEach(() => { vi.restoreAllMocks(); vi.unstubAllEnvs(); });

  it.each(['binance-coinm', 'bybit-spot'])('%s', async (venue) => {
    const p = join(dir, `${venue}.yaml`);
    writeFileSync(p, `feeds:\n  - venue: ${venue}\n    symbols: [BTCUSDT]\n`);
    const code = await configCommand.run(['check', p]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^OK: .*1 feed \(1 enabled, 1 symbols?\)/);
  });

  it('still rejects an unknown venue', async () => {
    const p = join(dir, 'bad.yaml');
    writeFileSync(p, 'feeds:\n  - venue: kraken\n    symbols: [XBTUSD]\n');
    const code = await configCommand.run(['check', p]);
    expect(code).not.toBe(0);
    expect(err).toMatch(/feeds\[0\]\.venue: must be one of binance-usdm, .*binance-coinm, .*bybit-spot/);
  });
});

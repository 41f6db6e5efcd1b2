import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import type { MarketEvent } from '../../engine/src/core/events.js';
import { detectFormat, instrumentFromFileName, parseEpochMs, parseIsoMs, replayFile, replayFiles, ReplayLineError, type ReplayOptions } from '../../engine/src/replay/index.js';

const dir = mkdtempSync(join(tmpdir(), 'replay-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function run(path: string, opts: Partial<ReplayOptions> = {}) {
  const events: MarketEvent[] = [];
  const errors: ReplayLineError[] = [];
  const stats = await replayFile(path, (ev) => events.push({ ...ev } as MarketEvent), { registry: new InstrumentRegistry(), onError: (e) => errors.push(e), ...opts });
  return { events, errors, stats };
}

/** minimal single-entry zip writer (stored or deflated) */
function zip(name: string, data: Buffer, deflate: boolean): Buffer {
  const body = deflate ? deflateRawSync(data) : data;
  const crc = crc32(data);
  const nameBuf = Buffer.from(name);
  const lh = Buffer.alloc(30);
  lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(deflate ? 8 : 0, 8);
  lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(body.length, 18); lh.writeUInt32LE(data.length, 22); lh.writeUInt16LE(nameBuf.length, 26);
  const cd = Buffer.alloc(46);
  cd.writeUInt32LE(0x02014b50, 0); cd.writeUInt16LE(20, 4); cd.writeUInt16LE(20, 6); cd.writeUInt16LE(deflate ? 8 : 0, 10);
  cd.writeUInt32LE(crc, 16); cd.writeUInt32LE(body.length, 20); cd.writeUInt32LE(data.length, 24); cd.writeUInt16LE(nameBuf.length, 28);
  cd.writeUInt32LE(0, 42);
  const cdOffset = 30 + nameBuf.length + body.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(1, 8); eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(46 + nameBuf.length, 12); eocd.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([lh, nameBuf, body, cd, nameBuf, eocd]);
}

const AGG = [
  'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker',
  '100,61800.30,0.006,200,201,1723161256322,false',
  '101,61800.20,1.250,202,202,1723161256400,true',
].join('\n') + '\n';

describe('time parsing', () => {
  it('detects epoch units by magnitude and keeps ns exact', () => {
    expect(parseEpochMs('1723161256')).toBe(1723161256000);
    expect(parseEpochMs('1626992741.06217')).toBe(1626992741062);
    expect(parseEpochMs('1723161256322')).toBe(1723161256322);
    expect(parseEpochMs('1582329602111000')).toBe(1582329602111);
    expect(parseEpochMs('1723161255030314667')).toBe(1723161255030);
    expect(parseEpochMs('17x')).toBeNaN();
  });
  it('parses ISO-8601 variants', () => {
    expect(parseIsoMs('2021-04-17T16:43:37.089723Z')).toBe(Date.UTC(2021, 3, 17, 16, 43, 37, 89));
    expect(parseIsoMs('2013-01-01 22:00:00.295000+00:00')).toBe(Date.UTC(2013, 0, 1, 22, 0, 0, 295));
    expect(parseIsoMs('2020-01-30T15:28:09.820+02:00')).toBe(Date.UTC(2020, 0, 30, 13, 28, 9, 820));
    expect(parseIsoMs('2024.01.02')).toBe(Date.UTC(2024, 0, 2));
    expect(new Date(parseIsoMs('0001-01-01T00:00:00Z')).getUTCFullYear()).toBe(1);
    expect(parseIsoMs('2021-13-01T00:00:00Z')).toBeNaN();
  });
});

describe('input decoding', () => {
  it('reads gzip by magic bytes regardless of the extension, CRLF lines', async () => {
    const p = file('BTCUSDT-aggTrades-2024-08-08.csv', gzipSync(Buffer.from(AGG.replace(/\n/g, '\r\n'))));
    const { events, stats } = await run(p);
    expect(stats.format).toBe('binance-archive-aggtrades');
    expect(stats.trades).toBe(2);
    expect(stats.badLines).toBe(0);
    expect(events[1]).toMatchObject({ type: 'trade', instrument: 'BTCUSDT', price: 618002, size: 1250, side: 'sell', sideSource: 'flag', id: 101 });
  });

  it('a truncated gzip rejects instead of hanging', async () => {
    const gz = gzipSync(Buffer.from(AGG.repeat(50)));
    const p = file('btcusdt_trunc.csv', gz.subarray(0, gz.length - 20));
    await expect(replayFile(p, () => {}, { registry: new InstrumentRegistry() })).rejects.toThrow(/unexpected end|end of file/i);
  });

  it('reads stored and deflated single-entry zips', async () => {
    for (const deflate of [false, true]) {
      const p = file(`z${deflate ? 8 : 0}.zip`, zip('BTCUSDT-aggTrades-2024-08-08.csv', Buffer.from(AGG), deflate));
      const { events, stats } = await run(p);
      expect(stats.trades).toBe(2);
      expect(events[0]).toMatchObject({ instrument: 'BTCUSDT', price: 618003, size: 6, side: 'buy' });
    }
  });

  it('decodes UTF-16 LE and BE with BOM', async () => {
    const text = 'timestamp,bid,ask\r\n2013-01-01 22:00:00.295000+00:00,86.655,86.728\r\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le).swap16(); // BOM becomes FE FF
    expect([be[0], be[1]]).toEqual([0xfe, 0xff]);
    for (const [name, buf] of [['usdjpy_le.csv', le], ['usdjpy_be.csv', be]] as const) {
      const { events, stats } = await run(file(name, buf));
      expect(stats.format).toBe('truefx-usdjpy');
      expect(events).toEqual([{ type: 'quote', instrument: 'USDJPY', ts: Date.UTC(2013, 0, 1, 22, 0, 0, 295), bid: 86655, ask: 86728, bidSize: 0, askSize: 0 }]);
    }
  });

  it('strips a UTF-8 BOM and reports progress up to the file size', async () => {
    const p = file('btcusdt-agg-bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(AGG)]));
    let last = [0, 0];
    const { stats } = await run(p, { onProgress: (a, b) => { last = [a, b]; } });
    expect(stats.trades).toBe(2);
    expect(stats.badLines).toBe(0);
    expect(last[0]).toBe(last[1]);
    expect(last[1]).toBe(AGG.length + 3);
  });
});

describe('bad rows', () => {
  const body = AGG + '102,notaprice,0.1,203,203,1723161256500,true\n\n103,61801.00,0.002,204,204,1723161256600,false';
  it('counts, reports with file:line and skips a bad row', async () => {
    const p = file('btcusdt_bad.csv', body);
    const { events, errors, stats } = await run(p);
    expect(stats.trades).toBe(3);
    expect(stats.badLines).toBe(1);
    expect(stats.lines).toBe(6);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.file).toBe(p);
    expect(errors[0]!.line).toBe(4);
    expect(errors[0]!.reason).toContain('invalid price');
    expect(events.map((e) => (e as { id: number }).id)).toEqual([100, 101, 103]);
  });
  it('strict mode throws the first bad row', async () => {
    const p = file('btcusdt_bad2.csv', body);
    await expect(replayFile(p, () => {}, { registry: new InstrumentRegistry(), strict: true })).rejects.toThrow(`${p}:4: invalid price`);
  });
  it('errors thrown by the sink propagate unchanged', async () => {
    const p = file('btcusdt_ok.csv', AGG);
    await expect(replayFile(p, () => { throw new RangeError('sink full'); }, { registry: new InstrumentRegistry() })).rejects.toThrow(RangeError);
  });
  it('a file without a resolvable instrument fails every row with a clear reason', async () => {
    const p = file('trades.csv', AGG);
    // every row bad = 0 events: an error naming the file and why, with the row errors reported first
    const errors: ReplayLineError[] = [];
    await expect(replayFile(p, () => {}, { registry: new InstrumentRegistry(), onError: (e) => errors.push(e) })).rejects.toThrow(/trades\.csv: read as binance-archive-aggtrades, 0 events: all 2 data lines were malformed/);
    expect(errors.length).toBe(2);
    expect(errors[0]!.reason).toContain('no symbol in the data');
    const forced = await run(p, { instrument: 'ETHUSDT' });
    expect(forced.stats.badLines).toBe(0);
    expect(forced.events[0]).toMatchObject({ instrument: 'ETHUSDT', price: 6180030 });
  });
  it('replayFiles runs sequentially in order', async () => {
    const a = file('ethusdt_a.csv', AGG);
    const b = file('btcusdt_b.csv', AGG);
    const order: string[] = [];
    const stats = await replayFiles([a, b], (ev) => order.push(ev.instrument), { registry: new InstrumentRegistry() });
    expect(stats.map((s) => s.file)).toEqual([a, b]);
    expect(order).toEqual(['ETHUSDT', 'ETHUSDT', 'BTCUSDT', 'BTCUSDT']);
  });
});

describe('file-name instruments and detection', () => {
  const reg = new InstrumentRegistry();
  it('maps capture and forex file names', () => {
    expect(instrumentFromFileName('/x/usdm_btcusdt_20240808.gz', reg)).toBe('BTCUSDT');
    expect(instrumentFromFileName('spot_btcusdt_20240809.gz', reg)).toBe('BINANCE_SPOT:BTCUSDT');
    expect(instrumentFromFileName('cm_btcusd_perp_20240808.gz', reg)).toBe('BINANCE_COINM:BTCUSD_PERP');
    expect(instrumentFromFileName('truefx_audusd_20200130_31_ticks.csv.gz', reg)).toBe('AUDUSD');
    expect(instrumentFromFileName('ticks.csv', reg)).toBeUndefined();
  });
  it('detects every format from content', () => {
    const cases: Array<[string[], string]> = [
      [['1723161255030314667 {"stream":"btcusdt@trade","data":{}}'], 'binance-capture'],
      [['{"stream":"btcusdt@trade","data":{"e":"trade"}}'], 'binance-jsonl'],
      [['agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker'], 'binance-archive-aggtrades'],
      [['100,61800.30,0.006,200,201,1723161256322,false,true'], 'binance-archive-aggtrades'],
      [['100,61800.30,0.006,200,201,1723161256322,false'], 'binance-archive-aggtrades'],
      [['id,price,qty,quote_qty,time,is_buyer_maker'], 'binance-archive-trades'],
      [['5266583935,61800.30,0.006,370.8018,1723161256322,false'], 'binance-archive-trades'],
      [['5266583935,61800.30,0.006,370.8018,1723161256322000,False,True'], 'binance-archive-trades'],
      [['exchange,symbol,timestamp,local_timestamp,id,side,price,amount'], 'tardis-trades'],
      [['exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount'], 'tardis-incremental-l2'],
      [['exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,bids[0].amount'], 'tardis-book-snapshot'],
      [['ts_utc,ts_ns,bid,ask'], 'truefx'],
      [['EUR/USD,20200130 15:28:09.820,1.10295,1.10299'], 'truefx'],
      [['20200101 170000065,1.121200,1.121720,0'], 'histdata'],
      [['timestamp,bid,ask'], 'truefx-usdjpy'],
      [['<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>'], 'mt5-ticks'],
      [['2024.01.02\t10:00:00.123\t1.1\t1.2\t\t\t6'], 'mt5-ticks'],
      [['time,price,size,side'], 'generic-csv'],
      [['wss://ws-feed.pro.coinbase.com <-> 1618677816.8434298'], 'cryptofeed'],
      [['https://fapi.binance.com/fapi/v1/depth?symbol=X&limit=1000 -> 1626992741.301402: {"lastUpdateId":1}'], 'cryptofeed'],
      [['{"topic":"orderbook.500.XRPUSDT","type":"snapshot","ts":1,"data":{}}'], 'bybit-jsonl'],
      [['{"type":"match","product_id":"BTC-USD"}'], 'coinbase-jsonl'],
      [['{"channel":"market_trades","events":[]}'], 'coinbase-jsonl'],
      [['ts_recv_ns,ts_event_ns,ts_recv_iso,symbol,instrument_id,action,side,price,size,order_id,flags,sequence,channel_id'], 'cme-mbo'],
      [['{"recv":1,"venue":"bybit","frame":{}}'], 'recorder-ndjson'],
    ];
    for (const [lines, want] of cases) expect([lines[0], detectFormat(['', ...lines], 'x')]).toEqual([lines[0], want]);
    expect(() => detectFormat(['hello world'], 'x.txt')).toThrow(/unknown format/);
  });
});

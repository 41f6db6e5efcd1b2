import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import type { BookDelta, BookSnapshot, MarketEvent, MboEvent, Quote, Trade } from '../../engine/src/core/events.js';
import { FeedContext, parseVenueFrame, replayFile, type ReplayLineError, type ReplayOptions } from '../../engine/src/replay/index.js';

const dir = mkdtempSync(join(tmpdir(), 'replay-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function run(path: string, opts: Partial<ReplayOptions> = {}) {
  const events: MarketEvent[] = [];
  const errors: ReplayLineError[] = [];
  const registry = opts.registry ?? new InstrumentRegistry();
  const stats = await replayFile(path, (ev) => events.push({ ...ev } as MarketEvent), { registry, onError: (e) => errors.push(e), ...opts });
  return { events, errors, stats, registry };
}

const of = <T extends MarketEvent['type']>(evs: MarketEvent[], t: T) => evs.filter((e) => e.type === t) as Extract<MarketEvent, { type: T }>[];

describe('Binance raw capture (hftbacktest)', () => {
  const lines = [
    '1723161255030314667 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,"T":1723161256298,"s":"BTCUSDT","U":100,"u":105,"pu":99,"b":[["61800.20","0.014"],["61700.00","0.000"]],"a":[["61800.30","1.211"]]}}',
    '1723161255088169167 {"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":106,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}}',
    '1723161255088176367 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256321,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}',
    '1723161255088176999 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583936,"p":"61800.20","q":"0.100","X":"MARKET","m":true}}',
    '1723161255319702566 {"lastUpdateId":104,"E":1723161256501,"T":1723161256493,"bids":[["61800.20","2.909"]],"asks":[["61800.30","0.5"]]}',
    '1723161255400000000 {"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1723161256600,"a":777,"s":"BTCUSDT","p":"61800.30","q":"0.010","f":1,"l":2,"T":1723161256599,"m":true}}',
    '1723161255500000000 {"stream":"btcusdt@kline_1m","data":{"e":"kline","s":"BTCUSDT"}}',
  ];
  it('turns usdm frames into deltas, quotes, trades and the bare REST snapshot', async () => {
    const { events, stats } = await run(file('usdm_btcusdt_20240808.gz', gzipSync(lines.join('\n') + '\n')));
    expect(stats).toMatchObject({ format: 'binance-capture', lines: 7, events: 6, trades: 3, quotes: 1, bookEvents: 2, badLines: 0, instruments: ['BTCUSDT'], offGrid: 0 });
    expect(events[0]).toEqual({ type: 'book_delta', instrument: 'BTCUSDT', ts: 1723161256298, firstSeq: 100, seq: 105, prevSeq: 99, bids: [[618002, 14], [617000, 0]], asks: [[618003, 1211]] } satisfies BookDelta);
    expect(events[1]).toEqual({ type: 'quote', instrument: 'BTCUSDT', ts: 1723161256313, bid: 618002, ask: 618003, bidSize: 2507, askSize: 2510 } satisfies Quote);
    expect(events[2]).toEqual({ type: 'trade', instrument: 'BTCUSDT', ts: 1723161256321, id: 5266583935, price: 618003, size: 6, side: 'buy', sideSource: 'flag' } satisfies Trade);
    expect(events[3]).toMatchObject({ id: 5266583936, side: 'sell', sideSource: 'flag', size: 100 });
    expect(events[4]).toEqual({ type: 'book_snapshot', instrument: 'BTCUSDT', ts: 1723161255319, seq: 104, bids: [[618002, 2909]], asks: [[618003, 500]] } satisfies BookSnapshot);
    expect(events[5]).toMatchObject({ type: 'trade', id: 777, side: 'sell', ts: 1723161256599 });
  });
  it('spot frames: no pu (NaN), bookTicker without e/E takes the receive time', async () => {
    const spot = [
      '1723161253937085768 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50,"u":52,"b":[["61737.63000000","0.00000000"]],"a":[]}}',
      '1723161254087891268 {"stream":"btcusdt@bookTicker","data":{"u":53,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}',
    ];
    const { events } = await run(file('spot_btcusdt_20240808.gz', gzipSync(spot.join('\n'))));
    const d = events[0] as BookDelta;
    expect(d.instrument).toBe('BINANCE_SPOT:BTCUSDT');
    expect(d.prevSeq).toBeNaN();
    expect([d.firstSeq, d.seq, d.ts]).toEqual([50, 52, 1723161255208]);
    expect(events[1]).toEqual({ type: 'quote', instrument: 'BINANCE_SPOT:BTCUSDT', ts: 1723161254087, bid: 6183763, ask: 6183764, bidSize: 378826000, askSize: 154698000, localTime: true }); // lots of 1e-8; receive time, flagged
  });
});

describe('Binance archive CSVs', () => {
  it('trades without header, spot µs times, True/False flags', async () => {
    const csv = '5266583935,61800.30,0.006,370.8018,1735689600123456,False,True\n5266583936,61800.31,0.25,1.0,1735689600124999,True,True\n';
    const { events, stats } = await run(file('BTCUSDT-trades-2025-01-01.csv', csv), { instrument: 'BINANCE_SPOT:BTCUSDT' });
    expect(stats.format).toBe('binance-archive-trades');
    expect(events).toEqual([
      { type: 'trade', instrument: 'BINANCE_SPOT:BTCUSDT', ts: 1735689600123, id: 5266583935, price: 6180030, size: 600000, side: 'buy', sideSource: 'flag' },
      { type: 'trade', instrument: 'BINANCE_SPOT:BTCUSDT', ts: 1735689600124, id: 5266583936, price: 6180031, size: 25000000, side: 'sell', sideSource: 'flag' },
    ]);
  });
  it('trades with header (futures)', async () => {
    const csv = 'id,price,qty,quote_qty,time,is_buyer_maker\n42,3000.01,1.5,4500.015,1723161256322,true\n';
    const { events } = await run(file('ETHUSDT-trades-2024-08-08.csv', csv));
    expect(events[0]).toMatchObject({ instrument: 'ETHUSDT', id: 42, price: 300001, size: 1500, side: 'sell', ts: 1723161256322 });
  });
});

describe('Tardis CSVs', () => {
  it('trades: symbol from the data, taker side, µs', async () => {
    const csv = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount\nbinance-futures,ETHUSDT,1582329602111000,1582329602418379,42377944,buy,268.5,0.132\nbitmex,XBTUSD,1583020803145000,1583020803307160,ccc3c1fa-212c,unknown,8531.5,2152\n';
    const { events, registry } = await run(file('t.csv', csv));
    expect(events[0]).toEqual({ type: 'trade', instrument: 'ETHUSDT', ts: 1582329602111, id: 42377944, price: 26850, size: 132, side: 'buy', sideSource: 'flag' });
    expect(events[1]).toMatchObject({ instrument: 'BITMEX:XBTUSD', id: 0, side: 'unknown', sideSource: 'none', ts: 1583020803145 });
    const x = registry.get('BITMEX:XBTUSD');
    expect(x.price.format((events[1] as Trade).price)).toBe('8531.50');
    expect(x.qty.format((events[1] as Trade).size)).toBe('2152.00000000');
  });
  it('book_snapshot_N rows → BookSnapshot', async () => {
    const csv = 'exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,bids[0].amount,asks[1].price,asks[1].amount,bids[1].price,bids[1].amount\n'
      + 'binance-futures,BTCUSDT,1598918403696000,1598918403810979,11657.1,1.714,11657.0,10.896,11657.5,5.4,,\n';
    const { events } = await run(file('snap.csv', csv));
    expect(events).toEqual([{ type: 'book_snapshot', instrument: 'BTCUSDT', ts: 1598918403696, seq: NaN, bids: [[116570, 10896]], asks: [[116571, 1714], [116575, 5400]] }]);
  });
  it('incremental_book_L2 groups rows by local timestamp into snapshot then deltas', async () => {
    const csv = 'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n'
      + 'deribit,BTC-PERPETUAL,1585699200245000,1585699200355684,true,ask,6421.5,18640\n'
      + 'deribit,BTC-PERPETUAL,1585699200245000,1585699200355684,true,bid,6421,100\n'
      + 'deribit,BTC-PERPETUAL,1585699200300000,1585699200400000,false,bid,6421,0\n'
      + 'deribit,BTC-PERPETUAL,1585699200300000,1585699200400000,false,ask,6422,5\n'
      + 'deribit,BTC-PERPETUAL,1585699200500000,1585699200600000,false,bid,6420.5,7\n';
    const { events, stats } = await run(file('inc.csv', csv));
    expect(stats.bookEvents).toBe(3);
    expect(events[0]).toMatchObject({ type: 'book_snapshot', instrument: 'DERIBIT:BTC-PERPETUAL', ts: 1585699200245, bids: [[642100, 100 * 1e8]], asks: [[642150, 18640 * 1e8]] });
    expect(events[1]).toMatchObject({ type: 'book_delta', ts: 1585699200300, bids: [[642100, 0]], asks: [[642200, 5e8]] });
    expect(events[2]).toMatchObject({ type: 'book_delta', bids: [[642050, 7e8]], asks: [] });
  });
});

describe('forex quote files', () => {
  it('truefx ts_ns layout and raw TrueFX layout', async () => {
    const a = await run(file('truefx_audusd_x.csv', 'ts_utc,ts_ns,bid,ask\n2020-01-30T15:28:09.820Z,1580398089820000000,0.67067,0.67070\n'));
    expect(a.events).toEqual([{ type: 'quote', instrument: 'AUDUSD', ts: 1580398089820, bid: 67067, ask: 67070, bidSize: 0, askSize: 0 }]);
    const b = await run(file('raw.csv', 'EUR/USD,20200130 15:28:09.820,1.10295,1.10299\nGBP/USD,20200130 15:28:09.821,1.30001,1.30011\n'));
    expect(b.stats.format).toBe('truefx');
    expect(b.events.map((e) => [e.instrument, e.ts, (e as Quote).bid])).toEqual([['EURUSD', 1580398089820, 110295], ['GBPUSD', 1580398089821, 130001]]);
  });
  it('histdata: EST = UTC-5 without DST', async () => {
    const { events, stats } = await run(file('histdata_eurusd_x.csv', '20200101 170000065,1.121200,1.121720,0\r\n20200701 120000000,1.100000,1.100020,0\r\n'));
    expect(stats.format).toBe('histdata');
    expect(events.map((e) => e.ts)).toEqual([Date.UTC(2020, 0, 1, 22, 0, 0, 65), Date.UTC(2020, 6, 1, 17, 0, 0, 0)]);
    expect((events[0] as Quote).bid).toBe(112120);
  });
});

describe('MT5 tick export', () => {
  const rows = [
    '<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>',
    '2024.01.02\t10:00:00.123\t1.10001\t1.10005\t\t\t6',
    '2024.01.02\t10:00:00.456\t\t1.10007\t\t\t4',
    '2024.01.02\t10:00:01.000\t\t\t1.10006\t2.50\t88',
    '2024.01.02\t10:00:01.500\t\t\t1.10004\t1\t120',
    '2024.01.02\t10:00:02.000\t1.10002\t\t\t\t2',
  ];
  it('UTF-16 LE with BOM and CRLF, carries the other side forward, flags give the side, broker offset', async () => {
    const buf = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(rows.join('\r\n') + '\r\n', 'utf16le')]);
    const { events, stats } = await run(file('EURUSD_ticks.csv', buf), { brokerUtcOffsetMinutes: 120 });
    expect(stats).toMatchObject({ format: 'mt5-ticks', quotes: 3, trades: 2, badLines: 0 });
    const t0 = Date.UTC(2024, 0, 2, 8, 0, 0, 123);
    expect(events[0]).toEqual({ type: 'quote', instrument: 'EURUSD', ts: t0, bid: 110001, ask: 110005, bidSize: 0, askSize: 0 });
    expect(events[1]).toMatchObject({ type: 'quote', bid: 110001, ask: 110007 });
    expect(events[2]).toEqual({ type: 'trade', instrument: 'EURUSD', ts: Date.UTC(2024, 0, 2, 8, 0, 1), id: 0, price: 110006, size: 250, side: 'sell', sideSource: 'flag' });
    expect(events[3]).toMatchObject({ type: 'trade', size: 100, side: 'unknown', sideSource: 'none' });
    expect(events[4]).toMatchObject({ type: 'quote', bid: 110002, ask: 110007 });
  });
  it('UTF-8 without header; a bad FLAGS row is skipped', async () => {
    const body = rows.slice(1).join('\n').replace('\t88', '\t40') + '\n2024.01.02\t10:00:03.000\t1.1\t1.2\t\t\tx\n';
    const { events, stats, errors } = await run(file('x.tsv', body), { instrument: 'EURUSD' });
    expect(stats.format).toBe('mt5-ticks');
    expect(events[2]).toMatchObject({ type: 'trade', side: 'buy', ts: Date.UTC(2024, 0, 2, 10, 0, 1) });
    expect(stats.badLines).toBe(1);
    expect(errors[0]!.line).toBe(6);
    expect(errors[0]!.reason).toContain('FLAGS');
  });
});

describe('generic CSV', () => {
  it('header-driven with ISO and epoch times and sides', async () => {
    const csv = 'timestamp;price;amount;side\n2024-08-08T23:54:15.123Z;61800.3;0.5;b\n1723161256;61800.4;0.25;SELL\n1723161256000;61800.5;1;unknown\n';
    const { events, stats } = await run(file('btcusdt_generic.csv', csv));
    expect(stats.format).toBe('generic-csv');
    expect(events.map((e) => { const t = e as Trade; return [t.ts, t.price, t.size, t.side, t.sideSource]; })).toEqual([
      [Date.UTC(2024, 7, 8, 23, 54, 15, 123), 618003, 500, 'buy', 'flag'],
      [1723161256000, 618004, 250, 'sell', 'flag'],
      [1723161256000, 618005, 1000, 'unknown', 'none'],
    ]);
  });
});

describe('cryptofeed captures', () => {
  it('Binance futures ws + http: venue from URL, small perps registered with inferred ticks', async () => {
    const ws = [
      'wss://fstream.binance.com/stream?streams=sushiusdt@aggTrade <-> 1626992740.179554',
      'wss://fstream.binance.com/stream?streams=sushiusdt@aggTrade <- 1626992740.2: {"method":"SUBSCRIBE"}',
      '1626992741.06217: {"stream":"sushiusdt@bookTicker","data":{"e":"bookTicker","u":600859600576,"s":"SUSHIUSDT","b":"7.6110","B":"2","a":"7.6120","A":"297","T":1626992741012,"E":1626992741017}}',
      '1626992742.289739: {"stream":"sushiusdt@aggTrade","data":{"e":"aggTrade","E":1626992741575,"a":16599292,"s":"SUSHIUSDT","p":"7.6120","q":"10","f":1,"l":1,"T":1626992741421,"m":false}}',
    ];
    const reg = new InstrumentRegistry();
    const a = await run(file('BINANCE_FUTURES.ws.1.0.gz', gzipSync(ws.join('\n'))), { registry: reg });
    expect(a.stats.format).toBe('cryptofeed');
    expect(a.events[0]).toEqual({ type: 'quote', instrument: 'SUSHIUSDT', ts: 1626992741012, bid: 76110, ask: 76120, bidSize: 2, askSize: 297 });
    expect(a.events[1]).toMatchObject({ type: 'trade', id: 16599292, price: 76120, size: 10, side: 'buy' });
    const sushi = reg.get('SUSHIUSDT');
    expect([sushi.venue, sushi.tickSize, sushi.lotStep]).toEqual(['binance-usdm', '0.0001', '1']);
    const http = 'https://fapi.binance.com/fapi/v1/depth?symbol=CTKUSDT&limit=1000 -> 1626992742.283408: {"lastUpdateId":600859618836,"E":1626992741986,"T":1626992741972,"bids":[["1.01000","85782"]],"asks":[["1.01100","10"]]}\n';
    const b = await run(file('BINANCE_FUTURES.http.0.0.gz', gzipSync(http)), { registry: reg });
    expect(b.events).toEqual([{ type: 'book_snapshot', instrument: 'CTKUSDT', ts: 1626992742283, seq: 600859618836, bids: [[101000, 85782]], asks: [[101100, 10]] }]);
    expect(reg.get('CTKUSDT').tickSize).toBe('0.00001');
  });
  it('Coinbase Pro: match side is the maker side (inverted), snapshot/l2update', async () => {
    const ws = [
      'wss://ws-feed.pro.coinbase.com <-> 1618677816.8434298',
      '1618677817.077736: {"type":"snapshot","product_id":"SKL-USD","asks":[["0.7920","12.77"]],"bids":[["0.7910","3.5"]]}',
      '1618677817.118783: {"type":"l2update","product_id":"SKL-USD","changes":[["sell","0.7920","0"],["buy","0.7911","660.5"]],"time":"2021-04-17T16:43:37.075687Z"}',
      '1618677817.1299179: {"type":"match","trade_id":1568268,"side":"sell","size":"450","price":"0.791","product_id":"SKL-USD","sequence":201390075,"time":"2021-04-17T16:43:37.121358Z"}',
      '1618677817.2: {"type":"last_match","trade_id":1568260,"side":"sell","size":"1","price":"0.791","product_id":"SKL-USD","sequence":201390000,"time":"2021-04-17T16:43:30Z"}',
    ];
    const { events, stats } = await run(file('COINBASE.ws.28.0.gz', gzipSync(ws.join('\n'))));
    expect(stats).toMatchObject({ trades: 1, bookEvents: 2, badLines: 0 });
    expect(events[0]).toMatchObject({ type: 'book_snapshot', instrument: 'COINBASE:SKL-USD', ts: 1618677817077, asks: [[7920, 1277000000]], bids: [[7910, 350000000]] });
    expect(events[1]).toMatchObject({ type: 'book_delta', ts: 1618677817075, asks: [[7920, 0]], bids: [[7911, 66050000000]] });
    expect(events[2]).toEqual({ type: 'trade', instrument: 'COINBASE:SKL-USD', ts: 1618677817121, id: 1568268, price: 7910, size: 45000000000, side: 'buy', sideSource: 'flag' });
  });
  it('Bybit v2 orderBookL2_25: id-only deletes resolved through the id→price map', async () => {
    const ws = [
      'wss://stream.bybit.com/realtime <-> 1618677785.489609',
      '1618677786.9: {"topic":"orderBookL2_25.BTCUSD","type":"snapshot","data":[{"price":"60591.00","symbol":"BTCUSD","id":605910000,"side":"Buy","size":14431},{"price":"60617.50","symbol":"BTCUSD","id":606175000,"side":"Sell","size":9}],"cross_seq":10,"timestamp_e6":1618677786558146}',
      '1618677787.0: {"topic":"orderBookL2_25.BTCUSD","type":"delta","data":{"delete":[{"symbol":"BTCUSD","id":605910000,"side":"Buy"}],"update":[{"price":"60617.50","symbol":"BTCUSD","id":606175000,"side":"Sell","size":156}],"insert":[{"price":"60590.50","symbol":"BTCUSD","id":605905000,"side":"Buy","size":7500}],"transactTimeE6":0},"cross_seq":11,"timestamp_e6":1618677786618874}',
      '1618677787.1: {"topic":"trade.BTCUSD","data":[{"trade_time_ms":1618677786614,"symbol":"BTCUSD","side":"Sell","size":4,"price":60621.5,"trade_id":"5ffb8b77","cross_seq":12}]}',
      '1618677787.2: {"topic":"orderBookL2_25.BTCUSD","type":"delta","data":{"delete":[{"symbol":"BTCUSD","id":1,"side":"Buy"}],"update":[],"insert":[]},"cross_seq":13,"timestamp_e6":1618677786700000}',
    ];
    const { events, stats, errors } = await run(file('BYBIT.ws.26.0.gz', gzipSync(ws.join('\n'))));
    // BYBIT:BTCUSD is a registry instrument (tick 0.5): prices in half-dollar ticks
    expect(events[0]).toEqual({ type: 'book_snapshot', instrument: 'BYBIT:BTCUSD', ts: 1618677786558, seq: 10, bids: [[121182, 14431]], asks: [[121235, 9]] });
    expect(events[1]).toEqual({ type: 'book_delta', instrument: 'BYBIT:BTCUSD', ts: 1618677786618, firstSeq: 11, seq: 11, prevSeq: NaN, bids: [[121182, 0], [121181, 7500]], asks: [[121235, 156]] });
    expect(events[2]).toMatchObject({ type: 'trade', price: 121243, size: 4, side: 'sell', sideSource: 'flag', ts: 1618677786614 });
    expect(stats.badLines).toBe(1);
    expect(errors[0]!.reason).toContain('unknown level id 1');
  });
});

describe('Bybit v5 and Coinbase JSON lines', () => {
  it('Bybit v5: snapshot seq = u, delta firstSeq = seq = u, publicTrade S = taker', async () => {
    const lines = [
      '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1680673821591,"data":{"s":"BTCUSDT","b":[["28555.20","0.597"]],"a":[["28555.30","0.225"]],"u":20683568,"seq":10916156551}}',
      '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1680673821651,"data":{"s":"BTCUSDT","b":[["28555.20","0"]],"a":[["28555.30","0.029"]],"u":20683569,"seq":10916156553}}',
      '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1680673823566,"data":[{"T":1680673823564,"s":"BTCUSDT","S":"Sell","v":"0.010","p":"28555.20","i":"0cbf2330","BT":false}]}',
      '{"success":true,"op":"subscribe"}',
    ];
    const { events, stats } = await run(file('bybit_frames.jsonl', lines.join('\n')));
    expect(stats.format).toBe('bybit-jsonl');
    expect(events[0]).toEqual({ type: 'book_snapshot', instrument: 'BYBIT:BTCUSDT', ts: 1680673821591, seq: 20683568, bids: [[285552, 597]], asks: [[285553, 225]] });
    expect(events[1]).toEqual({ type: 'book_delta', instrument: 'BYBIT:BTCUSDT', ts: 1680673821651, firstSeq: 20683569, seq: 20683569, prevSeq: NaN, bids: [[285552, 0]], asks: [[285553, 29]] });
    expect(events[2]).toEqual({ type: 'trade', instrument: 'BYBIT:BTCUSDT', ts: 1680673823564, id: 0, price: 285552, size: 10, side: 'sell', sideSource: 'flag' });
  });
  it('Coinbase legacy odd rows are bad lines, not crashes', async () => {
    const lines = [
      '{"type":"match","trade_id":216544,"side":"buy","size":"0.97133855","price":"4.97800000","product_id":"ETC-GBP","sequence":253395153,"time":"2019-08-01T00:00:03.816000Z"}',
      '{"type":"l2update","product_id":"BTC-EUR","changes":[["buy","9202.70","0.58667860"]],"time":"0001-01-01T00:00:00.000000Z"}',
      '{"type":"snapshot","product_id":"YFI-USD","asks":[["40584.89","0.039985"]],"bids":[["40531.19","0.-10000"]]}',
      '{"product_id":"BAT-USDC","type":"snapshot","bids":[["0.247175","5299"]],"asks":[["0.257175","12"]]}',
      '{"type":"ticker","sequence":1,"product_id":"BTC-USD","price":"17165.16","best_bid":"17165.15","best_bid_size":"0.61540890","best_ask":"17167.76","best_ask_size":"0.18528568","time":"2022-12-01T00:00:00.122581Z"}',
    ];
    const { events, stats, errors } = await run(file('coinbase_samples.jsonl', lines.join('\n')));
    expect(stats).toMatchObject({ format: 'coinbase-jsonl', badLines: 2, trades: 1, quotes: 1, bookEvents: 1 });
    expect(errors.map((e) => [e.line, e.reason])).toEqual([[2, 'time out of range (0001-01-01T00:00:00.000Z)'], [3, 'invalid bids size "0.-10000"']]);
    // "4.97800000" is padded: the tick comes from significant digits bounded at 1e-6 of the price (0.000001), not 1e-8
    expect(events[0]).toMatchObject({ instrument: 'COINBASE:ETC-GBP', side: 'sell', price: 4978000, size: 97133855 });
    // a snapshot without a time takes the previous message's time
    expect(events[1]).toMatchObject({ type: 'book_snapshot', instrument: 'COINBASE:BAT-USDC', ts: Date.UTC(2019, 7, 1, 0, 0, 3, 816) });
    expect(events[2]).toEqual({ type: 'quote', instrument: 'COINBASE:BTC-USD', ts: Date.UTC(2022, 11, 1, 0, 0, 0, 122), bid: 1716515, ask: 1716776, bidSize: 61540890, askSize: 18528568 });
  });
  it('Coinbase Advanced Trade market_trades / l2_data', () => {
    const ctx = new FeedContext(new InstrumentRegistry());
    const out: MarketEvent[] = [];
    const sink = (e: MarketEvent) => out.push({ ...e } as MarketEvent);
    parseVenueFrame('coinbase', '{"channel":"market_trades","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":0,"events":[{"type":"update","trades":[{"trade_id":"12345","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2023-02-09T20:19:35.1Z"}]}]}', NaN, ctx, sink);
    parseVenueFrame('coinbase', { channel: 'l2_data', timestamp: '2023-02-09T20:32:50.714964855Z', sequence_num: 7, events: [{ type: 'snapshot', product_id: 'ETH-USD', updates: [{ side: 'bid', event_time: '1970-01-01T00:00:00Z', price_level: '1260.00', new_quantity: '2' }, { side: 'offer', event_time: '1970-01-01T00:00:00Z', price_level: '1260.02', new_quantity: '1.5' }] }] }, NaN, ctx, sink);
    parseVenueFrame('coinbase', { channel: 'l2_data', timestamp: '2023-02-09T20:32:51Z', sequence_num: 8, events: [{ type: 'update', product_id: 'ETH-USD', updates: [{ side: 'bid', event_time: '2023-02-09T20:32:51Z', price_level: '1260.00', new_quantity: '0' }] }] }, NaN, ctx, sink);
    expect(out[0]).toEqual({ type: 'trade', instrument: 'COINBASE:ETH-USD', ts: Date.UTC(2023, 1, 9, 20, 19, 35, 100), id: 12345, price: 126001, size: 30000000, side: 'sell', sideSource: 'flag' });
    expect(out[1]).toEqual({ type: 'book_snapshot', instrument: 'COINBASE:ETH-USD', ts: Date.UTC(2023, 1, 9, 20, 32, 50, 714), seq: 7, bids: [[126000, 200000000]], asks: [[126002, 150000000]] });
    expect(out[2]).toMatchObject({ type: 'book_delta', firstSeq: 8, seq: 8, bids: [[126000, 0]], asks: [] });
  });
});

describe('CME MBO and raw recorder', () => {
  it('MBO rows → MboEvent, decimal and 1e-9 fixed-point prices, N side unknown, CME:ESH4 registered', async () => {
    const csv = [
      'ts_recv_ns,ts_event_ns,ts_recv_iso,symbol,instrument_id,action,side,price,size,order_id,flags,sequence,channel_id',
      '1703462400000000000,1703422805243925307,2023-12-25T00:00:00.000000000Z,ESH4,17077,A,B,4799,2,6412777162812,40,682,0',
      '1703545200105900877,1703545200000000000,2023-12-25T23:00:00.105900877Z,ESH4,17077,T,N,4800.25,44,0,0,6000,0',
      '1703545200107250074,1703545200085275419,2023-12-25T23:00:00.107250074Z,ESH4,17077,M,A,4800500000000,5,6412777265520,0,6006,0',
      '1703545200107250075,1703545200085275419,2023-12-25T23:00:00.107250074Z,ESH4,17077,R,N,,0,0,0,6007,0',
    ].join('\n');
    const { events, stats, registry } = await run(file('esh4_mbo.csv.gz', gzipSync(csv)));
    expect(stats).toMatchObject({ format: 'cme-mbo', bookEvents: 4, badLines: 0, instruments: ['CME:ESH4'] });
    expect(registry.get('CME:ESH4').tickSize).toBe('0.25');
    expect(events[0]).toEqual({ type: 'mbo', instrument: 'CME:ESH4', ts: 1703462400000, action: 'A', side: 'buy', price: 19196, size: 2, orderId: '6412777162812', seq: 682, flags: 40 } satisfies MboEvent);
    expect(events[1]).toMatchObject({ action: 'T', side: 'unknown', price: 19201, size: 44, ts: 1703545200105 });
    expect(events[2]).toMatchObject({ action: 'M', side: 'sell', price: 19202 });
    expect((events[3] as MboEvent).price).toBeNaN();
  });
  it('recorder NDJSON dispatches frames (object or string) to the venue parsers', async () => {
    const lines = [
      JSON.stringify({ recv: 1723161255030, venue: 'binance-usdm', frame: { stream: 'btcusdt@trade', data: { e: 'trade', E: 1723161256322, T: 1723161256322, s: 'BTCUSDT', t: 9, p: '61800.30', q: '0.006', m: true } } }),
      JSON.stringify({ recv: 1723161255031, venue: 'binance-spot', frame: JSON.stringify({ stream: 'btcusdt@bookTicker', data: { u: 1, s: 'BTCUSDT', b: '61837.63', B: '1', a: '61837.64', A: '2' } }) }),
      JSON.stringify({ recv: 1680673821700, venue: 'bybit', frame: { topic: 'publicTrade.BTCUSDT', ts: 1, data: [{ T: 1680673823564, s: 'BTCUSDT', S: 'Buy', v: '0.001', p: '28555.20', i: 'x' }] } }),
      JSON.stringify({ recv: 1, venue: 'kraken', frame: {} }),
    ];
    const { events, stats, errors } = await run(file('rec.ndjson.gz', gzipSync(lines.join('\n'))));
    expect(stats).toMatchObject({ format: 'recorder-ndjson', trades: 2, quotes: 1, badLines: 1 });
    expect(errors[0]!.reason).toContain('unknown venue');
    expect(events[0]).toMatchObject({ instrument: 'BTCUSDT', side: 'sell', id: 9 });
    expect(events[1]).toMatchObject({ instrument: 'BINANCE_SPOT:BTCUSDT', ts: 1723161255031, bid: 6183763 });
    expect(events[2]).toMatchObject({ instrument: 'BYBIT:BTCUSDT', side: 'buy', size: 1 });
  });
});

describe('flyweights', () => {
  it('trades are delivered in one reused object', async () => {
    const csv = 'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n1,10.5,1,1,1,1723161256322,false\n2,10.6,1,2,2,1723161256323,true\n';
    const seen: MarketEvent[] = [];
    await replayFile(file('ETHUSDT-aggTrades.csv', csv), (e) => seen.push(e), { registry: new InstrumentRegistry() });
    expect(seen[0]).toBe(seen[1]);
    expect((seen[1] as Trade).id).toBe(2);
  });
});

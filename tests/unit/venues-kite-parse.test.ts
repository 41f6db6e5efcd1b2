/**
 * Kite Ticker binary parser on byte-exact packets built from the documented layout: every mode (ltp 8,
 * index quote/full 28/32, quote 44, full 184), every segment divisor (paise /100, CDS /1e7, BCD /1e4),
 * heartbeats, malformed packets counted and skipped while good ones in the same message still count; the
 * instruments dump → exact tick/lot; snapshot → derived trades with the quote rule; and the three binary packets
 * zerodha/kiteconnectjs ships as test fixtures (pykiteconnect ships none).
 */
import { describe, expect, it } from 'vitest';
import { decodeKiteMessage, rawPrice } from '../../engine/src/venues/kite/packets.js';
import { parseInstrumentsCsv, kiteSpec } from '../../engine/src/venues/kite/instruments.js';
import { parseKiteFrame, kiteState, registerKiteInstruments } from '../../engine/src/venues/kite/parse.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { FeedContext } from '../../engine/src/replay/context.js';
import { BadRow } from '../../engine/src/replay/types.js';
import type { MarketEvent } from '../../engine/src/core/events.js';
import { KITE_CSV_HEADER, indexPacket, kiteMessage, ltpPacket, tickPacket } from '../helpers/kite.js';

// tokens: low byte = segment (RELIANCE NSE 738561 = 0xB4501 → segment 1)
const RELIANCE = 738561, NIFTY = 256265, USDINR_CDS = (5000 << 8) | 3, USDINR_BCD = (7000 << 8) | 6, NIFTY_CE = (50000 << 8) | 2;
const TS = 1_764_835_200; // 2025-12-04T08:00:00Z in seconds

describe('Kite packets', () => {
  it('ltp, index quote/full, quote and full decode field by field', () => {
    const full = tickPacket({
      token: RELIANCE, last: 141_250, lastQty: 7, avg: 141_012, volume: 1_234_567, buyQty: 90_000, sellQty: 80_000,
      open: 140_000, high: 142_000, low: 139_950, close: 139_800, lastTradeTime: TS - 1, oi: 0, oiHigh: 0, oiLow: 0, exchangeTime: TS,
      bids: [[10, 141_245, 2], [20, 141_240, 3], [30, 141_235, 4], [40, 141_230, 5], [50, 141_225, 6]],
      asks: [[11, 141_250, 1], [21, 141_255, 2], [31, 141_260, 3], [41, 141_265, 4], [51, 141_270, 65535]],
    });
    expect(full.length).toBe(184);
    const msg = decodeKiteMessage(kiteMessage([ltpPacket(RELIANCE, 141_250), indexPacket(NIFTY | 0, { last: 2_612_345, high: 2_620_000, low: 2_600_000, open: 2_605_000, close: 2_598_000, change: 14_345 }),
      indexPacket(NIFTY, { last: 2_612_345, high: 2_620_000, low: 2_600_000, open: 2_605_000, close: 2_598_000, change: -5, exchangeTime: TS }),
      tickPacket({ token: RELIANCE, last: 141_250, volume: 99, lastQty: 3, avg: 141_000, buyQty: 5, sellQty: 6, open: 1, high: 2, low: 3, close: 4 }, false), full]));
    expect(msg.malformed).toEqual([]);
    const [l, iq, ifl, q, f] = msg.packets;
    expect([l!.mode, l!.token, l!.segment, l!.last, rawPrice(l!.last, l!.decimals)]).toEqual(['ltp', RELIANCE, 1, 141_250, '1412.50']);
    expect([iq!.mode, iq!.index, iq!.high, iq!.low, iq!.open, iq!.close, iq!.change, iq!.exchangeTime]).toEqual(['quote', true, 2_620_000, 2_600_000, 2_605_000, 2_598_000, 14_345, undefined]);
    expect([ifl!.mode, ifl!.change, ifl!.exchangeTime, ifl!.segment]).toEqual(['full', -5, TS, 9]);
    expect([q!.mode, q!.lastQty, q!.avgPrice, q!.volume, q!.buyQty, q!.sellQty, q!.open, q!.high, q!.low, q!.close, q!.bids]).toEqual(['quote', 3, 141_000, 99, 5, 6, 1, 2, 3, 4, undefined]);
    expect([f!.mode, f!.volume, f!.lastTradeTime, f!.exchangeTime, f!.buyQty, f!.sellQty]).toEqual(['full', 1_234_567, TS - 1, TS, 90_000, 80_000]);
    expect(f!.bids![0]).toEqual([10, 141_245, 2]);
    expect(f!.asks![4]).toEqual([51, 141_270, 65535]);
    const oi = decodeKiteMessage(kiteMessage([tickPacket({ token: NIFTY_CE, last: 12_345, volume: 1500, oi: 4_500_000, oiHigh: 4_600_000, oiLow: 4_400_000, exchangeTime: TS })])).packets[0]!;
    expect([oi.segment, oi.oi, oi.oiDayHigh, oi.oiDayLow]).toEqual([2, 4_500_000, 4_600_000, 4_400_000]);
  });

  it('segment divisors: paise /100, CDS /10,000,000, BCD /10,000', () => {
    const m = decodeKiteMessage(kiteMessage([ltpPacket(RELIANCE, 141_250), ltpPacket(USDINR_CDS, 835_012_500), ltpPacket(USDINR_BCD, 835_125)])).packets;
    expect(m.map((p) => [p.segment, rawPrice(p.last, p.decimals)])).toEqual([[1, '1412.50'], [3, '83.5012500'], [6, '83.5125']]);
  });

  it('heartbeat is one byte; malformed packets are listed and skipped, good ones kept', () => {
    expect(decodeKiteMessage(new Uint8Array([0]))).toEqual({ heartbeat: true, packets: [], malformed: [] });
    const bad = kiteMessage([ltpPacket(RELIANCE, 1), new Uint8Array(5), new Uint8Array(50), tickPacket({ token: RELIANCE, last: 2, volume: 1 }).slice(0, 120), ltpPacket(RELIANCE, 3)]);
    const m = decodeKiteMessage(bad);
    expect(m.packets.map((p) => p.last)).toEqual([1, 3]);
    expect(m.malformed).toHaveLength(3);
    expect(m.malformed[0]).toMatch(/5 bytes/);
    expect(m.malformed[1]).toMatch(/length 50 names no mode/);
    expect(m.malformed[2]).toMatch(/truncated in its market depth \(120 of 184/);
    // a count the bytes do not hold
    const short = kiteMessage([ltpPacket(RELIANCE, 1)]);
    new DataView(short.buffer).setUint16(0, 3);
    const s = decodeKiteMessage(short);
    expect([s.packets.length, s.malformed[0]]).toEqual([1, 'message declares 3 packets but ends after 1']);
    const cut = decodeKiteMessage(kiteMessage([tickPacket({ token: RELIANCE, last: 2, volume: 1 })]).slice(0, 100));
    expect([cut.packets.length, cut.malformed[0]]).toEqual([0, 'packet 1 declares 184 bytes but only 96 remain']);
  });
});

const CSV = [
  KITE_CSV_HEADER,
  '738561,2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE',
  `${NIFTY_CE},50000,NIFTY25DEC26000CE,NIFTY,0,2025-12-30,26000,0.05,75,CE,NFO-OPT,NFO`,
  `${USDINR_CDS},5000,USDINR25DECFUT,USDINR,0,2025-12-29,0,0.0025,1,FUT,CDS-FUT,CDS`,
  '12,x,BAD,,0,,0,0,1,EQ,NSE,NSE',
].join('\n');

/**
 * The binary packets zerodha/kiteconnectjs ships as its ticker test fixtures (test/{ltp,quote,full}Mode_binary.packet
 * at commit 7951289, MIT licence), as hex. Expected values decoded by hand from the documented layout.
 */
const OFFICIAL = {
  ltp: '00010008000d80010000997f',
  quote: '0001002c000d80010000997f0000000200009d730153ad28000015f1000000000000a4100000a46a000098620000a1c2',
  full: '000100b8000d80010000997f0000000200009d730153ad28000015f1000000000000a4100000a46a000098620000a1c262ab05a000000000000000000000000062ab1198000015f10000997f001e' + '00'.repeat(110),
};
const hex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));

describe('Kite packets: the official library fixtures (kiteconnectjs)', () => {
  it('ltp, quote and full fixtures decode to the documented fields', () => {
    const ltp = decodeKiteMessage(hex(OFFICIAL.ltp));
    expect(ltp.malformed).toEqual([]);
    expect(ltp.packets).toEqual([{ token: 884737, segment: 1, decimals: 2, last: 39295, mode: 'ltp', index: false }]);
    const quote = decodeKiteMessage(hex(OFFICIAL.quote));
    expect(quote.packets).toEqual([{ token: 884737, segment: 1, decimals: 2, last: 39295, mode: 'quote', index: false, lastQty: 2, avgPrice: 40307, volume: 22261032, buyQty: 5617, sellQty: 0, open: 42000, high: 42090, low: 39010, close: 41410 }]);
    const full = decodeKiteMessage(hex(OFFICIAL.full));
    expect(full.malformed).toEqual([]);
    const f = full.packets[0]!;
    expect([f.mode, f.last, f.volume, f.lastTradeTime, f.oi, f.oiDayHigh, f.oiDayLow, f.exchangeTime]).toEqual(['full', 39295, 22261032, 1655375264, 0, 0, 0, 1655378328]);
    expect(f.bids).toEqual([[5617, 39295, 30], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(f.asks).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(rawPrice(f.last, f.decimals)).toBe('392.95');
    // through the parser: a quote and a one-level book at 392.95 (empty rows are no levels), time = exchange time
    const ctx = new FeedContext(new InstrumentRegistry());
    registerKiteInstruments(ctx, parseInstrumentsCsv(`${KITE_CSV_HEADER}\n884737,3456,TATAMOTORS,TATA MOTORS,0,,0,0.05,1,EQ,NSE,NSE`).instruments);
    const ev: MarketEvent[] = [];
    parseKiteFrame(hex(OFFICIAL.full), 0, ctx, (e) => ev.push(JSON.parse(JSON.stringify(e))));
    expect(ev.map((e) => e.type)).toEqual(['quote', 'book_snapshot']);
    expect(ev[1]).toMatchObject({ instrument: 'KITE:NSE:TATAMOTORS', ts: 1655378328000, bids: [[7859, 5617]], asks: [] }); // 392.95 / 0.05 ticks
  });
});

describe('Kite instruments dump', () => {
  it('exact tick and lot from the CSV; bad rows rejected with their line', () => {
    const d = parseInstrumentsCsv(CSV);
    expect(d.instruments.map((k) => [k.token, k.tradingsymbol, k.tickSize, k.lotSize, k.type, k.strike, k.expiry])).toEqual([
      [RELIANCE, 'RELIANCE', '0.05', 1, 'EQ', 0, ''], [NIFTY_CE, 'NIFTY25DEC26000CE', '0.05', 75, 'CE', 26000, '2025-12-30'], [USDINR_CDS, 'USDINR25DECFUT', '0.0025', 1, 'FUT', 0, '2025-12-29'],
    ]);
    expect(d.rejected).toEqual([[5, 'invalid tick_size "0"']]);
    const s = kiteSpec(d.instruments[1]!);
    expect([s.id, s.tickSize, s.lotStep, s.session]).toEqual(['KITE:NFO:NIFTY25DEC26000CE', '0.05', '75', { name: 'nse', timezone: 'Asia/Kolkata', start: '09:15', end: '15:30', days: [1, 2, 3, 4, 5] }]);
    expect(() => parseInstrumentsCsv('instrument_token,tradingsymbol\n1,X')).toThrow(/missing column\(s\) exchange, segment, tick_size/);
  });
});

describe('Kite frames → events', () => {
  function run(frames: Uint8Array[]): { ev: MarketEvent[]; ctx: FeedContext; errors: string[] } {
    const registry = new InstrumentRegistry();
    const ctx = new FeedContext(registry);
    registerKiteInstruments(ctx, parseInstrumentsCsv(CSV).instruments);
    const ev: MarketEvent[] = [], errors: string[] = [];
    frames.forEach((f, i) => { try { parseKiteFrame(f, Date.UTC(2025, 11, 4, 8) + i, ctx, (e) => ev.push({ ...e } as MarketEvent)); } catch (e) { if (e instanceof BadRow) errors.push(e.message); else throw e; } });
    return { ev, ctx, errors };
  }
  const depth = (bid: number, ask: number): Pick<Parameters<typeof tickPacket>[0], 'bids' | 'asks'> => ({ bids: [[100, bid, 1], [200, bid - 5, 2]], asks: [[150, ask, 1], [250, ask + 5, 2]] });

  it('volume increments become trades at LTP, quote rule against the preceding depth, book 5 levels', () => {
    const { ev, ctx, errors } = run([
      kiteMessage([tickPacket({ token: RELIANCE, last: 141_250, volume: 1000, exchangeTime: TS, ...depth(141_245, 141_250) })]),
      new Uint8Array([0]),
      // +30 at 1412.50 = the ask of the preceding depth → buy
      kiteMessage([tickPacket({ token: RELIANCE, last: 141_250, volume: 1030, exchangeTime: TS + 1, ...depth(141_240, 141_245) })]),
      // +5 at 1412.40 = the bid of the preceding depth (1412.40/1412.45) → sell
      kiteMessage([tickPacket({ token: RELIANCE, last: 141_240, volume: 1035, exchangeTime: TS + 2, ...depth(141_240, 141_245) })]),
      // no volume change: no trade; then a malformed packet beside a good one
      kiteMessage([tickPacket({ token: RELIANCE, last: 141_240, volume: 1035, exchangeTime: TS + 3, ...depth(141_240, 141_245) }), new Uint8Array(12)]),
    ]);
    const trades = ev.filter((e) => e.type === 'trade');
    expect(trades.map((t) => t.type === 'trade' && [t.instrument, t.price, t.size, t.side, t.sideSource, t.ts, t.id])).toEqual([
      ['KITE:NSE:RELIANCE', 28_250, 30, 'buy', 'quote', (TS + 1) * 1000, 1030],
      ['KITE:NSE:RELIANCE', 28_248, 5, 'sell', 'quote', (TS + 2) * 1000, 1035],
    ]);
    const book = ev.find((e) => e.type === 'book_snapshot');
    expect(book?.type === 'book_snapshot' && [book.bids, book.asks, book.seq]).toEqual([[[28_249, 100], [28_248, 200]], [[28_250, 150], [28_251, 250]], NaN]);
    const st = kiteState(ctx).stats;
    expect([st.heartbeats, st.packets, st.malformedPackets, st.derivedTrades]).toEqual([1, 4, 1, 2]);
    expect(errors).toEqual(['kite: 1 malformed packet(s) skipped: packet 2: packet length 12 names no mode (expected 8, 28, 32, 44 or 184)']);
  });

  it('a trade at the mid falls to the tick rule; a volume reset re-bases without a trade; recorded b64 frames parse the same', () => {
    const a = run([
      kiteMessage([tickPacket({ token: RELIANCE, last: 141_250, volume: 10, exchangeTime: TS, ...depth(141_240, 141_250) })]),
      kiteMessage([tickPacket({ token: RELIANCE, last: 141_245, volume: 20, exchangeTime: TS + 1, ...depth(141_240, 141_250) })]),
      kiteMessage([tickPacket({ token: RELIANCE, last: 141_245, volume: 5, exchangeTime: TS + 2, ...depth(141_240, 141_250) })]),
      kiteMessage([tickPacket({ token: RELIANCE, last: 141_250, volume: 9, exchangeTime: TS + 3, ...depth(141_240, 141_250) })]),
    ]).ev.filter((e) => e.type === 'trade');
    expect(a.map((t) => t.type === 'trade' && [t.size, t.side, t.sideSource])).toEqual([[10, 'sell', 'tick'], [4, 'buy', 'quote']]);
    const ctx = new FeedContext(new InstrumentRegistry());
    const out: MarketEvent[] = [];
    parseKiteFrame({ kite: 'instruments', rows: parseInstrumentsCsv(CSV).instruments }, 0, ctx, () => {});
    const bytes = kiteMessage([ltpPacket(USDINR_CDS, 835_012_500), tickPacket({ token: USDINR_CDS, last: 835_012_500, volume: 1, exchangeTime: TS, bids: [[1, 835_000_000, 1]], asks: [[1, 835_025_000, 1]] })]);
    parseKiteFrame({ kite: 'bin', b64: Buffer.from(bytes).toString('base64') }, TS * 1000, ctx, (e) => out.push({ ...e } as MarketEvent));
    const q = out.find((e) => e.type === 'quote');
    // CDS tick 0.0025: 83.5000000 → 33400 ticks, 83.5025 → 33401
    expect(q?.type === 'quote' && [q.instrument, q.bid, q.ask]).toEqual(['KITE:CDS:USDINR25DECFUT', 33_400, 33_401]);
  });
});

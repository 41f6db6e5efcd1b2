import { describe, expect, it } from 'vitest';
import { LineDecoder } from '../../mt5-bridge/src/line-decoder.js';
import { SymbolMapper } from '../../mt5-bridge/src/symbols.js';
import { computeMac } from '../../mt5-bridge/src/protocol.js';
import { createHmac } from 'node:crypto';

function decodeAll(chunks: Buffer[], maxLine = 1 << 20): { lines: string[]; bad: number; overflow: number; maxBuffered: number } {
  const lines: string[] = [];
  let bad = 0, overflow = 0;
  const d = new LineDecoder(maxLine, { line: (t) => lines.push(t), badUtf8: () => bad++, overflow: () => overflow++ });
  for (const c of chunks) d.push(c);
  return { lines, bad, overflow, maxBuffered: d.maxBuffered };
}

// multi-byte UTF-8 (2, 3 and 4 bytes), CRLF and LF endings, an empty line, a bad UTF-8 line
const STREAM = Buffer.concat([
  Buffer.from('{"t":"log","s":2,"msg":"Ünïcödé €uro 😀"}\r\n'),
  Buffer.from('{"t":"ticks","s":3,"sym":"EURUSD.r","ts":[[1717000000123,0,"1.08501","1.08503","0","0",6]]}\n'),
  Buffer.from('\n'),
  Buffer.from([0x7b, 0xc3, 0x28, 0x7d, 0x0a]), // invalid 2-byte sequence
  Buffer.from('{"t":"sym","s":4,"sym":"Индекс#1","desc":"中文"}\n'),
]);

describe('mt5 line decoder: fragmentation invariance (§9.2)', () => {
  const whole = decodeAll([STREAM]);

  it('decodes the whole stream: 3 good lines, CR stripped, empty line ignored, 1 bad UTF-8 line', () => {
    expect(whole.lines).toHaveLength(3);
    expect(whole.lines[0]).toBe('{"t":"log","s":2,"msg":"Ünïcödé €uro 😀"}');
    expect(JSON.parse(whole.lines[2]).sym).toBe('Индекс#1');
    expect(whole.bad).toBe(1);
  });

  it('is identical when split at every byte offset (inside UTF-8 characters and inside CRLF)', () => {
    for (let i = 1; i < STREAM.length; i++) {
      const r = decodeAll([STREAM.subarray(0, i), STREAM.subarray(i)]);
      expect(r.lines, `split at ${i}`).toEqual(whole.lines);
      expect(r.bad).toBe(1);
    }
  });

  it('is identical when delivered one byte at a time and when coalesced with copies of itself', () => {
    const bytes = [...STREAM].map((b) => Buffer.from([b]));
    expect(decodeAll(bytes).lines).toEqual(whole.lines);
    const three = decodeAll([Buffer.concat([STREAM, STREAM, STREAM])]);
    expect(three.lines).toEqual([...whole.lines, ...whole.lines, ...whole.lines]);
    expect(three.bad).toBe(3);
  });

  it('caps a line: overflow once, buffered bytes never above max_line', () => {
    const big = Buffer.alloc(5000, 0x61);
    const chunks: Buffer[] = [];
    for (let i = 0; i < big.length; i += 700) chunks.push(big.subarray(i, i + 700));
    const r = decodeAll(chunks, 1024);
    expect(r.overflow).toBe(1);
    expect(r.lines).toHaveLength(0);
    expect(r.maxBuffered).toBeLessThanOrEqual(1024);
    // exactly max_line bytes is allowed
    const ok = decodeAll([Buffer.concat([Buffer.alloc(1024, 0x62), Buffer.from('\n')])], 1024);
    expect(ok.overflow).toBe(0);
    expect(ok.lines[0]).toHaveLength(1024);
  });
});

describe('mt5 HMAC', () => {
  it('is HMAC-SHA256(secret, nonce|sid|conn|proto) in lower-case hex (RFC 4231 case 2 checks the primitive)', () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    expect(createHmac('sha256', 'Jefe').update('what do ya want for nothing?').digest('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    const mac = computeMac('s3cret', '00ff', 'abc', 3, 1);
    expect(mac).toBe(createHmac('sha256', 's3cret').update('00ff|abc|3|1').digest('hex'));
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('mt5 symbol mapping', () => {
  const m = new SymbolMapper();
  const cases: [string, string][] = [
    ['NAS100', 'NAS100'], ['US100', 'NAS100'], ['USTEC', 'NAS100'], ['NQ100', 'NAS100'], ['NAS100USD', 'NAS100'], ['US100.cash', 'NAS100'],
    ['#USNDAQ100', 'NAS100'], ['US TECH 100', 'NAS100'], ['USTEC.pro', 'NAS100'], ['US100Cash', 'NAS100'],
    ['US500', 'SP500'], ['SPX500', 'SP500'], ['US500m', 'SP500'], ['US30', 'DJ30'], ['WS30', 'DJ30'], ['DJ30.raw', 'DJ30'],
    ['GER40', 'DAX40'], ['DE40', 'DAX40'], ['GER40.a', 'DAX40'], ['FTSE100', 'UK100'], ['JP225', 'NIKKEI225'], ['FRA40', 'CAC40'],
    ['AUS200', 'ASX200'], ['HSI', 'HK50'], ['GOLD', 'XAUUSD'], ['XAUUSD+', 'XAUUSD'], ['XAUUSDm', 'XAUUSD'], ['GOLD.pro', 'XAUUSD'],
    ['SILVER', 'XAGUSD'], ['XTIUSD', 'USOIL'], ['WTI', 'USOIL'], ['XBRUSD', 'UKOIL'], ['BRENT', 'UKOIL'], ['BTCUSDT', 'BTCUSD'],
    ['EURUSD', 'EURUSD'], ['EURUSDm', 'EURUSD'], ['mEURUSD', 'EURUSD'], ['EURUSD.raw', 'EURUSD'], ['EURUSD_i', 'EURUSD'], ['GBPJPY.pro', 'GBPJPY'],
    ['EURNOK.ecn', 'EURNOK'], ['EUR/USD', 'EURUSD'], ['#AAPL', 'AAPL'], ['AAPL.US', 'AAPL'], ['TSLA.NAS', 'TSLA'], ['MSFT', 'MSFT'],
  ];
  it.each(cases)('%s -> %s', (broker, canon) => {
    expect(m.map(broker).canonical).toBe(canon);
  });

  it('keeps unmapped symbols under their broker name and honours config overrides', () => {
    expect(m.map('WINQ26')).toEqual({ broker: 'WINQ26', canonical: 'WINQ26', how: 'none' });
    expect(m.map('WIN$N').canonical).toBe('WIN$N');
    const o = new SymbolMapper({ overrides: { 'WIN$N': 'WIN', 'US100.cash': '' }, aliases: { NAS100: ['TECH100X'] } });
    expect(o.map('win$n')).toEqual({ broker: 'win$n', canonical: 'WIN', how: 'override' });
    expect(o.map('US100.cash').canonical).toBe('US100.cash');
    expect(o.map('TECH100X').canonical).toBe('NAS100');
  });

  it('never guesses a stock or commodity by stripping letters off a word-like name', () => {
    for (const name of ['MAX', 'MAC', 'MAE', 'PEPE', 'METAX', 'COINM', 'CLM', 'CLX', 'CLE', 'AMDX', 'VZ', 'BAC1']) {
      expect(m.map(name), name).toEqual({ broker: name, canonical: name, how: 'none' });
    }
    expect(m.map('MA').canonical).toBe('MA');
    expect(m.map('CL').canonical).toBe('USOIL');
    expect(m.map('META.US').canonical).toBe('META'); // a separator tail is not a guess
    // the broker's own suffix, when configured, strips from any name
    const b = new SymbolMapper({ suffixes: ['m'] });
    expect(b.map('AAPLm').canonical).toBe('AAPL');
    expect(b.map('COINM').canonical).toBe('COIN');
    expect(new SymbolMapper().map('AAPLm').canonical).toBe('AAPLm');
  });
});

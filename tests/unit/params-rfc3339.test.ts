/** Issue 19 §6: RFC3339 times wherever epoch times are accepted (API ms, UDF seconds), start_time/end_time aliases. */
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../datafeed-adapter/src/http/api.js';
import { UDF_ROUTES } from '../../datafeed-adapter/src/http/udf.js';
import { ParamError, parseRfc3339, validate } from '../../datafeed-adapter/src/http/params.js';
import { openapiDocument } from '../../datafeed-adapter/src/http/openapi.js';

const trades = API_ROUTES.find((r) => r.path === '/api/v1/trades')!.params;
const history = Object.values(UDF_ROUTES).find((r) => r.path === '/history')!.params;

describe('RFC3339 time parameters', () => {
  it('parses Z, offsets and fractions to Unix ms', () => {
    expect(parseRfc3339('2024-08-08T12:00:00Z')).toBe(1723118400000);
    expect(parseRfc3339('2024-08-08T14:00:00.123456+02:00')).toBe(1723118400123);
    expect(parseRfc3339('2024-08-08 07:30:00-04:30')).toBe(1723118400000);
    expect(parseRfc3339('2024-02-30T00:00:00Z')).toBeUndefined();
    expect(parseRfc3339('2024-08-08T12:00:00')).toBeUndefined(); // no offset: not RFC3339
  });
  it('API from/to take epoch ms or RFC3339, and start_time/end_time are their aliases', () => {
    expect(validate(trades, { symbol: 'BTCUSDT', from: '1723118400000', to: '2024-08-08T13:00:00Z' })).toMatchObject({ from: 1723118400000, to: 1723122000000 });
    expect(validate(trades, { symbol: 'BTCUSDT', start_time: '2024-08-08T12:00:00.5Z', end_time: '1723122000000' })).toMatchObject({ from: 1723118400500, to: 1723122000000 });
    expect(() => validate(trades, { symbol: 'BTCUSDT', from: '1', start_time: '2024-08-08T12:00:00Z' })).toThrow(/given together with "from"/);
    try { validate(trades, { symbol: 'BTCUSDT', from: 'yesterday' }); expect.unreachable(); } catch (e) {
      expect(e).toBeInstanceOf(ParamError);
      expect((e as ParamError).reason).toBe('must be an integer (Unix ms) or an RFC3339 time, got "yesterday"');
    }
    expect(() => validate(trades, { symbol: 'BTCUSDT', from: '2024-13-01T00:00:00Z' })).toThrow(/not a valid RFC3339 time/);
  });
  it('UDF from/to stay Unix seconds and take RFC3339 too', () => {
    expect(validate(history, { symbol: 'BTCUSDT', resolution: '1', from: '2024-08-08T12:00:00.999Z', to: '1723122000' })).toMatchObject({ from: 1723118400, to: 1723122000 });
  });
  it('/openapi.json documents both forms', () => {
    const doc = JSON.stringify(openapiDocument({ auth: false }));
    expect(doc).toContain('RFC3339 time');
  });
});

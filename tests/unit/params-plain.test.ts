import { describe, expect, it } from 'vitest';
import { paramSchema, plainlyValid, type ParamSpec } from '../../datafeed-adapter/src/http/params.js';
import { UDF_ROUTES } from '../../datafeed-adapter/src/http/udf.js';
import { API_ROUTES } from '../../datafeed-adapter/src/http/api.js';
import { rng } from '../helpers/tape.js';

/** Values of a parameter's JS type around its bounds, lengths, enum members and patterns. */
function samples(s: ParamSpec, r: () => number): unknown[] {
  const out: unknown[] = [];
  if (s.type === 'integer' || s.type === 'number') {
    for (const b of [s.min, s.max, 0, 1, -1, 2 ** 53, -(2 ** 53)]) if (b !== undefined) out.push(b, b - 1, b + 1, b + 0.5, b - 0.5);
    for (let k = 0; k < 40; k++) out.push(Math.floor((r() - 0.5) * 10 ** Math.floor(r() * 16)), (r() - 0.5) * 10 ** Math.floor(r() * 12));
    out.push(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e300, -1e300, 1.5e-9);
  } else if (s.type === 'boolean') out.push(true, false);
  else {
    for (const e of s.enum ?? []) out.push(e, e.toUpperCase(), `${e} `);
    const max = s.maxLength ?? 200;
    for (const n of [0, 1, max - 1, max, max + 1]) out.push('x'.repeat(Math.max(0, n)), '2024-08-08'.padEnd(Math.max(0, n), '0').slice(0, Math.max(0, n)));
    out.push('2024-08-08', 'paper:12', 'paper:', '2024-8-8', 'BTCUSDT', '', 'ünïcödé', 'a'.repeat(max) + 'é');
  }
  return out;
}

describe('params: the plain checks agree with the zod schemas', () => {
  it('for every parameter of every UDF and API route, on values around every bound', () => {
    const specs = [...Object.values(UDF_ROUTES).flatMap((d) => d.params), ...API_ROUTES.flatMap((d) => d.params)];
    const r = rng(5);
    let checked = 0, valid = 0;
    for (const s of specs) {
      for (const v of samples(s, r)) {
        const z = paramSchema(s).safeParse(v);
        expect(plainlyValid(s, v), `${s.name} (${s.type}) = ${JSON.stringify(v)}`).toBe(z.success);
        if (z.success) { expect(z.data).toBe(v); valid++; }
        checked++;
      }
    }
    expect(specs.some((s) => s.pattern) && specs.some((s) => s.enum)).toBe(true);
    expect(valid).toBeGreaterThan(200);
    expect(checked - valid).toBeGreaterThan(200);
  });
});

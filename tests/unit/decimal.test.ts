import { describe, expect, it } from 'vitest';
import { DecimalScale, normalizeDecimal } from '../../engine/src/core/decimal.js';

describe('DecimalScale', () => {
  it('converts decimal strings to integer ticks exactly (no float drift)', () => {
    const p = new DecimalScale('0.10');
    expect(p.parse('61800.30')).toBe(618003);
    expect(p.parse('0.30')).toBe(3); // 0.1 + 0.2 style drift would give 2.9999
    expect(p.parse('61800.3')).toBe(618003);
    expect(p.parse('61800')).toBe(618000);
    expect(p.offGrid).toBe(0);
    expect(p.format(618003)).toBe('61800.30');
  });

  it('handles steps that are not powers of ten', () => {
    const es = new DecimalScale('0.25');
    expect(es.parse('4781.75')).toBe(19127);
    expect(es.offGrid).toBe(0);
    expect(es.parse('4781.80')).toBe(19127); // off grid: rounded to nearest step and counted
    expect(es.offGrid).toBe(1);
  });

  it('parses trailing zeros beyond the step and counts real extra digits', () => {
    const q = new DecimalScale('0.001');
    expect(q.parse('0.02000000')).toBe(20);
    expect(q.offGrid).toBe(0);
    expect(q.parse('0.0205')).toBe(21);
    expect(q.offGrid).toBe(1);
  });

  it('rejects malformed strings with NaN and accepts exponent notation', () => {
    const p = new DecimalScale('0.01');
    expect(p.parse('')).toBeNaN();
    expect(p.parse('12a')).toBeNaN();
    expect(p.parse('1.2.3')).toBeNaN();
    expect(p.parse('1e2')).toBe(10000);
    expect(p.parse('-1.5')).toBe(-150);
    expect(normalizeDecimal('1e-8')).toBe('0.00000001');
    expect(new DecimalScale('1e-8').decimals).toBe(8);
  });

  it('sums of lots are exact integers regardless of order', () => {
    const q = new DecimalScale('0.001');
    const xs = ['0.1', '0.2', '0.3', '0.007', '12.345'];
    const a = xs.reduce((s, x) => s + q.parse(x), 0);
    const b = [...xs].reverse().reduce((s, x) => s + q.parse(x), 0);
    expect(a).toBe(b);
    expect(q.format(a)).toBe('12.952');
  });

  it('rounds once, to the nearest step, half away from zero (never twice through the decimals)', () => {
    const whole = new DecimalScale('1.0');
    expect(whole.parse('39000.45')).toBe(39000); // .45 of a point is below half a step
    expect(whole.parse('39000.5')).toBe(39001);
    expect(whole.parse('-39000.45')).toBe(-39000);
    const dime = new DecimalScale('0.10');
    expect(dime.parse('60000.149')).toBe(600001); // 60000.10, not 60000.20
    expect(dime.format(dime.parse('60000.149'))).toBe('60000.10');
    expect(dime.parse('60000.15')).toBe(600002);
    expect(dime.parse('60000.1499999')).toBe(600001);
    const q = new DecimalScale('0.25');
    expect(q.parse('1.124')).toBe(4); // 1.124 is nearer 1.00 than 1.25
    expect(q.parse('1.125')).toBe(5); // exactly half: away from zero
    expect(q.parse('1.1249')).toBe(4);
    const five = new DecimalScale('5');
    expect(five.parse('127.4999')).toBe(25);
    expect(five.parse('127.5')).toBe(26);
  });
});

/**
 * Exact decimal-string arithmetic for ingestion. Prices and sizes arrive as decimal strings
 * ("60123.40", "0.001"); converting them through floats drifts (0.1 + 0.2), so we parse the
 * digits straight into an integer count of `step` units without allocating.
 */

/** Number of decimals of a decimal string step, e.g. "0.001" -> 3, "5" -> 0, "1e-8" -> 8. */
export function decimalsOf(step: string): number {
  const s = normalizeDecimal(step);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** Expand exponent notation and strip a trailing dot; "1e-8" -> "0.00000001". */
export function normalizeDecimal(s: string): string {
  const t = s.trim();
  const e = t.search(/[eE]/);
  if (e < 0) return t.endsWith('.') ? t.slice(0, -1) : t;
  const mant = t.slice(0, e);
  const exp = parseInt(t.slice(e + 1), 10);
  const neg = mant.startsWith('-');
  const m = neg ? mant.slice(1) : mant;
  const dot = m.indexOf('.');
  const digits = m.replace('.', '');
  let point = (dot < 0 ? m.length : dot) + exp;
  let out: string;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  out = out.replace(/^0+(?=\d)/, '');
  if (out.includes('.')) out = out.replace(/0+$/, '').replace(/\.$/, '');
  return (neg ? '-' : '') + out;
}

/**
 * A fixed-point scale: values are held as integers counting `step` units.
 * `parse` is allocation-free on plain decimal strings.
 */
export class DecimalScale {
  readonly step: string;
  /** decimals of the step */
  readonly decimals: number;
  /** step expressed in 10^-decimals units (e.g. step 0.25 -> decimals 2, stepUnits 25) */
  readonly stepUnits: number;
  private readonly pow: number;
  /** count of inputs that were not an exact multiple of the step (rounded half away from zero) */
  offGrid = 0;

  constructor(step: string) {
    const s = normalizeDecimal(step);
    if (!/^\d+(\.\d+)?$/.test(s) || Number(s) <= 0) throw new Error(`invalid step "${step}": expected a positive decimal`);
    this.step = s;
    this.decimals = decimalsOf(s);
    this.pow = 10 ** this.decimals;
    this.stepUnits = Math.round(Number(s.replace('.', '')));
  }

  /** Parse a decimal string into an integer count of steps. Returns NaN on a malformed string. */
  parse(str: string): number {
    return this.parseRange(str, 0, str.length);
  }

  /** parse() of str.slice(start, end) without making the slice (frame scanners read values in place). */
  parseRange(str: string, start: number, end: number): number {
    let i = start;
    const n = end;
    let neg = false;
    if (n <= start) return NaN;
    let c = str.charCodeAt(start);
    if (c === 45 /* - */) { neg = true; i = start + 1; } else if (c === 43 /* + */) i = start + 1;
    let intPart = 0;
    let frac = 0;
    let fracDigits = 0;
    let extra = false; // non-zero digits beyond our decimals
    let roundUp = false;
    let sawDigit = false;
    let sawDot = false;
    for (; i < n; i++) {
      c = str.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        sawDigit = true;
        const d = c - 48;
        if (!sawDot) intPart = intPart * 10 + d;
        else if (fracDigits < this.decimals) { frac = frac * 10 + d; fracDigits++; }
        else {
          if (!extra && fracDigits === this.decimals && d >= 5 && !roundUp) roundUp = true;
          if (d !== 0) extra = true;
          fracDigits++;
        }
      } else if (c === 46 /* . */ && !sawDot) sawDot = true;
      else if (c === 101 || c === 69) return this.parseSlow(start === 0 && end === str.length ? str : str.slice(start, end));
      else return NaN;
    }
    if (!sawDigit) return NaN;
    for (let k = Math.min(fracDigits, this.decimals); k < this.decimals; k++) frac *= 10;
    // One rounding only: the value is `units` + r (r in [0, 1) of a unit, from the digits beyond our
    // decimals; r >= 0.5 iff the first of them is >= 5). Rounding r into units first and then units
    // into steps rounds twice ('39000.45' at step 1.0 would give 39001).
    const units = intPart * this.pow + frac;
    let steps: number;
    if (this.stepUnits === 1) steps = units + (roundUp ? 1 : 0);
    else {
      const m = units % this.stepUnits;
      steps = (units - m) / this.stepUnits;
      // m + r against half a step: 2m + 2r >= stepUnits, with 0 <= 2r < 2
      const need = this.stepUnits - 2 * m;
      if (need <= 0 || (need === 1 && roundUp)) steps += 1;
      if (m !== 0 && !extra) this.offGrid++;
    }
    if (extra) this.offGrid++;
    return neg ? -steps : steps;
  }

  private parseSlow(str: string): number {
    return this.parse(normalizeDecimal(str));
  }

  /** Convert a float (already parsed elsewhere) to steps, rounding to the nearest step. */
  fromNumber(x: number): number {
    return Math.round(Number((x * this.pow).toFixed(3)) / this.stepUnits);
  }

  /** steps -> number (for display / VWAP); exact for representable values. */
  toNumber(steps: number): number {
    return (steps * this.stepUnits) / this.pow;
  }

  /** steps -> exact decimal string */
  format(steps: number): string {
    const units = steps * this.stepUnits;
    if (this.decimals === 0) return String(units);
    const neg = units < 0;
    const a = String(Math.abs(units)).padStart(this.decimals + 1, '0');
    const s = a.slice(0, a.length - this.decimals) + '.' + a.slice(a.length - this.decimals);
    return neg ? '-' + s : s;
  }
}

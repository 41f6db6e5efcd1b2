/**
 * How the texts a user reads (signal reasoning, transitions, strategy steps, bias) write numbers:
 * prices and price distances in the instrument's price units, sizes in instrument units. The core
 * keeps ticks and lots; every text is formatted with the instrument's own scales when it is built,
 * so marks, pages, payloads, logs and alerts all read the same units. Core code: no Node imports.
 */
import type { DecimalScale } from '../core/decimal.js';

export interface UnitText {
  /** a price given in ticks */
  price(ticks: number): string;
  /** a price difference given in ticks (body, displacement, distance to a level) */
  distance(ticks: number): string;
  /** a size given in lots (volume, delta, CVD); fractional lots (averages) keep 2 more decimals */
  size(lots: number): string;
}

const trim = (s: string): string => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);

/** The formatter of one instrument (its tick size and lot step). */
export function unitText(i: { price: DecimalScale; qty: DecimalScale }): UnitText {
  const num = (x: number, d: number): string => (Number.isFinite(x) ? trim(x.toFixed(d)) : String(x));
  return {
    price: (t) => (Number.isInteger(t) ? i.price.format(t) : num(i.price.toNumber(t), i.price.decimals + 2)),
    distance: (t) => (Number.isInteger(t) ? i.price.format(t) : num(i.price.toNumber(t), i.price.decimals + 2)),
    size: (l) => (Number.isInteger(l) ? i.qty.format(l) : num(i.qty.toNumber(l), i.qty.decimals + 2)),
  };
}

/**
 * For detectors built without an instrument (unit tests of the definitions): writes the raw integers
 * with their unit names, so a text that escaped the instrument formatter is obvious.
 */
export const RAW_UNITS: UnitText = {
  price: (t) => `${t} ticks`,
  distance: (t) => `${t} ticks`,
  size: (l) => `${l} lots`,
};

/**
 * Point of control and value area over a dense volume array (pure, no allocation besides the
 * result object, O(length)). Index 0 is the LOWEST price; indices are rows, not prices — callers map
 * them back (RowGrid: row = base + index, price = row * rowTicks).
 *
 * Definitions (docs/definitions/profile.md has worked examples):
 *
 * POC = index of the maximum volume. Ties (`pocTie`):
 *   - 'closestToCenter' (default): the tied row closest to the centre of the profile's traded range,
 *     centre = (first + last) / 2 where first/last are the lowest/highest indices with volume > 0
 *     (for a RowGrid this is (length − 1) / 2, since its edge rows always hold volume). Equal distance
 *     (the centre falls exactly between two tied rows) → the lower one.
 *   - 'lowest': the lowest tied index;  'highest': the highest tied index.
 *
 * Value area: starts as [poc, poc] and grows until area >= pct × total (checked after every step,
 * with a relative tolerance of 1e-9 so that 70 of 100 at pct 0.70 counts as reached despite
 * 0.7 × 100 = 70.00000000000001 in binary floating point). Rows are never split, so the area
 * usually holds slightly more than pct. Algorithms:
 *   - 'single' (default, classic CBOT greedy): compare the next row above with the next row below;
 *     add the larger. Equal volumes → `expandTie` ('higher' default: take the row above).
 *   - 'pair' (two-row CBOT / Linnsoft "Method A"): compare the SUM of the next two rows above with the
 *     sum of the next two rows below and add the larger pair as a whole (both rows, even when the
 *     first of them alone would reach the target). Where only one row remains on a side, that
 *     side's "pair" is the one row. Equal sums → `expandTie`.
 *   - 'symmetric': add one row above AND one row below each step (only the available one at an edge).
 * At a profile edge (no row left on one side) expansion continues on the other side only.
 * Zero-volume rows inside the range are ordinary rows of volume 0: they are added when chosen
 * (e.g. 0 vs 0 is a tie, resolved by `expandTie`). A pct of 0 gives the POC row alone.
 * An all-zero (or empty) array gives poc = low = high = −1 and areaVolume = totalVolume = 0.
 */

export type ValueAreaAlgorithm = 'single' | 'pair' | 'symmetric';
export type PocTieRule = 'closestToCenter' | 'lowest' | 'highest';
export type ExpandTieRule = 'higher' | 'lower';

export interface ValueAreaOptions {
  /** fraction of total volume, 0..1 (default 0.70) */
  pct: number;
  /** default 'single' */
  algorithm: ValueAreaAlgorithm;
  /** default 'closestToCenter' (then lower) */
  pocTie: PocTieRule;
  /** when above == below: default 'higher' (take the higher price) */
  expandTie: ExpandTieRule;
}

export const DEFAULT_VALUE_AREA: ValueAreaOptions = Object.freeze({
  pct: 0.7,
  algorithm: 'single',
  pocTie: 'closestToCenter',
  expandTie: 'higher',
}) as ValueAreaOptions;

export interface ValueAreaResult {
  /** index of the POC; −1 when total volume is 0 */
  poc: number;
  /** lowest index inside the value area (VAL row); −1 when total is 0 */
  low: number;
  /** highest index inside the value area (VAH row); −1 when total is 0 */
  high: number;
  /** volume inside [low, high] */
  areaVolume: number;
  /** volume of the whole array */
  totalVolume: number;
}

const REL_EPS = 1e-9;

/** Index of the max-volume row (see the tie rules above); −1 if no row has volume > 0. */
export function findPoc(vol: ArrayLike<number>, length: number, tie: PocTieRule = 'closestToCenter'): number {
  const n = Math.min(length, vol.length);
  let max = 0;
  let first = -1;
  let last = -1;
  for (let i = 0; i < n; i++) {
    const v = vol[i];
    if (v > 0) {
      if (first < 0) first = i;
      last = i;
      if (v > max) max = v;
    }
  }
  if (first < 0) return -1;
  if (tie === 'lowest') {
    for (let i = first; i <= last; i++) if (vol[i] === max) return i;
  }
  if (tie === 'highest') {
    for (let i = last; i >= first; i--) if (vol[i] === max) return i;
  }
  // closestToCenter: compare doubled distances to stay in integers; strict < keeps the lower on equality
  const c2 = first + last;
  let best = -1;
  let bestD = Infinity;
  for (let i = first; i <= last; i++) {
    if (vol[i] !== max) continue;
    const d = Math.abs(2 * i - c2);
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

/** Value area around the POC; see the module comment for the exact rules. */
export function valueArea(vol: ArrayLike<number>, length: number, opts?: Partial<ValueAreaOptions>): ValueAreaResult {
  const pct = opts?.pct ?? DEFAULT_VALUE_AREA.pct;
  const algorithm = opts?.algorithm ?? DEFAULT_VALUE_AREA.algorithm;
  const pocTie = opts?.pocTie ?? DEFAULT_VALUE_AREA.pocTie;
  const takeHigher = (opts?.expandTie ?? DEFAULT_VALUE_AREA.expandTie) === 'higher';
  if (!(pct >= 0 && pct <= 1)) throw new RangeError(`value area pct must be in [0, 1], got ${pct}`);

  const n = Math.min(length, vol.length);
  let total = 0;
  for (let i = 0; i < n; i++) total += vol[i];
  const poc = findPoc(vol, n, pocTie);
  if (poc < 0 || !(total > 0)) return { poc: -1, low: -1, high: -1, areaVolume: 0, totalVolume: 0 };

  const target = pct * total * (1 - REL_EPS);
  let lo = poc;
  let hi = poc;
  let area = vol[poc];
  const top = n - 1;

  while (area < target && (lo > 0 || hi < top)) {
    if (algorithm === 'symmetric') {
      if (hi < top) area += vol[++hi];
      if (lo > 0) area += vol[--lo];
      continue;
    }
    const canUp = hi < top;
    const canDown = lo > 0;
    let up: boolean;
    if (algorithm === 'pair') {
      const upSum = canUp ? vol[hi + 1] + (hi + 2 <= top ? vol[hi + 2] : 0) : -1;
      const downSum = canDown ? vol[lo - 1] + (lo - 2 >= 0 ? vol[lo - 2] : 0) : -1;
      up = !canDown || (canUp && (upSum > downSum || (upSum === downSum && takeHigher)));
      if (up) {
        area += vol[++hi];
        if (hi < top) area += vol[++hi];
      } else {
        area += vol[--lo];
        if (lo > 0) area += vol[--lo];
      }
    } else {
      const a = canUp ? vol[hi + 1] : -1;
      const b = canDown ? vol[lo - 1] : -1;
      up = !canDown || (canUp && (a > b || (a === b && takeHigher)));
      if (up) area += vol[++hi];
      else area += vol[--lo];
    }
  }
  return { poc, low: lo, high: hi, areaVolume: area, totalVolume: total };
}

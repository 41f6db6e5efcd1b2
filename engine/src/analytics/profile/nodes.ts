/**
 * Profile structure: smoothing, high/low-volume nodes (HVN/LVN) and shape (P / b / D / double).
 * Pure functions over dense volume arrays (index 0 = lowest row); VolumeProfile maps indices to prices.
 * Rules (docs/definitions/profile.md has worked examples):
 *
 * Smoothing: triangular kernel of radius r (default 2, i.e. 5 rows, weights 1 2 3 2 1):
 *   s[i] = Σ_{|d|≤r, 0≤i+d<n} (r+1−|d|)·v[i+d] / Σ_{same d} (r+1−|d|)
 *   Rows outside the profile are missing, not zero: the weights are renormalised at the edges, so a
 *   flat profile stays flat. r = 0 disables smoothing.
 *
 * Peaks (HVN candidates): maximal runs of equal smoothed value whose neighbours on both sides are
 *   lower (a profile edge counts as lower). The peak row is the middle of the run (lower middle for
 *   an even run). Valleys (LVN candidates): the same with "higher", and only interior runs (a run
 *   touching a profile edge is a tail, not an LVN).
 * Prominence (topographic, as scipy.signal.peak_prominences): for a peak of height h, walk left
 *   until a strictly higher value or the edge and take the minimum seen; same to the right;
 *   prominence = h − max(leftMin, rightMin). For a valley of depth h: walk each way until a strictly
 *   lower value or the edge and take the maximum seen; prominence = min(leftMax, rightMax) − h.
 * A node is kept when prominence ≥ prominencePct × (raw POC volume) (default 10 %).
 * Node range: the contiguous rows around the extreme whose smoothed value stays ≥ h − prominence/2
 *   (HVN) or ≤ h + prominence/2 (LVN) — the half-prominence width. Node volume = Σ raw volume over
 *   the range.
 *
 * Shape: pocPct = (pocRowCentre − low) / (high − low) × 100 with low = lower edge of the lowest row and
 *   high = upper edge of the highest row (so one row gives 50). 'double' when two HVN peaks have a
 *   smoothed minimum between them < doubleValleyRatio (default 0.5) × the smaller peak's smoothed
 *   height (takes precedence); else 'P' when pocPct > 65, 'b' when pocPct < 35, 'D' otherwise.
 *   Empty profile → 'none'.
 */

export type ProfileShape = 'P' | 'b' | 'D' | 'double' | 'none';

export interface NodeOptions {
  /** triangular kernel radius in rows (default 2 → 5-row kernel 1 2 3 2 1); 0 = no smoothing */
  smoothRadius: number;
  /** minimum prominence as a fraction of the raw POC volume (default 0.10) */
  prominencePct: number;
}

export interface ShapeOptions {
  /** P when pocPct > pAbove (default 65) */
  pAbove: number;
  /** b when pocPct < bBelow (default 35) */
  bBelow: number;
  /** double when the valley between two HVN peaks < ratio × smaller peak (default 0.5) */
  doubleValleyRatio: number;
}

export const DEFAULT_NODE_OPTIONS: NodeOptions = Object.freeze({ smoothRadius: 2, prominencePct: 0.1 }) as NodeOptions;
export const DEFAULT_SHAPE_OPTIONS: ShapeOptions = Object.freeze({ pAbove: 65, bBelow: 35, doubleValleyRatio: 0.5 }) as ShapeOptions;

/** A node as row indices into the array. */
export interface NodeIndexRange {
  low: number;
  high: number;
  /** the extreme row (peak for HVN, trough for LVN) */
  peak: number;
  /** Σ raw volume over [low, high] */
  volume: number;
  /** smoothed value at the extreme */
  smoothed: number;
  prominence: number;
}

/** Triangular smoothing with edge renormalisation; writes into `out` (allocated if absent). */
export function smooth(vol: ArrayLike<number>, length: number, radius = DEFAULT_NODE_OPTIONS.smoothRadius, out?: Float64Array): Float64Array {
  const n = length;
  const o = out && out.length >= n ? out : new Float64Array(n);
  const r = Math.max(0, Math.floor(radius));
  for (let i = 0; i < n; i++) {
    let s = 0, w = 0;
    const a = Math.max(0, i - r), b = Math.min(n - 1, i + r);
    for (let j = a; j <= b; j++) {
      const k = r + 1 - Math.abs(j - i);
      s += k * vol[j];
      w += k;
    }
    o[i] = s / w;
  }
  return o;
}

function prominence(s: ArrayLike<number>, n: number, i: number, peak: boolean): number {
  const h = s[i];
  let left = h, right = h;
  if (peak) {
    for (let j = i - 1; j >= 0 && s[j] <= h; j--) if (s[j] < left) left = s[j];
    for (let j = i + 1; j < n && s[j] <= h; j++) if (s[j] < right) right = s[j];
    return h - Math.max(left, right);
  }
  for (let j = i - 1; j >= 0 && s[j] >= h; j--) if (s[j] > left) left = s[j];
  for (let j = i + 1; j < n && s[j] >= h; j++) if (s[j] > right) right = s[j];
  return Math.min(left, right) - h;
}

/**
 * HVN and LVN by the rule in the module comment. `smoothed` may be passed when already computed
 * with the same radius.
 */
export function findNodes(
  vol: ArrayLike<number>,
  length: number,
  opts?: Partial<NodeOptions>,
  smoothed?: Float64Array,
): { hvn: NodeIndexRange[]; lvn: NodeIndexRange[] } {
  const n = length;
  const hvn: NodeIndexRange[] = [];
  const lvn: NodeIndexRange[] = [];
  if (n === 0) return { hvn, lvn };
  const radius = opts?.smoothRadius ?? DEFAULT_NODE_OPTIONS.smoothRadius;
  const pct = opts?.prominencePct ?? DEFAULT_NODE_OPTIONS.prominencePct;
  const s = smoothed ?? smooth(vol, n, radius);
  let pocVol = 0;
  for (let i = 0; i < n; i++) if (vol[i] > pocVol) pocVol = vol[i];
  if (!(pocVol > 0)) return { hvn, lvn };
  const minProm = pct * pocVol;

  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && s[j + 1] === s[i]) j++;
    const leftEdge = i === 0, rightEdge = j === n - 1;
    const lv = leftEdge ? -Infinity : s[i - 1];
    const rv = rightEdge ? -Infinity : s[j + 1];
    const mid = (i + j) >> 1;
    const h = s[i];
    if (lv < h && rv < h && !(leftEdge && rightEdge)) {
      const p = prominence(s, n, mid, true);
      if (p >= minProm && p > 0) hvn.push(nodeRange(vol, s, n, mid, p, true));
    } else if (!leftEdge && !rightEdge && lv > h && rv > h) {
      const p = prominence(s, n, mid, false);
      if (p >= minProm && p > 0) lvn.push(nodeRange(vol, s, n, mid, p, false));
    }
    i = j + 1;
  }
  return { hvn, lvn };
}

function nodeRange(vol: ArrayLike<number>, s: ArrayLike<number>, n: number, k: number, p: number, peak: boolean): NodeIndexRange {
  const h = s[k];
  const lim = peak ? h - p / 2 : h + p / 2;
  const inside = (x: number) => (peak ? x >= lim : x <= lim);
  let lo = k, hi = k;
  while (lo - 1 >= 0 && inside(s[lo - 1])) lo--;
  while (hi + 1 < n && inside(s[hi + 1])) hi++;
  let v = 0;
  for (let i = lo; i <= hi; i++) v += vol[i];
  return { low: lo, high: hi, peak: k, volume: v, smoothed: h, prominence: p };
}

/** (pocRowCentre − low)/(high − low) × 100 with row edges as the range; NaN when empty. */
export function pocPercent(poc: number, length: number): number {
  if (poc < 0 || length <= 0) return NaN;
  return ((poc + 0.5) * 100) / length; // numerator exact, so 65 / 35 boundaries compare exactly
}

/** True when two HVN peaks have a smoothed minimum between them below ratio × the smaller peak. */
export function isDoubleDistribution(s: ArrayLike<number>, hvn: readonly NodeIndexRange[], ratio = DEFAULT_SHAPE_OPTIONS.doubleValleyRatio): boolean {
  for (let a = 0; a < hvn.length; a++) {
    const pa = hvn[a].peak;
    let min = s[pa];
    let next = a + 1;
    // hvn is in ascending row order: scan right once, checking each later peak as it is reached
    for (let i = pa + 1; i < s.length && next < hvn.length; i++) {
      if (i === hvn[next].peak) {
        if (min < ratio * Math.min(s[pa], s[i])) return true;
        next++;
      }
      if (s[i] < min) min = s[i];
    }
  }
  return false;
}

/** Shape by the rule in the module comment. */
export function classifyShape(
  poc: number,
  length: number,
  smoothed: ArrayLike<number>,
  hvn: readonly NodeIndexRange[],
  opts?: Partial<ShapeOptions>,
): ProfileShape {
  if (poc < 0 || length <= 0) return 'none';
  const o = { ...DEFAULT_SHAPE_OPTIONS, ...opts };
  if (hvn.length >= 2 && isDoubleDistribution(smoothed, hvn, o.doubleValleyRatio)) return 'double';
  const pct = pocPercent(poc, length);
  if (pct > o.pAbove) return 'P';
  if (pct < o.bBelow) return 'b';
  return 'D';
}

/**
 * Naked (virgin) POC tracker. Each closed profile's POC row [price, price + rowTicks) stays "naked"
 * until a LATER trade prints inside that row (touch = 'trade', default) or a later bar's range
 * [low, high] overlaps the row (touch = 'range'); it is then "filled" at that trade/bar time.
 * "Later" means ts >= the level's createdAt (the session end). Feed the tracker every trade or bar,
 * including those outside sessions. At most `maxLevels` (default 80) levels are kept, oldest dropped.
 * onTrade is O(1) (one Map lookup by row, no allocation); onBar is O(naked levels).
 */

export type TouchRule = 'trade' | 'range';

export interface NakedLevel {
  /** session key (or any id) of the profile the POC came from */
  key: string;
  /** POC row lower edge, ticks */
  price: number;
  rowTicks: number;
  /** when the level became eligible (session end), ms */
  createdAt: number;
  state: 'naked' | 'filled';
  /** fill time; NaN while naked */
  filledAt: number;
}

export interface NakedPocOptions {
  touch: TouchRule;
  maxLevels: number;
  onFill: (level: NakedLevel) => void;
}

export class NakedPocTracker {
  readonly rowTicks: number;
  readonly touch: TouchRule;
  private readonly maxLevels: number;
  private readonly onFill: ((l: NakedLevel) => void) | undefined;
  private readonly all: NakedLevel[] = [];
  /** naked levels by row index */
  private readonly byRow = new Map<number, NakedLevel[]>();

  constructor(rowTicks: number, opts?: Partial<NakedPocOptions>) {
    this.rowTicks = rowTicks;
    this.touch = opts?.touch ?? 'trade';
    this.maxLevels = Math.max(1, opts?.maxLevels ?? 80);
    this.onFill = opts?.onFill;
  }

  /** Register a closed profile's POC (row lower edge in ticks). NaN (empty profile) is ignored. */
  addLevel(key: string, pocPrice: number, createdAt: number): NakedLevel | null {
    if (!Number.isFinite(pocPrice)) return null;
    const l: NakedLevel = { key, price: pocPrice, rowTicks: this.rowTicks, createdAt, state: 'naked', filledAt: NaN };
    this.all.push(l);
    const row = Math.floor(pocPrice / this.rowTicks);
    const list = this.byRow.get(row);
    if (list) list.push(l); else this.byRow.set(row, [l]);
    if (this.all.length > this.maxLevels) this.unindex(this.all.shift()!);
    return l;
  }

  private unindex(l: NakedLevel): void {
    const row = Math.floor(l.price / this.rowTicks);
    const list = this.byRow.get(row);
    if (!list) return;
    const i = list.indexOf(l);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byRow.delete(row);
  }

  private fill(l: NakedLevel, ts: number): void {
    l.state = 'filled';
    l.filledAt = ts;
    this.onFill?.(l);
  }

  /** A trade (touch = 'trade'); ignored for touch = 'range'. */
  onTrade(ts: number, priceTicks: number): void {
    if (this.touch !== 'trade') return;
    const list = this.byRow.get(Math.floor(priceTicks / this.rowTicks));
    if (!list) return;
    for (let i = list.length - 1; i >= 0; i--) {
      const l = list[i];
      if (ts >= l.createdAt) {
        list.splice(i, 1);
        this.fill(l, ts);
      }
    }
    if (list.length === 0) this.byRow.delete(Math.floor(priceTicks / this.rowTicks));
  }

  /** A closed bar [low, high] in ticks stamped ts (touch = 'range'); ignored for touch = 'trade'. */
  onBar(ts: number, lowTicks: number, highTicks: number): void {
    if (this.touch !== 'range') return;
    const lo = Math.floor(lowTicks / this.rowTicks), hi = Math.floor(highTicks / this.rowTicks);
    for (const [row, list] of this.byRow) {
      if (row < lo || row > hi) continue;
      for (let i = list.length - 1; i >= 0; i--) {
        const l = list[i];
        if (ts >= l.createdAt) { list.splice(i, 1); this.fill(l, ts); }
      }
      if (list.length === 0) this.byRow.delete(row);
    }
  }

  /** all retained levels, oldest first */
  get levels(): readonly NakedLevel[] { return this.all; }
  /** levels still naked, oldest first */
  naked(): NakedLevel[] { return this.all.filter((l) => l.state === 'naked'); }
}

/**
 * Session volume profiles for one instrument: the developing profile of the current session plus
 * the closed sessions (bounded), from which composites of N sessions are merged on demand.
 */
import type { SessionCalendar, SessionWindow } from '../core/sessions.js';
import { RowGrid } from './row-grid.js';
import { valueArea, type ValueAreaOptions } from './value-area.js';

export interface SessionProfile {
  key: string;
  start: number;
  end: number;
  grid: RowGrid;
}

export interface ProfileLevels { poc: number; vah: number; val: number; volume: number }

export class SessionProfiles {
  readonly closed: SessionProfile[] = [];
  current: SessionProfile | null = null;

  constructor(readonly calendar: SessionCalendar, readonly rowTicks: number, readonly vaOpts: Partial<ValueAreaOptions>, readonly keepSessions = 30) {}

  add(sess: SessionWindow, price: number, size: number, sign: number): void {
    let cur = this.current;
    if (!cur || cur.key !== sess.key) {
      if (cur) this.archive(cur);
      cur = this.current = { key: sess.key, start: sess.start, end: sess.end, grid: new RowGrid(64) };
    }
    cur.grid.add(Math.floor(price / this.rowTicks), size, sign);
  }

  private archive(p: SessionProfile): void {
    this.closed.push(p);
    if (this.closed.length > this.keepSessions) this.closed.shift();
  }

  finish(): void { /* the current session stays current: it may continue in a later replay file */ }

  /** POC/VAH/VAL (row lower edges, ticks) of a grid. */
  levels(grid: RowGrid): ProfileLevels {
    const vol = grid.totals();
    const va = valueArea(vol, grid.length, this.vaOpts);
    const p = (i: number): number => (i < 0 ? NaN : (grid.base + i) * this.rowTicks);
    return { poc: p(va.poc), vah: p(va.high), val: p(va.low), volume: va.totalVolume };
  }

  /** Composite of the last n sessions (closed ones plus the current). */
  composite(n: number): RowGrid {
    const all = this.current ? [...this.closed, this.current] : [...this.closed];
    const g = new RowGrid(64);
    for (const p of all.slice(-n)) g.merge(p.grid);
    return g;
  }
}

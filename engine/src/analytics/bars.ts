/**
 * Builds footprint bars from classified trades. Time bars close when an event at or after their end
 * arrives (or on flush); tick bars after N trades; volume bars once their volume reaches the target
 * (the trade that crosses it stays in the bar: bars are never split mid-trade). A closed bar is
 * handed to `onClose` and never changes again: a late trade (older than the last closed time bar's
 * end, e.g. after a clock flush) goes into the next bar, so bar starts stay strictly increasing.
 */
import type { Trade } from '../core/events.js';
import type { SessionCalendar } from '../core/sessions.js';
import type { BarSpec } from './timeframe.js';
import { FootprintBar } from './footprint.js';
import { GridArena, type RowGrid } from './row-grid.js';

export interface BarBuilderOptions {
  instrument: string;
  spec: BarSpec;
  rowTicks: number;
  calendar: SessionCalendar;
  /** volume bar target in lots */
  volumeLots?: number;
  onClose(bar: FootprintBar): void;
  /** after onClose, once the bar holds its compact rows (memory accounting) */
  onSealed?(bar: FootprintBar): void;
}

export class BarBuilder {
  current: FootprintBar | null = null;
  /** end of the last closed time bar */
  private lastEnd = -Infinity;
  /** trades that arrived after their time bar had closed (put in the next bar) */
  lateTrades = 0;
  private readonly o: BarBuilderOptions;
  /** the last sealed bar's working grid, reused by the next bar (no regrowth bar after bar) */
  private spare: RowGrid | undefined;
  /** 64 KB slabs: bars are dropped oldest first, so at most about one slab per instrument is held beyond its bars */
  private readonly arena = new GridArena(8192);

  constructor(o: BarBuilderOptions) {
    if (o.spec.kind === 'volume' && !(o.volumeLots && o.volumeLots > 0)) throw new Error('volume bars need volumeLots > 0');
    this.o = o;
  }

  /** Window [start, end) of the time bar containing ts. */
  timeWindow(ts: number): [number, number, string] {
    const spec = this.o.spec;
    if (spec.kind !== 'time') throw new Error('not a time bar spec');
    const sess = this.o.calendar.sessionAt(ts);
    if (spec.align === 'session' && sess) {
      const start = sess.start + Math.floor((ts - sess.start) / spec.ms) * spec.ms;
      return [start, Math.min(start + spec.ms, sess.end), sess.key];
    }
    const start = Math.floor(ts / spec.ms) * spec.ms;
    return [start, start + spec.ms, sess ? sess.key : ''];
  }

  /** Close the open time bar if `ts` is at or past its end. */
  flush(ts: number): void {
    const b = this.current;
    if (b && this.o.spec.kind === 'time' && ts >= b.end) this.closeCurrent();
  }

  /** Close whatever bar is open (end of replay). */
  closeCurrent(): void {
    const b = this.current;
    if (!b) return;
    if (this.o.spec.kind !== 'time') b.end = b.lastTs + 1;
    else this.lastEnd = b.end;
    b.closed = true;
    this.current = null;
    // listeners read the working grid (dense, no copy); the bar is sealed compact after them
    this.o.onClose(b);
    this.spare = b.seal(this.arena);
    this.o.onSealed?.(b);
  }

  /** Add a classified trade; `cvdBefore` / `cvdAfter` are the cumulative delta around it. */
  add(t: Trade, cvdBefore: number, cvdAfter: number): FootprintBar {
    const spec = this.o.spec;
    let b = this.current;
    if (b && spec.kind === 'time' && t.ts >= b.end) { this.closeCurrent(); b = null; }
    if (!b) {
      if (spec.kind === 'time') {
        let at = t.ts;
        if (at < this.lastEnd) { at = this.lastEnd; this.lateTrades++; }
        const [s, e, key] = this.timeWindow(at);
        b = new FootprintBar(this.o.instrument, s, e, this.o.rowTicks, key, cvdBefore, this.spare);
      } else {
        const sess = this.o.calendar.sessionAt(t.ts);
        b = new FootprintBar(this.o.instrument, t.ts, Infinity, this.o.rowTicks, sess ? sess.key : '', cvdBefore, this.spare);
      }
      this.spare = undefined;
      this.current = b;
    }
    b.add(t, cvdAfter);
    if ((spec.kind === 'tick' && b.trades >= spec.count) || (spec.kind === 'volume' && b.volume >= (this.o.volumeLots as number))) {
      this.closeCurrent();
    }
    return b;
  }
}

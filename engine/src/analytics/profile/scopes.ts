/**
 * Profile scopes: one profile per session of a SessionCalendar, a fixed time range [from, to), and
 * composites of the last N sessions. All share VolumeProfile (the footprint row grid).
 *
 * Session rule: a trade is added to the session whose window [start, end) contains its ts. Trades
 * outside every session (overnight for an RTH calendar, weekends) are NOT added anywhere: add()
 * returns false. A trade for a later session closes the current one (onClose fires, oldest first);
 * closeUntil(ts) closes it on a clock instead (bar close, timer) so no trade is needed. A late trade
 * for an older, still-retained session is added to that session; one for a dropped session is
 * rejected. At most `maxSessions` (default 30) sessions are kept; the oldest are dropped.
 */
import type { Trade } from '../../core/events.js';
import type { SessionCalendar } from '../../core/sessions.js';
import type { ValueAreaOptions } from '../value-area.js';
import { developingPoint, type DevelopingPoint } from './developing.js';
import { sideSign, VolumeProfile } from './volume-profile.js';

export interface SessionProfile {
  /** local date the session opened on, YYYY-MM-DD */
  key: string;
  start: number;
  end: number;
  profile: VolumeProfile;
  closed: boolean;
  /** developing levels recorded by SessionProfiles.closeBar, oldest first */
  developing: DevelopingPoint[];
}

export interface SessionProfilesOptions {
  maxSessions: number;
  /** value-area options for the developing points */
  valueArea: Partial<ValueAreaOptions>;
  onClose: (s: SessionProfile) => void;
}

/** heap bytes of one developing point, as the bench's memory case measured them */
const DEVELOPING_POINT_BYTES = 100;

export class SessionProfiles {
  readonly calendar: SessionCalendar;
  readonly rowTicks: number;
  private readonly list: SessionProfile[] = [];
  private readonly maxSessions: number;
  private readonly va: Partial<ValueAreaOptions> | undefined;
  private readonly onClose: ((s: SessionProfile) => void) | undefined;
  /** cached gap [gapFrom, gapTo) known to be outside every session (avoids Intl work per trade) */
  private gapFrom = NaN;
  private gapTo = NaN;

  constructor(calendar: SessionCalendar, rowTicks: number, opts?: Partial<SessionProfilesOptions>) {
    this.calendar = calendar;
    this.rowTicks = rowTicks;
    this.maxSessions = Math.max(1, opts?.maxSessions ?? 30);
    this.va = opts?.valueArea;
    this.onClose = opts?.onClose;
  }

  /** the latest session (open or closed), or null before the first in-session trade */
  get current(): SessionProfile | null { return this.list.length ? this.list[this.list.length - 1] : null; }

  /** retained sessions, oldest first */
  get sessions(): readonly SessionProfile[] { return this.list; }

  get(key: string): SessionProfile | undefined {
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i].key === key) return this.list[i];
    return undefined;
  }

  /** Add a trade; false when ts is outside every session (or in a session already dropped). */
  add(ts: number, priceTicks: number, size: number, sign: number): boolean {
    const cur = this.current;
    if (cur && ts >= cur.start && ts < cur.end) { cur.profile.add(priceTicks, size, sign); return true; }
    const s = this.locate(ts);
    if (!s) return false;
    s.profile.add(priceTicks, size, sign);
    return true;
  }

  addTrade(t: Trade): boolean { return this.add(t.ts, t.price, t.size, sideSign(t.side)); }

  private locate(ts: number): SessionProfile | null {
    if (ts >= this.gapFrom && ts < this.gapTo) return null;
    const w = this.calendar.sessionAt(ts);
    if (!w) {
      const next = this.calendar.sessionFrom(ts);
      this.gapFrom = ts;
      this.gapTo = next.start;
      return null;
    }
    const cur = this.current;
    if (cur && w.start < cur.start) return this.get(w.key) ?? null;
    this.closeUntil(ts);
    const s: SessionProfile = { key: w.key, start: w.start, end: w.end, profile: new VolumeProfile(this.rowTicks), closed: false, developing: [] };
    this.list.push(s);
    if (this.list.length > this.maxSessions) this.list.shift();
    return s;
  }

  /** Close the current session if it ended at or before ts. */
  closeUntil(ts: number): void {
    const cur = this.current;
    if (cur && !cur.closed && ts >= cur.end) {
      cur.closed = true;
      this.onClose?.(cur);
    }
  }

  /**
   * Record the current session's developing POC/VAH/VAL at a bar close ts with start < ts <= end (a
   * bar closing exactly at the session end is its last bar, and closes the session). A later ts
   * closes the session and records nothing; returns null when nothing was recorded.
   */
  closeBar(ts: number): DevelopingPoint | null {
    const cur = this.current;
    if (!cur || cur.closed || ts <= cur.start) return null;
    if (ts > cur.end) { this.closeUntil(ts); return null; }
    const p = developingPoint(cur.profile, ts, this.va);
    cur.developing.push(p);
    if (ts >= cur.end) this.closeUntil(ts);
    return p;
  }

  /**
   * Estimated bytes held (a memory budget counts them with the closed bars): 48 per allocated row
   * of each session's grid and about 100 per developing point (a small object of four numbers).
   */
  get bytes(): number {
    let b = 0;
    for (const s of this.list) b += s.profile.grid.capacity * 48 + s.developing.length * DEVELOPING_POINT_BYTES;
    return b;
  }

  /**
   * Drop the oldest session when more than `keep` are held and it is closed (a memory budget: closed
   * sessions are in the store when one records them). False when none can go.
   */
  dropOldest(keep = 2): boolean {
    if (this.list.length <= keep || !this.list[0].closed) return false;
    this.list.shift();
    return true;
  }

  /** Merge of the last n retained sessions (including the current one unless includeCurrent is false). */
  composite(n: number, includeCurrent = true): VolumeProfile {
    const out = new VolumeProfile(this.rowTicks);
    let end = this.list.length;
    if (!includeCurrent && end > 0 && !this.list[end - 1].closed) end--;
    for (let i = Math.max(0, end - n); i < end; i++) out.merge(this.list[i].profile);
    return out;
  }
}

/** A profile over the fixed time range [from, to); to = Infinity extends right. */
export class FixedRangeProfile {
  readonly from: number;
  readonly to: number;
  readonly profile: VolumeProfile;

  constructor(rowTicks: number, from: number, to = Infinity) {
    if (!(to > from)) throw new RangeError(`fixed range needs from < to, got [${from}, ${to})`);
    this.from = from;
    this.to = to;
    this.profile = new VolumeProfile(rowTicks);
  }

  /** O(1); false when ts is outside [from, to). */
  add(ts: number, priceTicks: number, size: number, sign: number): boolean {
    if (ts < this.from || ts >= this.to) return false;
    this.profile.add(priceTicks, size, sign);
    return true;
  }

  addTrade(t: Trade): boolean { return this.add(t.ts, t.price, t.size, sideSign(t.side)); }
}

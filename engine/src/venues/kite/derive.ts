/**
 * Order flow from Kite snapshots. Kite sends no trades and no aggressor side, only snapshots with the
 * day's cumulative volume, the last traded price and 5 levels of depth. Between two snapshots of one
 * instrument, a volume increase ΔV becomes ONE derived trade of size ΔV priced at the new last price,
 * classified with the quote rule against the PRECEDING snapshot's best bid/ask (above the mid = buy,
 * below = sell, at the mid → tick rule against the previous last price; no prior sign = unknown).
 * The rung is written to sideSource ('quote' / 'tick' / 'none') and the trade's provenance is
 * KITE_PROVENANCE. A volume decrease (new trading day, reset) re-bases without a trade, so a reconnect
 * never counts volume twice: the first snapshot after it yields exactly the volume traded in between.
 */
import type { Side, SideSource } from '../../core/events.js';

export const KITE_PROVENANCE = 'quote rule on snapshots';

export interface SnapState {
  volume: number;
  /** best bid/ask of the preceding snapshot, raw price integers (NaN when unknown) */
  bid: number;
  ask: number;
  last: number;
  sign: number;
}

export interface DerivedTrade { size: number; price: number; side: Side; sideSource: SideSource }

/** Derive the trade (if any) of a new snapshot; updates `s` with the snapshot's volume and last price (not its depth). */
export function deriveTrade(s: SnapState | undefined, volume: number, last: number): DerivedTrade | undefined {
  if (!s) return undefined;
  const dv = volume - s.volume;
  if (dv <= 0) return undefined;
  let side: Side = 'unknown';
  let src: SideSource = 'none';
  let tick = s.sign;
  if (last > s.last) tick = 1; else if (last < s.last) tick = -1;
  if (s.bid === s.bid && s.ask === s.ask && s.ask >= s.bid && s.bid > 0) {
    const p2 = 2 * last, m2 = s.bid + s.ask;
    if (p2 > m2) { side = 'buy'; src = 'quote'; } else if (p2 < m2) { side = 'sell'; src = 'quote'; }
  }
  if (src === 'none' && tick !== 0) { side = tick > 0 ? 'buy' : 'sell'; src = 'tick'; }
  s.sign = tick;
  return { size: dv, price: last, side, sideSource: src };
}

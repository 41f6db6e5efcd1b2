/**
 * Public views of the signal layer's state: what HTTP answers, WebSocket items and store readers hand
 * to users. The engine keeps prices in ticks and sizes in lots; these views are the one place they
 * become price units and instrument units (signals, evidence, positions, transitions, strategy status,
 * qualified levels). Texts are already written in those units by the engine (signals/units.ts).
 */
import type { Instrument } from '../../../engine/src/core/instruments.js';
import type { QualifiedLevel } from '../../../engine/src/signals/framing.js';
import type { Position, StrategyStatus, Transition } from '../../../engine/src/signals/state.js';
import { EVIDENCE_UNITS, type EvidenceValue, type SignalEvent } from '../../../engine/src/signals/types.js';

type Scales = Pick<Instrument, 'price' | 'qty'>;

/** Evidence with prices, price distances and sizes in price and instrument units ('…Ticks' names lose the suffix). */
export function evidenceView(ev: Record<string, EvidenceValue>, i: Scales): Record<string, EvidenceValue | null> {
  const out: Record<string, EvidenceValue | null> = {};
  for (const [k, v] of Object.entries(ev)) {
    const unit = EVIDENCE_UNITS[k];
    const name = unit === 'distance' && k.endsWith('Ticks') ? k.slice(0, -5) : k;
    if (typeof v !== 'number' || !unit) { out[name] = v; continue; }
    if (k === 'bookMedian' && v < 0) { out[name] = null; continue; } // -1 = no book
    out[name] = unit === 'size' ? i.qty.toNumber(v) : i.price.toNumber(v);
  }
  return out;
}

/** A detector event as users see it: price range in price units, evidence converted. */
export interface SignalView extends Omit<SignalEvent, 'evidence'> { evidence: Record<string, EvidenceValue | null> }

export function signalView(e: SignalEvent, i: Scales): SignalView {
  return { ...e, priceLow: i.price.toNumber(e.priceLow), priceHigh: i.price.toNumber(e.priceHigh), evidence: evidenceView(e.evidence, i) };
}

export function positionView(p: Position | null, i: Scales): Position | null {
  if (!p) return null;
  const px = (t: number): number => i.price.toNumber(t);
  return {
    ...p, entry: px(p.entry), sl: px(p.sl), tp: px(p.tp), initialSl: px(p.initialSl),
    ...(p.exit !== undefined ? { exit: px(p.exit) } : {}),
    level: p.level ? { ...p.level, price: px(p.level.price) } : null,
  };
}

export function transitionView(t: Transition, i: Scales): Transition {
  return { ...t, position: positionView(t.position, i) };
}

export function levelView(l: QualifiedLevel, i: Scales): QualifiedLevel {
  return { ...l, price: i.price.toNumber(l.price) };
}

export function statusView(s: StrategyStatus, i: Scales): Omit<StrategyStatus, 'price'> & { price: number | null } {
  return { ...s, price: Number.isFinite(s.price) ? i.price.toNumber(s.price) : null, position: positionView(s.position, i) };
}

/** A stored journal row (`data` = the engine's Transition in ticks) as served. */
export function journalView<T extends { data?: unknown }>(r: T, i: Scales): T {
  const d = r.data as Transition | undefined;
  return d && typeof d === 'object' && 'to' in d ? { ...r, data: transitionView(d, i) } : r;
}

/**
 * Signal marks for the Charting Library, shared by the UDF `/marks` route and the browser's
 * `withDerivedTickers` so both paths draw the same: at most one mark per bar and side (bullish,
 * bearish, neutral — so at most three per bar, which stay inside the pane), its label the signal's
 * initial when alone or the count when several (the count badge: 2…9, then "9+"), its tooltip the
 * signals' texts.
 * Pure, no Node imports.
 */
import type { Mark } from './types.js';

export interface MarkSignal { id?: string | number; ts: number; kind: string; side?: string; text?: string }

/** Tooltip lines listed per mark; the rest are counted. */
export const MARK_TEXT_LINES = 6;

/**
 * Group signals into marks. `barStart(ts)` gives the start (ms) of the bar holding `ts` at the chart's
 * resolution, or NaN to skip the signal. Marks come out in time order, times in Unix seconds.
 */
export function groupSignalMarks(signals: Iterable<MarkSignal>, barStart: (ts: number) => number): Mark[] {
  const groups = new Map<string, { t: number; side: 'buy' | 'sell' | 'none'; items: MarkSignal[] }>();
  for (const s of signals) {
    const t = barStart(s.ts);
    if (!Number.isFinite(t)) continue;
    const side = s.side === 'buy' ? 'buy' : s.side === 'sell' ? 'sell' : 'none';
    const k = `${t}:${side}`;
    let g = groups.get(k);
    if (!g) { g = { t, side, items: [] }; groups.set(k, g); }
    g.items.push(s);
  }
  const order = { buy: 0, sell: 1, none: 2 } as const;
  return [...groups.values()].sort((a, b) => a.t - b.t || order[a.side] - order[b.side]).map((g): Mark => {
    const n = g.items.length;
    const lines = g.items.slice(0, MARK_TEXT_LINES).map((s) => `${s.kind}${s.side ? ` (${s.side})` : ''}: ${s.text ?? ''}`.trim());
    if (n > MARK_TEXT_LINES) lines.push(`… and ${n - MARK_TEXT_LINES} more`);
    return {
      id: `${Math.floor(g.t / 1000)}:${g.side}`,
      time: Math.floor(g.t / 1000),
      color: g.side === 'buy' ? 'green' : g.side === 'sell' ? 'red' : 'blue',
      text: (n > 1 ? `${n} signals\n` : '') + lines.join('\n'),
      // the library shows one label character, two with the featureset two_character_bar_marks_labels
      label: n > 1 ? (n > 9 ? '9+' : String(n)) : (g.items[0].kind[0] ?? 'S').toUpperCase(),
      labelFontColor: '#ffffff',
      minSize: n > 1 ? 18 : 14,
    };
  });
}

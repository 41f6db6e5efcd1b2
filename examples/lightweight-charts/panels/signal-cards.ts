/**
 * Signal cards: one card per signal (kind, side, strength, price zone, reasoning bullets in price
 * units) from the `signal` channel, and lifecycle cards from `trade_state` (state, entry/SL/TP, R:R,
 * score and grade of the position). Rule-mode items (LONG/SHORT/WAIT with a confidence) show as a
 * verdict line when the server serves them on `bias`.
 */
import { signalLabel } from '../../../indicators/lightweight-charts/index.js';
import { el, hms, num, panel } from './dom.js';

export interface SignalItem { id: string; kind: string; side?: string; priceLow: number; priceHigh: number; strength?: number; confirmedAt: number; reasoning?: string[]; variant?: string }
export interface PositionItem { side: string; entry: number; sl: number; tp: number; score?: number; grade?: string; exit?: number }
export interface TransitionItem { ts: number; from: string; to: string; reasoning?: string[]; position: PositionItem | null }

export class SignalCardsPanel {
  private readonly list: HTMLDivElement;
  private readonly verdict: HTMLDivElement;
  private readonly badge: HTMLSpanElement;
  cards = 0;
  constructor(host: HTMLElement, private readonly onPick: (ms: number) => void, private max = 40) {
    const p = panel(host, 'signals', 'Signals');
    this.badge = p.badge;
    this.verdict = el('div', 'verdict', 'strategy: waiting');
    this.list = el('div', 'cards');
    p.body.append(this.verdict, this.list);
  }
  clear(): void { this.list.replaceChildren(); this.cards = 0; this.badge.textContent = ''; this.seen.clear(); }
  /** transitions already shown: the trade_state snapshot and its first update can carry the same one */
  private readonly seen = new Set<string>();
  private push(card: HTMLElement, ms: number): void {
    card.addEventListener('click', () => this.onPick(ms));
    this.list.prepend(card);
    this.cards++;
    this.badge.textContent = String(this.cards);
    while (this.list.childElementCount > this.max) this.list.lastElementChild!.remove();
  }
  signal(s: SignalItem): void {
    const c = el('div', `card ${s.side ?? ''}`);
    c.dataset.id = s.id;
    const head = el('div', 'head');
    head.append(el('b', 'tag', signalLabel(s.kind)), el('span', '', `${s.kind}${s.variant ? ` (${s.variant})` : ''} · ${s.side ?? '–'} · strength ${num(s.strength ?? NaN, 1)}`), el('span', 'time', hms(s.confirmedAt)));
    const zone = el('div', 'zone', s.priceLow === s.priceHigh ? `at ${num(s.priceLow, 8)}` : `${num(s.priceLow, 8)} – ${num(s.priceHigh, 8)}`);
    const ul = el('ul');
    for (const r of s.reasoning ?? []) ul.appendChild(el('li', '', r));
    c.append(head, zone, ul);
    this.push(c, s.confirmedAt);
  }
  transition(t: TransitionItem): void {
    const key = `${t.ts}:${t.from}:${t.to}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const p = t.position;
    const c = el('div', `card life ${p?.side ?? ''}`);
    const tag = t.to === 'POSITION_OPEN' ? 'ENTRY' : t.to === 'BREAK_EVEN' ? 'BE' : t.to === 'TRAILING' ? 'TRAIL' : t.to === 'CLOSED' ? 'EXIT' : t.to;
    const head = el('div', 'head');
    head.append(el('b', 'tag', tag), el('span', '', `${t.from} → ${t.to}`), el('span', 'time', hms(t.ts)));
    c.appendChild(head);
    if (p) {
      const risk = Math.abs(p.entry - p.sl), reward = Math.abs(p.tp - p.entry);
      c.appendChild(el('div', 'zone', `${p.side} entry ${num(p.entry, 8)} · SL ${num(p.sl, 8)} · TP ${num(p.tp, 8)} · R:R ${risk > 0 ? num(reward / risk, 2) : '–'}${p.score !== undefined ? ` · score ${num(p.score, 1)} ${p.grade ?? ''}` : ''}`));
    }
    const ul = el('ul');
    for (const r of t.reasoning ?? []) ul.appendChild(el('li', '', r));
    c.appendChild(ul);
    this.push(c, t.ts);
  }
  private ruleLine = '';
  /** rule-mode decision: LONG / SHORT / WAIT with its confidence (0–100) and reasons */
  rule(r: { signal?: string; confidence?: number; confidence_scale?: number; reasoning?: string[] }): void {
    // FlowSight confidence is 0–100 %; the seed preset's is 0–10 (confidence_scale 10)
    const c = r.confidence === undefined ? '' : r.confidence_scale === 10 ? `(${r.confidence}/10)` : `(${Math.round(r.confidence)} %)`;
    this.ruleLine = `${r.signal} ${c}`;
    this.verdict.title = (r.reasoning ?? []).join('\n');
    this.verdict.dataset.rule = r.signal ?? '';
    this.verdict.textContent = `${this.ruleLine} · ${this.verdict.textContent?.replace(/^.*?· (?=strategy)/, '') ?? ''}`;
  }
  /** strategy state line (and rule-mode verdict when present) */
  status(s: { state?: string; label?: string; completedSteps?: number; verdict?: string; confidence?: number } | null): void {
    if (!s) return;
    const v = this.ruleLine ? `${this.ruleLine} · ` : '';
    this.verdict.textContent = `${v}strategy: ${s.state ?? '–'} · ${s.label ?? ''} · ${s.completedSteps ?? 0}/6 steps`;
  }
}

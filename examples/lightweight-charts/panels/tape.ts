/**
 * Time & sales from the `tick` channel: newest first, aggressor colours, trades of at least the
 * big-trade threshold (instrument units, a setting) highlighted. Hovering pauses the tape (new
 * trades are buffered and shown on leave). At most `max` rows are kept in the DOM.
 */
import type { WireTrade } from '../../../datafeed-adapter/src/ws/protocol.js';
import { el, hms, num, panel } from './dom.js';

export class TapePanel {
  private readonly list: HTMLDivElement;
  private readonly badge: HTMLSpanElement;
  private paused = false;
  private held: WireTrade[] = [];
  received = 0;
  big = 0;
  constructor(host: HTMLElement, public threshold: number, private max = 80) {
    const p = panel(host, 'tape', 'Time & sales');
    this.badge = p.badge;
    this.list = el('div', 'tape');
    p.body.appendChild(this.list);
    this.list.addEventListener('mouseenter', () => { this.paused = true; this.badge.textContent = 'paused'; });
    this.list.addEventListener('mouseleave', () => { this.paused = false; this.badge.textContent = ''; const h = this.held; this.held = []; this.add(h); });
  }
  get isPaused(): boolean { return this.paused; }
  clear(): void { this.list.replaceChildren(); this.held = []; }
  add(trades: readonly WireTrade[]): void {
    this.received += trades.length;
    if (this.paused) { this.held.push(...trades); if (this.held.length > this.max) this.held.splice(0, this.held.length - this.max); return; }
    const frag = document.createDocumentFragment();
    const from = Math.max(0, trades.length - this.max);
    for (let i = trades.length - 1; i >= from; i--) {
      const [ts, px, sz, side] = trades[i];
      const r = el('div', `t ${side > 0 ? 'buy' : side < 0 ? 'sell' : 'unk'}${sz >= this.threshold ? ' big' : ''}`);
      if (sz >= this.threshold) this.big++;
      r.append(el('span', '', hms(ts)), el('span', 'px', num(px, 8)), el('span', 'sz', num(sz, 4)));
      frag.appendChild(r);
    }
    this.list.prepend(frag);
    while (this.list.childElementCount > this.max) this.list.lastElementChild!.remove();
  }
}

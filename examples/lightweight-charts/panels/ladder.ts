/**
 * DOM ladder from the `orderbook` channel: bid/ask size by price around the touch, thin levels
 * (below a quarter of the median shown size) marked, and flashes when a level shrinks: "consumed"
 * when trades printed at that price since the last update, "pulled" otherwise. An unsynced book
 * (`synced: false`) is shown as such and its levels are not drawn. A venue with limited depth (`depthLevels`,
 * Kite: 5) says "N levels" in the badge.
 */
import type { WireBook } from '../../../datafeed-adapter/src/ws/protocol.js';
import { el, num, panel } from './dom.js';

export class LadderPanel {
  private readonly body: HTMLDivElement;
  private readonly badge: HTMLSpanElement;
  private prev = new Map<string, number>();
  /** prices traded since the last book update */
  private traded = new Set<number>();
  updates = 0;
  pulled = 0;
  consumed = 0;
  constructor(host: HTMLElement, private rows = 12) {
    const p = panel(host, 'ladder', 'DOM ladder');
    this.body = p.body; this.badge = p.badge;
    this.body.textContent = 'waiting for the book…';
  }
  onTrade(price: number): void { this.traded.add(price); }
  render(b: WireBook): void {
    this.updates++;
    if (!b.available) { this.badge.textContent = 'no book'; this.body.textContent = 'this instrument has no order book feed'; return; }
    if (!b.synced) { this.badge.textContent = 'UNSYNCED'; this.badge.className = 'badge warn'; this.body.textContent = 'book not synced with the venue: levels hidden until the next snapshot'; this.prev.clear(); return; }
    // a venue that shows only N levels (Kite: 5) is said on the panel: imbalance and depth are over those N
    this.badge.textContent = b.depthLevels ? `synced · ${b.depthLevels} levels` : 'synced'; this.badge.className = 'badge ok';
    this.badge.title = b.depthLevels ? `the venue shows ${b.depthLevels} levels a side: book metrics are over those ${b.depthLevels} only` : '';
    const asks = b.asks.slice(0, this.rows).reverse(), bids = b.bids.slice(0, this.rows);
    const sizes = [...asks, ...bids].map((l) => l[1]).sort((x, y) => x - y);
    const median = sizes.length ? sizes[sizes.length >> 1] : 0;
    const max = sizes.length ? sizes[sizes.length - 1] : 1;
    const t = el('table', 'ladder');
    const next = new Map<string, number>();
    const row = (side: 'bid' | 'ask', px: number, q: number): void => {
      const key = `${side}:${px}`;
      next.set(key, q);
      const tr = el('tr', side);
      const before = this.prev.get(key);
      if (before !== undefined && q < before) {
        const c = this.traded.has(px);
        tr.classList.add(c ? 'consumed' : 'pulled');
        if (c) this.consumed++; else this.pulled++;
      }
      if (q < median / 4) tr.classList.add('thin');
      const bar = `linear-gradient(to ${side === 'bid' ? 'left' : 'right'}, var(--${side}) ${Math.round((q / max) * 100)}%, transparent 0)`;
      const bidTd = el('td', 'sz', side === 'bid' ? num(q, 4) : ''), pxTd = el('td', 'px', num(px, 8)), askTd = el('td', 'sz', side === 'ask' ? num(q, 4) : '');
      (side === 'bid' ? bidTd : askTd).style.background = bar;
      tr.append(bidTd, pxTd, askTd);
      t.appendChild(tr);
    };
    for (const [px, q] of asks) row('ask', px, q);
    for (const [px, q] of bids) row('bid', px, q);
    // pulled/consumed is judged per level against the previous image, on the prices traded in between
    this.prev = next; this.traded.clear();
    this.body.replaceChildren(t);
  }
}

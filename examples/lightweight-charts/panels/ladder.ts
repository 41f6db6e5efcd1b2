/**
 * DOM ladder from the `orderbook` channel: bid/ask size by price around the touch, thin levels
 * (below a quarter of the median shown size) marked, and flashes when a level shrinks: "consumed"
 * when trades printed at that price since the last update, "pulled" otherwise. An unsynced book
 * (`synced: false`) is shown as such and its levels are not drawn. A venue with limited depth (`depthLevels`,
 * Kite: 5) says "N levels" in the badge.
 */
import type { WireBook } from '../../../datafeed-adapter/src/ws/protocol.js';
import { el, num, panel, perFrame, setText } from './dom.js';

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
  private book: WireBook | null = null;
  /** the table's rows, kept and rewritten in place (a rebuilt table is a new layout every frame) */
  private table: HTMLTableElement | null = null;
  private readonly cells: { tr: HTMLTableRowElement; td: HTMLTableCellElement[]; cls: string; bg: string }[] = [];
  // the book can arrive several times a frame: the latest is drawn once per frame
  private readonly draw = perFrame(() => { if (this.book) this.paint(this.book); });
  render(b: WireBook): void { this.updates++; this.book = b; this.draw(); }
  private message(text: string): void { this.table = null; this.cells.length = 0; setText(this.body, text); }
  private paint(b: WireBook): void {
    if (!b.available) { setText(this.badge, 'no book'); this.message('this instrument has no order book feed'); return; }
    if (!b.synced) { setText(this.badge, 'UNSYNCED'); this.badge.className = 'badge warn'; this.message('book not synced with the venue: levels hidden until the next snapshot'); this.prev.clear(); return; }
    // a venue that shows only N levels (Kite: 5) is said on the panel: imbalance and depth are over those N
    setText(this.badge, b.depthLevels ? `synced · ${b.depthLevels} levels` : 'synced'); if (this.badge.className !== 'badge ok') this.badge.className = 'badge ok';
    const title = b.depthLevels ? `the venue shows ${b.depthLevels} levels a side: book metrics are over those ${b.depthLevels} only` : '';
    if (this.badge.title !== title) this.badge.title = title;
    const asks = b.asks.slice(0, this.rows).reverse(), bids = b.bids.slice(0, this.rows);
    const sizes = [...asks, ...bids].map((l) => l[1]).sort((x, y) => x - y);
    const median = sizes.length ? sizes[sizes.length >> 1] : 0;
    const max = sizes.length ? sizes[sizes.length - 1] : 1;
    if (!this.table) { this.table = el('table', 'ladder'); this.cells.length = 0; this.body.replaceChildren(this.table); }
    const t = this.table;
    const next = new Map<string, number>();
    let k = 0;
    const row = (side: 'bid' | 'ask', px: number, q: number): void => {
      const key = `${side}:${px}`;
      next.set(key, q);
      let cls: string = side;
      const before = this.prev.get(key);
      if (before !== undefined && q < before) {
        const c = this.traded.has(px);
        cls += c ? ' consumed' : ' pulled';
        if (c) this.consumed++; else this.pulled++;
      }
      if (q < median / 4) cls += ' thin';
      const bar = `linear-gradient(to ${side === 'bid' ? 'left' : 'right'}, var(--${side}) ${Math.round((q / max) * 100)}%, transparent 0)`;
      let r = this.cells[k];
      if (!r) { const tr = el('tr'); const td = [el('td', 'sz'), el('td', 'px'), el('td', 'sz')]; tr.append(...td); t.appendChild(tr); r = this.cells[k] = { tr, td, cls: '', bg: '' }; }
      k++;
      if (r.cls !== cls) { r.tr.className = cls; r.cls = cls; }
      setText(r.td[0], side === 'bid' ? num(q, 4) : ''); setText(r.td[1], num(px, 8)); setText(r.td[2], side === 'ask' ? num(q, 4) : '');
      const bg = `${side}${bar}`;
      if (r.bg !== bg) { r.td[0].style.background = side === 'bid' ? bar : ''; r.td[2].style.background = side === 'ask' ? bar : ''; r.bg = bg; }
    };
    for (const [px, q] of asks) row('ask', px, q);
    for (const [px, q] of bids) row('bid', px, q);
    while (this.cells.length > k) this.cells.pop()!.tr.remove();
    // pulled/consumed is judged per level against the previous drawn image, on the prices traded in between
    this.prev = next; this.traded.clear();
  }
}

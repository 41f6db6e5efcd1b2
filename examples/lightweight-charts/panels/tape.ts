/**
 * Time & sales from the `tick` channel: newest first, aggressor colours, trades of at least the
 * big-trade threshold (instrument units, a setting) highlighted. A threshold of 0 means "auto": the
 * 99th percentile of the sizes of the trades the list shows (the newest `keep`), so a contract-sized
 * instrument does not light up every row (the badge says which threshold is in force and how it was
 * derived). Hovering pauses the tape (new trades are buffered and shown on leave).
 * A 1,000 trades/s tape must cost well under 2 ms a frame, so the list is virtual: trades go into a
 * bounded buffer, and once per animation frame a fixed set of row slots — only the rows in view — is
 * filled from it. The slots never move (the block holding them moves only when the list is scrolled),
 * so a frame changes texts and class names only (rows whose trade and class are unchanged are not
 * touched): no row is re-positioned and no paint property changes. Each row is one line (see `Row`),
 * so a changed row costs one inline layout. The badge's text changes only when the threshold does (a
 * text that changed every frame re-laid the whole side column). The DOM work per frame is
 * O(rows in view), whatever the trade rate; what remains is the browser's own cost of a frame with
 * any DOM change on this page (~1 ms of style, layout, paint and layerization, measured by changing
 * one text node of the page in Chromium on the workstation bench page).
 */
import type { WireTrade } from '../../../datafeed-adapter/src/ws/protocol.js';
import { el, hms, num, panel } from './dom.js';
import { SortedSizes } from './sorted-sizes.js';

/** row height, px (fixed: the list positions rows by index) */
const ROW = 16;

/** size column width, px: the size starts this far before the row's right edge (a tab stop, see `tabs`) */
const SIZE_COL = 70;

/**
 * A row slot: the time in a 64 px box, then ONE text node "price<TAB>size" whose tab stop (the list's
 * `tab-size`, its width minus the size column) puts the size in the right-hand column. One inline
 * layout per changed row instead of one per cell: a 1,000 trades/s frame re-lays out every row in view,
 * and that layout was the largest part of it. Texts are edited in place (no nodes created per trade).
 */
interface Row { e: HTMLDivElement; t: Text; ps: Text; cls: string }

export class TapePanel {
  private readonly list: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  /** holds the row slots; moved (one transform) only when the list scrolls */
  private readonly rows: HTMLDivElement;
  private shift = -1;
  private readonly badge: HTMLSpanElement;
  private readonly pool: Row[] = [];
  private paused = false;
  private held: WireTrade[] = [];
  /** newest last: the newest `keep` to 2 × `keep` trades (trimmed in batches) */
  private trades: WireTrade[] = [];
  private frame = 0;
  private top = 0;
  private height = 0;
  private width = 0;
  private tabs = -1;
  received = 0;
  big = 0;
  /** frames in which rows were filled (tests / bench) */
  renders = 0;
  /** the sizes of the shown trades (the newest `keep` of `trades`), kept sorted as trades arrive and leave:
   *  the auto threshold (p99) is a read, not a sort per batch */
  private readonly sizes = new SortedSizes();
  constructor(host: HTMLElement, public threshold: number, private readonly keep = 500) {
    const p = panel(host, 'tape', 'Time & sales');
    this.badge = p.badge;
    this.list = el('div', 'tape');
    this.spacer = el('div', 'spacer');
    this.rows = el('div', 'rows');
    this.list.append(this.spacer, this.rows);
    p.body.appendChild(this.list);
    // scroll offset and height are read in their own events, never in render (that would force a layout
    // after the other panels' DOM writes of the same frame)
    this.list.addEventListener('scroll', () => { this.top = this.list.scrollTop; this.schedule(); }, { passive: true });
    new ResizeObserver(() => { this.height = this.list.clientHeight; this.width = this.list.clientWidth; this.schedule(); }).observe(this.list);
    this.list.addEventListener('mouseenter', () => { this.paused = true; this.badge.textContent = 'paused'; });
    this.list.addEventListener('mouseleave', () => { this.paused = false; this.badge.textContent = ''; const h = this.held; this.held = []; this.add(h, false); });
  }
  get isPaused(): boolean { return this.paused; }
  /** the threshold in force: the setting, or the shown trades' 99th-percentile size when the setting is 0 */
  get effectiveThreshold(): number {
    if (this.threshold > 0) return this.threshold;
    return this.trades.length ? this.sizes.p99() : p99(this.held);
  }
  /** trades held in the list (newest last) */
  get size(): number { return this.trades.length; }
  clear(): void { this.trades = []; this.held = []; this.sizes.reset([]); this.list.scrollTop = 0; this.top = 0; this.schedule(); }

  add(trades: readonly WireTrade[], count = true): void {
    if (count) {
      this.received += trades.length;
      // p99 of the buffer with the batch in it (the batch counted against itself too)
      const th = this.threshold > 0 ? this.threshold : this.sizes.p99With(trades);
      for (const t of trades) if (t[2] >= th) this.big++;
    }
    if (this.paused) { push(this.held, trades, this.keep); return; }
    const keep = this.keep, before = this.trades.length;
    const cut = push(this.trades, trades, keep, false);
    const after = this.trades.length;
    // the shown window is the newest `keep`: the batch enters it, trades [gone0, gone1) left it
    const gone0 = Math.max(0, before - keep), gone1 = Math.max(0, after - keep);
    if (cut || gone1 - gone0 + trades.length > keep / 4) this.sizes.reset(this.trades, gone1);
    else { this.sizes.insert(trades); this.sizes.remove(this.trades, gone0, gone1); }
    // trimmed in batches (only trades already out of the window go)
    if (after > keep * 2) this.trades.splice(0, after - keep);
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  /** Fill the rows in view from the buffer (newest first). */
  private render(): void {
    this.renders++;
    // the list shows the newest `keep` trades (the buffer holds up to 2 × keep so it is trimmed in batches):
    // once it is full its height stays the same, so a new trade does not change the scroll extent each frame
    const all = this.trades.length, n = Math.min(all, this.keep);
    const th = this.effectiveThreshold;
    const badge = this.paused ? 'paused' : this.threshold > 0 ? '' : Number.isFinite(th) ? `big ≥ ${num(th, 4)} (auto: p99 of last ${n})` : '';
    if (this.badge.textContent !== badge) this.badge.textContent = badge;
    const h = `${n * ROW}px`;
    if (this.spacer.style.height !== h) this.spacer.style.height = h;
    const first = Math.floor(this.top / ROW);
    const want = Math.min(n - first, Math.ceil(this.height / ROW) + 1);
    if (this.shift !== first) { this.shift = first; this.rows.style.transform = `translateY(${first * ROW}px)`; }
    // the size column's left edge as the tab stop (measured from the row's start; the width is the list's client width)
    const tabs = Math.max(1, this.width - SIZE_COL);
    if (this.tabs !== tabs) { this.tabs = tabs; this.rows.style.tabSize = `${tabs}px`; }
    while (this.pool.length < want) this.pool.push(this.row());
    for (let j = 0; j < this.pool.length; j++) {
      const r = this.pool[j];
      if (j >= want) { if (r.cls !== '') { r.cls = ''; r.e.className = ''; r.e.hidden = true; } continue; }
      const [ts, px, sz, side] = this.trades[all - 1 - first - j];
      const cls = `t ${side > 0 ? 'buy' : side < 0 ? 'sell' : 'unk'}${sz >= th ? ' big' : ''}`;
      if (r.cls !== cls) { if (r.cls === '') r.e.hidden = false; r.cls = cls; r.e.className = cls; }
      // the space after the time (inside its fixed box) keeps the cells apart in the row's text (innerText, copy)
      set(r.t, `${hms(ts)} `); set(r.ps, `${num(px, 8)}\t${num(sz, 4)}`);
    }
  }

  private row(): Row {
    const e = el('div'), time = el('span'), t = document.createTextNode(''), ps = document.createTextNode('');
    time.appendChild(t);
    e.append(time, ps);
    e.hidden = true;
    this.rows.appendChild(e);
    return { e, t, ps, cls: '' };
  }
}

/** 99th-percentile size of `buf` (Infinity when empty: nothing is big before any trade) */
function p99(buf: readonly WireTrade[]): number {
  if (!buf.length) return Infinity;
  const a = Float64Array.from(buf, (t) => t[2]).sort();
  return a[Math.min(a.length - 1, Math.floor(a.length * 0.99))];
}

const set = (t: Text, s: string): void => { if (t.data !== s) t.data = s; };

/** Append `add` to `buf` (at most its newest `keep`), trimming `buf` to the newest `keep` when it passes 2 × keep
 *  (if `trim`); true when some of `add` was dropped */
function push(buf: WireTrade[], add: readonly WireTrade[], keep: number, trim = true): boolean {
  const cut = add.length > keep;
  for (const t of cut ? add.slice(add.length - keep) : add) buf.push(t);
  if (trim && buf.length > keep * 2) buf.splice(0, buf.length - keep);
  return cut;
}

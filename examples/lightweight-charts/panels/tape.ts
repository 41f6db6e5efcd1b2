/**
 * Time & sales from the `tick` channel: newest first, aggressor colours, trades of at least the
 * big-trade threshold (instrument units, a setting) highlighted. A threshold of 0 means "auto": the
 * 99th percentile of the sizes of the trades the list shows (the newest `keep`), so a contract-sized
 * instrument does not light up every row (the badge says which threshold is in force and how it was
 * derived). Hovering pauses the tape (new trades are buffered and shown on leave), and so do keyboard
 * focus, a selection inside it, and a list scrolled away from its newest row (a touch screen has no
 * hover). While paused the rows are also DOM text (transparent, under the canvas), so a user can select
 * and copy them (tab-separated: time, price, size) and a screen reader can read them.
 * A 1,000 trades/s tape must cost well under 2 ms a frame, so trades go into a bounded buffer and,
 * once per animation frame, only the rows in view are drawn on a canvas laid over the list (the list
 * itself only scrolls: a spacer gives it the height of the rows it holds). Drawing the ~17 rows in
 * view is ~0.6-0.8 ms of script and canvas text on the workstation page; the DOM rows this replaced
 * (text nodes rewritten each frame) cost ~1 ms more per frame in style, layout, paint and layerization
 * (the workstation bench's paired tape figure, alternated runs: examples/lightweight-charts/README.md).
 * The badge's text changes only when the threshold does. What was drawn is kept as text (`shown`).
 */
import type { WireTrade } from '../../../datafeed-adapter/src/ws/protocol.js';
import { el, hms, num, panel } from './dom.js';
import { SortedSizes } from './sorted-sizes.js';

/** row height, px (fixed: the list positions rows by index) */
const ROW = 16;

/** the time column's width (a bold big-trade time still clears the price) and the size column's, px (the size starts this far before the right edge) */
const TIME_COL = 70, SIZE_COL = 70;

/** what a row is drawn with: colour by aggressor, and the big-trade background and weight */
interface Look { font: string; bold: string; buy: string; sell: string; unk: string; bigBg: string }

export class TapePanel {
  private readonly list: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  /** the rows in view, drawn over the list (the list only scrolls: its spacer gives the scroll extent) */
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private look: Look | null = null;
  private readonly badge: HTMLSpanElement;
  private paused = false;
  /** why it is paused: the pointer is over it, keyboard focus is in it, a selection is in it, it is scrolled to older rows */
  private hovered = false;
  private scrolled = false;
  private focused = false;
  private selecting = false;
  /** while paused: the shown rows as text (selectable, readable), empty otherwise */
  private readonly text: HTMLDivElement;
  private held: WireTrade[] = [];
  /** newest last: the newest `keep` to 2 × `keep` trades (trimmed in batches) */
  private trades: WireTrade[] = [];
  private frame = 0;
  private top = 0;
  private height = 0;
  private width = 0;
  private dpr = 1;
  received = 0;
  big = 0;
  /** frames in which rows were drawn (tests / bench) */
  renders = 0;
  /** the trades drawn in the last frame, top to bottom, and the threshold they were drawn with (see `shown`) */
  private drawn: WireTrade[] = [];
  private drawnTh = Infinity;
  /** the sizes of the shown trades (the newest `keep` of `trades`), kept sorted as trades arrive and leave:
   *  the auto threshold (p99) is a read, not a sort per batch */
  private readonly sizes = new SortedSizes();
  constructor(host: HTMLElement, public threshold: number, private readonly keep = 500) {
    const p = panel(host, 'tape', 'Time & sales');
    this.badge = p.badge;
    const box = el('div', 'tapebox');
    this.list = el('div', 'tape');
    this.spacer = el('div', 'spacer');
    this.text = el('div', 'tape-text');
    this.list.append(this.spacer, this.text);
    this.list.tabIndex = 0;
    this.list.setAttribute('aria-label', 'Time and sales: focus pauses it and lists the rows as text');
    this.canvas = el('canvas', 'tape-rows');
    this.canvas.setAttribute('aria-hidden', 'true');
    this.ctx = this.canvas.getContext('2d')!;
    box.append(this.list, this.canvas);
    p.body.appendChild(box);
    // scroll offset and size are read in their own events, never in render (that would force a layout
    // after the other panels' DOM writes of the same frame)
    this.list.addEventListener('scroll', () => {
      this.top = this.list.scrollTop;
      if (this.scrolled !== this.top > 0) { this.scrolled = this.top > 0; this.setPaused(); }
      this.schedule();
    }, { passive: true });
    new ResizeObserver(() => {
      this.height = this.list.clientHeight; this.width = this.list.clientWidth;
      this.look = look(this.list);
      this.canvas.style.width = `${this.width}px`; this.canvas.style.height = `${this.height}px`;
      this.fitBitmap(window.devicePixelRatio || 1);
      this.schedule();
    }).observe(this.list);
    this.list.addEventListener('mouseenter', () => { this.hovered = true; this.setPaused(); });
    this.list.addEventListener('mouseleave', () => { this.hovered = false; this.selecting = this.hasSelection(); this.setPaused(); });
    // keyboard focus only (a click that focuses the list must not keep it paused after the pointer leaves)
    this.list.addEventListener('focus', () => { this.focused = this.list.matches(':focus-visible'); this.setPaused(); });
    this.list.addEventListener('blur', () => { this.focused = false; this.setPaused(); });
    // a selection holds it paused (to copy) until it goes, or until a press elsewhere: the chart's canvases
    // keep the selection on a press (they prevent the default), and the trader has moved on
    document.addEventListener('selectionchange', () => { if (this.selecting && !this.hasSelection()) { this.selecting = false; this.setPaused(); } });
    document.addEventListener('pointerdown', (e) => { if (this.selecting && !this.list.contains(e.target as Node)) { this.selecting = false; this.setPaused(); } }, { capture: true });
  }

  /** a non-empty selection that starts or ends in the list */
  private hasSelection(): boolean {
    const sel = document.getSelection();
    return !!sel && !sel.isCollapsed && (this.list.contains(sel.anchorNode) || this.list.contains(sel.focusNode));
  }

  private setPaused(): void {
    const p = this.hovered || this.focused || this.selecting || this.scrolled;
    if (p === this.paused) return;
    this.paused = p;
    if (p) { this.badge.textContent = 'paused'; this.writeText(); return; }
    this.text.textContent = '';
    this.badge.textContent = '';
    const h = this.held; this.held = []; this.add(h, false);
  }

  /** the shown rows (newest first) as text rows, one table row each: cells copy tab-separated, rows by line */
  private writeText(): void {
    const all = this.trades.length, n = Math.min(all, this.keep), frag = document.createDocumentFragment();
    for (let j = 0; j < n; j++) {
      const row = el('div');
      for (const c of cells(this.trades[all - 1 - j])) row.appendChild(el('span', '', c));
      frag.appendChild(row);
    }
    this.text.replaceChildren(frag);
  }
  get isPaused(): boolean { return this.paused; }
  /** the rows drawn in the last frame, top to bottom, as text: "hh:mm:ss price size" and "buy|sell|unk[ big]" */
  get shown(): { text: string; cls: string }[] {
    return this.drawn.map((t) => ({ text: cells(t).join(' '), cls: `${aggressor(t[3])}${t[2] >= this.drawnTh ? ' big' : ''}` }));
  }
  /** the threshold in force: the setting, or the shown trades' 99th-percentile size when the setting is 0 */
  get effectiveThreshold(): number {
    if (this.threshold > 0) return this.threshold;
    return this.trades.length ? this.sizes.p99() : p99(this.held);
  }
  /** trades held in the list (newest last) */
  get size(): number { return this.trades.length; }
  clear(): void {
    this.trades = []; this.held = []; this.sizes.reset([]); this.list.scrollTop = 0; this.top = 0;
    if (this.paused) this.writeText();
    this.schedule();
  }

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

  /** the canvas's bitmap: the list's size in device pixels */
  private fitBitmap(dpr: number): void {
    this.dpr = dpr;
    this.canvas.width = Math.round(this.width * dpr); this.canvas.height = Math.round(this.height * dpr);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  /** Draw the rows in view from the buffer (newest first). */
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
    const L = this.look, c = this.ctx, w = this.width;
    if (!L) return;
    // the page zoomed or moved to a screen of another pixel ratio (no resize event then): a sharp bitmap again
    const dpr = window.devicePixelRatio || 1;
    if (dpr !== this.dpr) this.fitBitmap(dpr);
    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    c.clearRect(0, 0, w, this.height);
    c.textBaseline = 'middle';
    // the first row in view may be partly scrolled out (rows are ROW px apart from the list's top)
    const first = Math.floor(this.top / ROW), off = first * ROW - this.top;
    const want = Math.max(0, Math.min(n - first, Math.ceil(this.height / ROW) + 1));
    this.drawn = this.trades.slice(all - first - want, all - first).reverse();
    this.drawnTh = th;
    // font and colour are set only when they change (setting the font parses it)
    let font = '', color = '';
    for (let j = 0; j < want; j++) {
      const tr = this.drawn[j], y = off + j * ROW, big = tr[2] >= th;
      if (big) { c.fillStyle = color = L.bigBg; c.fillRect(0, y, w, ROW); }
      const f = big ? L.bold : L.font, k = L[aggressor(tr[3])];
      if (f !== font) c.font = font = f;
      if (k !== color) c.fillStyle = color = k;
      const [t, p, s] = cells(tr);
      c.fillText(t, 0, y + ROW / 2); c.fillText(p, TIME_COL, y + ROW / 2); c.fillText(s, Math.max(TIME_COL, w - SIZE_COL), y + ROW / 2);
    }
  }
}

/** a row's three cells: time, price, size */
const cells = (t: WireTrade): [string, string, string] => [hms(t[0]), num(t[1], 8), num(t[2], 4)];
/** who was aggressive: the buyer (side > 0), the seller, or unknown */
const aggressor = (side: number): 'buy' | 'sell' | 'unk' => (side > 0 ? 'buy' : side < 0 ? 'sell' : 'unk');

/** the page's colours and font for the rows (the stylesheet's `--tape-*` properties of the list) */
function look(list: HTMLElement): Look {
  const cs = getComputedStyle(list), v = (k: string, d: string): string => cs.getPropertyValue(k).trim() || d;
  const font = `${cs.fontSize} ${cs.fontFamily}`;
  return { font, bold: `700 ${font}`, buy: v('--tape-buy', '#26a69a'), sell: v('--tape-sell', '#ef5350'), unk: cs.color, bigBg: v('--tape-big', 'rgba(240,185,11,.18)') };
}

/** 99th-percentile size of `buf` (Infinity when empty: nothing is big before any trade) */
function p99(buf: readonly WireTrade[]): number {
  if (!buf.length) return Infinity;
  const a = Float64Array.from(buf, (t) => t[2]).sort();
  return a[Math.min(a.length - 1, Math.floor(a.length * 0.99))];
}

/** Append `add` to `buf` (at most its newest `keep`), trimming `buf` to the newest `keep` when it passes 2 × keep
 *  (if `trim`); true when some of `add` was dropped */
function push(buf: WireTrade[], add: readonly WireTrade[], keep: number, trim = true): boolean {
  const cut = add.length > keep;
  for (const t of cut ? add.slice(add.length - keep) : add) buf.push(t);
  if (trim && buf.length > keep * 2) buf.splice(0, buf.length - keep);
  return cut;
}

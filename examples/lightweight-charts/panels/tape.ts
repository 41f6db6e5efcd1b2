/**
 * Time & sales from the `tick` channel: newest first, aggressor colours, trades of at least the
 * big-trade threshold (instrument units, a setting) highlighted. A threshold of 0 means "auto": the
 * 99th percentile of the sizes in the tape's buffer, so a contract-sized instrument does not light up
 * every row (the badge says which threshold is in force and how it was derived). Hovering pauses the
 * tape (new trades are buffered and shown on leave).
 * A 1,000 trades/s tape must cost well under 2 ms a frame, so the list is virtual: trades go into a
 * bounded buffer (`keep`), and once per animation frame a fixed pool of row elements — only the
 * rows in view — is filled from it (rows whose text did not change are not touched). The DOM work
 * per frame is O(rows in view), whatever the trade rate.
 */
import type { WireTrade } from '../../../datafeed-adapter/src/ws/protocol.js';
import { el, hms, num, panel } from './dom.js';
import { SortedSizes } from './sorted-sizes.js';

/** row height, px (fixed: the list positions rows by index) */
const ROW = 16;

/** a pooled row: its three text nodes are edited in place (no nodes created per trade) */
interface Row { e: HTMLDivElement; t: Text; px: Text; sz: Text; key: string }

export class TapePanel {
  private readonly list: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly badge: HTMLSpanElement;
  private readonly pool: Row[] = [];
  private paused = false;
  private held: WireTrade[] = [];
  /** newest last: the newest `keep` to 2 × `keep` trades (trimmed in batches) */
  private trades: WireTrade[] = [];
  private frame = 0;
  private top = 0;
  private height = 0;
  received = 0;
  big = 0;
  /** frames in which rows were filled (tests / bench) */
  renders = 0;
  /** the sizes of `trades`, kept sorted as trades arrive: the auto threshold (p99) is a read, not a sort per batch */
  private readonly sizes = new SortedSizes();
  constructor(host: HTMLElement, public threshold: number, private readonly keep = 500) {
    const p = panel(host, 'tape', 'Time & sales');
    this.badge = p.badge;
    this.list = el('div', 'tape');
    this.spacer = el('div', 'spacer');
    this.list.appendChild(this.spacer);
    p.body.appendChild(this.list);
    // scroll offset and height are read in their own events, never in render (that would force a layout
    // after the other panels' DOM writes of the same frame)
    this.list.addEventListener('scroll', () => { this.top = this.list.scrollTop; this.schedule(); }, { passive: true });
    new ResizeObserver(() => { this.height = this.list.clientHeight; this.schedule(); }).observe(this.list);
    this.list.addEventListener('mouseenter', () => { this.paused = true; this.badge.textContent = 'paused'; });
    this.list.addEventListener('mouseleave', () => { this.paused = false; this.badge.textContent = ''; const h = this.held; this.held = []; this.add(h, false); });
  }
  get isPaused(): boolean { return this.paused; }
  /** the threshold in force: the setting, or the buffer's 99th-percentile size when the setting is 0 */
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
    // a trimmed buffer (every `keep` trades or so) is re-sorted once; otherwise the batch is inserted
    if (push(this.trades, trades, this.keep)) this.sizes.reset(this.trades); else this.sizes.insert(trades);
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
    const badge = this.paused ? 'paused' : this.threshold > 0 ? '' : Number.isFinite(th) ? `big ≥ ${num(th, 4)} (auto: p99 of last ${all})` : '';
    if (this.badge.textContent !== badge) this.badge.textContent = badge;
    const h = `${n * ROW}px`;
    if (this.spacer.style.height !== h) this.spacer.style.height = h;
    const first = Math.floor(this.top / ROW);
    const want = Math.min(n - first, Math.ceil(this.height / ROW) + 1);
    while (this.pool.length < want) this.pool.push(this.row());
    for (let j = 0; j < this.pool.length; j++) {
      const r = this.pool[j], k = first + j;
      if (j >= want || k >= n) { if (r.key !== '') { r.key = ''; r.e.className = ''; r.e.hidden = true; } continue; }
      const [ts, px, sz, side] = this.trades[all - 1 - k];
      const cls = `t ${side > 0 ? 'buy' : side < 0 ? 'sell' : 'unk'}${sz >= th ? ' big' : ''}`;
      const key = `${k}|${ts}|${px}|${sz}|${cls}`;
      if (key === r.key) continue;
      const y = `translateY(${k * ROW}px)`;
      if (r.e.style.transform !== y) r.e.style.transform = y;
      if (r.key === '') r.e.hidden = false;
      r.key = key;
      if (r.e.className !== cls) r.e.className = cls;
      set(r.t, hms(ts)); set(r.px, num(px, 8)); set(r.sz, num(sz, 4));
    }
  }

  private row(): Row {
    const e = el('div'), cell = (cls: string): Text => { const c = el('span', cls), t = document.createTextNode(''); c.appendChild(t); e.appendChild(c); return t; };
    const t = cell(''), px = cell('px'), sz = cell('sz');
    e.hidden = true;
    this.list.appendChild(e);
    return { e, t, px, sz, key: '' };
  }
}

/** 99th-percentile size of `buf` (Infinity when empty: nothing is big before any trade) */
function p99(buf: readonly WireTrade[]): number {
  if (!buf.length) return Infinity;
  const a = Float64Array.from(buf, (t) => t[2]).sort();
  return a[Math.min(a.length - 1, Math.floor(a.length * 0.99))];
}

const set = (t: Text, s: string): void => { if (t.data !== s) t.data = s; };

/** Append `add` to `buf`, keeping the newest `keep`; true when trades were dropped (not all of `add` is the buffer's newest tail) */
function push(buf: WireTrade[], add: readonly WireTrade[], keep: number): boolean {
  const cut = add.length > keep;
  for (const t of cut ? add.slice(add.length - keep) : add) buf.push(t);
  if (buf.length > keep * 2) { buf.splice(0, buf.length - keep); return true; }
  return cut;
}

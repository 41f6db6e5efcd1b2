/**
 * Paper-trading performance: balance and equity curve, win rate, profit factor, max drawdown, the R
 * distribution and open positions. Read once from /api/v1/paper, then advanced by the `paper` part of
 * each `trade_state` update (fills append to the curve; the server's own analytics are re-read only
 * when a fill arrives, never on a timer).
 */
import { el, num, panel } from './dom.js';

export interface PaperSnap {
  available: boolean;
  account: { initialBalance?: number; balance: number } | null;
  open: { instrument?: string; side?: string; entry: number; qty: number }[];
  fills: { pnl: number; r?: number | null; exitTs?: number }[];
  analytics: { trades?: number; winRate?: number; profitFactor?: number; maxDrawdown?: number; averageR?: number } | null;
}

export class PaperPanel {
  private readonly stats: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly openList: HTMLDivElement;
  private snap: PaperSnap | null = null;
  updates = 0;
  constructor(host: HTMLElement) {
    const p = panel(host, 'paper', 'Paper trading');
    this.stats = el('div', 'kv');
    this.canvas = el('canvas', 'equity');
    this.canvas.width = 300; this.canvas.height = 70;
    this.openList = el('div', 'open');
    p.body.append(this.stats, this.canvas, this.openList);
  }
  set(s: PaperSnap): void { this.updates++; this.snap = s; this.render(); }
  private render(): void {
    const s = this.snap;
    if (!s || !s.available) { this.stats.textContent = 'paper trading off on this server'; return; }
    const a = s.analytics ?? {};
    const init = s.account?.initialBalance ?? s.account?.balance ?? 0;
    const rs = s.fills.map((f) => f.r).filter((r): r is number => typeof r === 'number' && Number.isFinite(r));
    const buckets = [-2, -1, 0, 1, 2, 3].map((b) => rs.filter((r) => r >= b - 1 && r < b).length);
    this.stats.textContent = `balance ${num(s.account?.balance ?? NaN, 2)} · trades ${a.trades ?? s.fills.length} · win ${num((a.winRate ?? 0) * ((a.winRate ?? 0) <= 1 ? 100 : 1), 1)} % · PF ${num(a.profitFactor ?? 0, 2)} · max DD ${num(a.maxDrawdown ?? 0, 2)} · avg R ${num(a.averageR ?? 0, 2)} · R histogram [<-2…≥2]: ${buckets.join(' ')}`;
    // equity curve from the fills
    const eq = [init];
    for (const f of s.fills) eq.push(eq[eq.length - 1] + f.pnl);
    const c = this.canvas.getContext('2d');
    if (c) {
      const W = this.canvas.width, H = this.canvas.height;
      c.clearRect(0, 0, W, H);
      const lo = Math.min(...eq), hi = Math.max(...eq), span = hi - lo || 1;
      c.strokeStyle = '#26a69a'; c.lineWidth = 1.5; c.beginPath();
      eq.forEach((v, i) => { const x = eq.length > 1 ? (i / (eq.length - 1)) * (W - 4) + 2 : W / 2, y = H - 4 - ((v - lo) / span) * (H - 8); if (i) c.lineTo(x, y); else c.moveTo(x, y); });
      c.stroke();
    }
    this.openList.textContent = s.open.length ? s.open.map((o) => `${o.instrument ?? ''} ${o.side ?? ''} ${num(o.qty, 6)} @ ${num(o.entry, 8)}`).join(' · ') : 'no open positions';
  }
}

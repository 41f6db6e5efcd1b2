/**
 * Host-independent volume-profile histogram: horizontal rows (sell part + buy part), value-area rows
 * brighter than the rest, POC / VAH / VAL lines, HVN / LVN marks, naked-POC rays to the right edge.
 * Bitmap space, rounded edges shared between neighbouring rows. Text is measured before drawing.
 */
import type { Ctx2D, NakedSessionPoc, ProfileData } from './types.js';
import { mix, type Theme } from './theme.js';
import { dashes } from './dash.js';

export interface ProfileView {
  hpr: number;
  vpr: number;
  /** pane size, media px */
  width: number;
  height: number;
  priceToY(price: number): number | null;
}

export interface ProfilePlacement {
  /** media x of the histogram's base and its maximum length (media px) */
  x: number;
  width: number;
  /** grow to the right from x (default) or to the left */
  direction?: 'right' | 'left';
  /** draw POC/VAH/VAL lines across [lineFrom, lineTo] (media px; default the histogram span) */
  lineFrom?: number;
  lineTo?: number;
  /** x (media) where naked-POC rays start (default: x); they end at the right edge */
  rayFrom?: number;
  /** instead: each naked POC's ray [from, to] (media px), null = not drawn (a host that places them by time) */
  nakedRay?: (n: NakedSessionPoc) => { from: number; to: number } | null;
  /** x (media) where the "POC" label starts (default: right-aligned at the end of the lines) */
  labelFrom?: number;
  /** where the "POC" text goes: given its candidate boxes (media px, preferred first) the index of the one to use, −1 for none (default: the first) */
  placeText?: (text: string, candidates: { x: number; y: number; w: number; h: number }[]) => number;
}

export interface ProfileOptions {
  showSplit: boolean;
  showLines: boolean;
  showNodes: boolean;
  showNakedPocs: boolean;
  showLabels: boolean;
  opacity: number;
  fontFamily: string;
}

export const DEFAULT_PROFILE: ProfileOptions = { showSplit: true, showLines: true, showNodes: true, showNakedPocs: true, showLabels: true, opacity: 1, fontFamily: 'sans-serif' };

/** `boxes`: where each text was drawn (media px), so other layers (signal labels) can keep clear of it */
export interface ProfileRenderStats { rows: number; lines: number; texts: number; boxes: { x: number; y: number; w: number; h: number }[] }

function ys(v: ProfileView, lo: number, hi: number): { top: number; bottom: number } | null {
  const a = v.priceToY(hi), b = v.priceToY(lo);
  if (a === null || b === null) return null;
  const t = Math.round(a * v.vpr), u = Math.round(b * v.vpr);
  return t <= u ? { top: t, bottom: u } : { top: u, bottom: t };
}

function hline(ctx: Ctx2D, v: ProfileView, price: number, x0: number, x1: number, color: string, width: number, dash: number[] = []): boolean {
  const y = v.priceToY(price);
  if (y === null) return false;
  const lw = Math.max(1, Math.round(width * v.vpr));
  const yy = Math.round(y * v.vpr) - Math.floor(lw / 2);
  ctx.fillStyle = color;
  if (!dash.length) { ctx.fillRect(Math.round(x0 * v.hpr), yy, Math.max(1, Math.round((x1 - x0) * v.hpr)), lw); return true; }
  const on = dash[0] * v.hpr, off = (dash[1] ?? dash[0]) * v.hpr, period = on + off;
  // dashes only over the pane (a day's session line at wide zoom starts tens of thousands of px off-screen),
  // in phase with x0 so they do not swim while panning
  dashes(ctx, x0 * v.hpr, x1 * v.hpr, Math.min(x1, v.width + 1) * v.hpr, yy, lw, on, period);
  return true;
}

export function drawProfile(ctx: Ctx2D, p: ProfileData, view: ProfileView, place: ProfilePlacement, th: Theme, opts: Partial<ProfileOptions> = {}): ProfileRenderStats {
  const o = { ...DEFAULT_PROFILE, ...opts };
  const st: ProfileRenderStats = { rows: 0, lines: 0, texts: 0, boxes: [] };
  if (!p.rows.length) return st;
  const dir = place.direction === 'left' ? -1 : 1;
  let max = 0;
  for (const r of p.rows) if (r.volume > max) max = r.volume;
  if (max <= 0) return st;
  const base = Math.round(place.x * view.hpr);
  const maxLen = place.width * view.hpr;
  const inVa = (price: number): boolean => p.val !== null && p.vah !== null && price >= p.val - 1e-9 && price <= p.vah + 1e-9;
  const bg = th.background;
  const buyIn = th.buyRamp[5], sellIn = th.sellRamp[5];
  const buyOut = mix(bg, th.buy, 0.35), sellOut = mix(bg, th.sell, 0.35);
  const volIn = th.volumeRamp[5], volOut = th.volumeRamp[1];
  ctx.save();
  ctx.globalAlpha = o.opacity;
  const H = view.height * view.vpr;
  for (const r of p.rows) {
    const c = ys(view, r.price, r.price + p.rowSize);
    if (!c || c.bottom < 0 || c.top > H) continue;
    const h = Math.max(1, c.bottom - c.top - (c.bottom - c.top >= 4 ? 1 : 0));
    const len = Math.max(1, Math.round((maxLen * r.volume) / max));
    const va = inVa(r.price);
    if (o.showSplit && r.buy + r.sell > 0) {
      const ls = Math.round((len * r.sell) / r.volume);
      const lb = Math.round((len * r.buy) / r.volume);
      ctx.fillStyle = va ? sellIn : sellOut;
      if (ls > 0) ctx.fillRect(dir > 0 ? base : base - ls, c.top, ls, h);
      ctx.fillStyle = va ? buyIn : buyOut;
      if (lb > 0) ctx.fillRect(dir > 0 ? base + ls : base - ls - lb, c.top, lb, h);
      const rest = len - ls - lb;
      if (rest > 0) { ctx.fillStyle = va ? volIn : volOut; ctx.fillRect(dir > 0 ? base + ls + lb : base - len, c.top, rest, h); }
    } else {
      ctx.fillStyle = va ? volIn : volOut;
      ctx.fillRect(dir > 0 ? base : base - len, c.top, len, h);
    }
    st.rows++;
  }
  ctx.globalAlpha = 1;
  const lx0 = place.lineFrom ?? (dir > 0 ? place.x : place.x - place.width);
  const lx1 = place.lineTo ?? (dir > 0 ? place.x + place.width : place.x);
  const half = p.rowSize / 2;
  if (o.showNodes) {
    const mark = (price: number, color: string): void => {
      const y = view.priceToY(price + half);
      if (y === null) return;
      const s = Math.max(2, Math.round(3 * view.vpr));
      const x = dir > 0 ? base - s - 1 : base + 1;
      ctx.fillStyle = color;
      ctx.fillRect(x, Math.round(y * view.vpr) - s, s, 2 * s);
      st.lines++;
    };
    for (const n of p.hvn ?? []) mark(n.peak, th.hvn);
    for (const n of p.lvn ?? []) mark(n.peak, th.lvn);
  }
  if (o.showLines) {
    if (p.vah !== null && hline(ctx, view, p.vah + p.rowSize, lx0, lx1, th.vah, 1, [4, 3])) st.lines++;
    if (p.val !== null && hline(ctx, view, p.val, lx0, lx1, th.val, 1, [4, 3])) st.lines++;
    if (p.poc !== null && hline(ctx, view, p.poc + half, lx0, lx1, th.poc, 2)) st.lines++;
  }
  if (o.showNakedPocs) {
    for (const n of p.nakedPocs ?? []) {
      const r = place.nakedRay ? place.nakedRay(n) : { from: place.rayFrom ?? place.x, to: view.width };
      if (r && hline(ctx, view, n.price + half, r.from, r.to, th.nakedPoc, 1, [2, 2])) st.lines++;
    }
  }
  if (o.showLabels && p.poc !== null) {
    const y = view.priceToY(p.poc + half);
    if (y !== null) {
      ctx.font = `${Math.round(10 * view.vpr)}px ${o.fontFamily}`;
      ctx.textBaseline = 'bottom';
      ctx.fillStyle = th.poc;
      const s = 'POC';
      const w = ctx.measureText(s).width;
      if (w < Math.abs(lx1 - lx0) * view.hpr) {
        // spots (media px), preferred first: above the line at the label's x, then (a right-edge profile) at the
        // line's other end, then the same below the line; the host's `placeText` picks one, or none
        const wm = w / view.hpr, above = (Math.round(y * view.vpr) - 2) / view.vpr - 11, below = (Math.round(y * view.vpr) + 3) / view.vpr;
        const xs = place.labelFrom !== undefined ? [Math.round(place.labelFrom * view.hpr) / view.hpr] : [Math.round(lx1 * view.hpr - w - 2) / view.hpr, Math.round((lx0 + 2) * view.hpr) / view.hpr];
        const spots: { x: number; y: number; w: number; h: number }[] = [];
        for (const ty of [above, below]) for (const tx of xs) spots.push({ x: tx, y: ty, w: wm, h: 11 });
        const k = place.placeText ? place.placeText(s, spots) : 0;
        if (k >= 0) {
          const b = spots[k];
          ctx.fillText(s, Math.round(b.x * view.hpr), Math.round((b.y + b.h) * view.vpr));
          st.texts++;
          st.boxes.push(b);
        }
      }
    }
  }
  ctx.restore();
  return st;
}

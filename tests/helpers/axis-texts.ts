/**
 * What Lightweight Charts actually drew on a pane's right price axis, read from the canvas calls
 * themselves (not from the page's own layout code): `recordCanvasText` (a page init script) logs every
 * fillText with its position through the context's transform, per canvas, and forgets a canvas's log
 * whenever the whole canvas is cleared (each full redraw starts with that). `axisTexts` splits a pane's
 * axis log into tick labels (drawn in the axis text colour; `blank`: ticks whose label is empty) and the last-value / price-line labels
 * (drawn in their contrast colour on a filled box of LWC's geometry: font + 2.5/12 font above and below).
 */
import type { Page } from 'playwright-core';

export type Box = { x: number; y: number; w: number; h: number; text: string };

/** page init script: keep each canvas's fillText calls since its last full clear, in CSS px of the canvas */
export function recordCanvasText(): void {
  const log = new Map<HTMLCanvasElement | OffscreenCanvas, { text: string; x: number; y: number; w: number; color: string; font: string }[]>();
  (window as any).__canvasText = log;
  const P = CanvasRenderingContext2D.prototype;
  const fillText = P.fillText, fillRect = P.fillRect, clearRect = P.clearRect;
  const whole = (ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number): void => {
    if (x <= 0 && y <= 0 && x + w >= ctx.canvas.width && y + h >= ctx.canvas.height) log.set(ctx.canvas, []);
  };
  P.fillRect = function (this: CanvasRenderingContext2D, x: number, y: number, w: number, h: number) { whole(this, x, y, w, h); return fillRect.call(this, x, y, w, h); };
  P.clearRect = function (this: CanvasRenderingContext2D, x: number, y: number, w: number, h: number) { whole(this, x, y, w, h); return clearRect.call(this, x, y, w, h); };
  P.fillText = function (this: CanvasRenderingContext2D, text: string, x: number, y: number, maxWidth?: number) {
    const m = this.getTransform(), c = this.canvas as HTMLCanvasElement;
    // bitmap px → CSS px of the canvas element
    const k = c.clientWidth ? c.width / c.clientWidth : 1;
    const list = log.get(c) ?? [];
    list.push({ text: String(text), x: (m.a * x + m.c * y + m.e) / k, y: (m.b * x + m.d * y + m.f) / k, w: (this.measureText(String(text)).width * m.a) / k, color: String(this.fillStyle), font: this.font });
    log.set(c, list);
    return maxWidth === undefined ? fillText.call(this, text, x, y) : fillText.call(this, text, x, y, maxWidth);
  };
}

/**
 * Pane `paneIndex`'s right price axis as drawn: tick labels (text boxes, font-high) and the labels on
 * filled boxes (last value, price lines), all in CSS px of the axis canvas. A full redraw is forced first
 * (the log then holds the current frame only).
 */
export async function axisTexts(page: Page, paneIndex: number): Promise<{ ticks: Box[]; labels: Box[]; blank: number; height: number }> {
  await page.evaluate(() => { const c = (window as any).tapeflow.chart; c.applyOptions({ layout: { textColor: c.options().layout.textColor } }); });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.evaluate((i) => {
    const chart = (window as any).tapeflow.chart, pane = chart.panes()[i];
    const row = pane.getHTMLElement() as HTMLElement, cell = row.children[2] as HTMLElement;
    const lo = chart.options().layout, fs: number = lo.fontSize;
    const norm = document.createElement('canvas').getContext('2d')!;
    norm.fillStyle = pane.getSeries()[0]?.priceScale().options().textColor ?? lo.textColor;
    const tickColor = String(norm.fillStyle);
    const log = (window as any).__canvasText as Map<HTMLCanvasElement, { text: string; x: number; y: number; w: number; color: string }[]>;
    const ticks: any[] = [], labels: any[] = [];
    let blank = 0;
    for (const c of cell.querySelectorAll('canvas')) for (const t of log.get(c) ?? []) {
      if (!t.text.trim()) { blank++; continue; } // an empty label draws nothing
      if (t.color === tickColor) ticks.push({ x: t.x, y: t.y - fs / 2, w: t.w, h: fs, text: t.text });
      // the box behind the label: LWC's label height (font + 2.5/12 font above and below), from the axis' left edge
      else labels.push({ x: 0, y: t.y - (fs * 17) / 24, w: t.x + t.w, h: (fs * 17) / 12, text: t.text });
    }
    return { ticks, labels, blank, height: pane.getHeight() };
  }, paneIndex);
}

export const overlapping = (a: Box, b: Box): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** pane `paneIndex`'s axis as drawn: each tick label under a label box, and how many ticks there were (drawn, blank) */
export async function axisOverlaps(page: Page, paneIndex: number, what: string): Promise<{ bad: string[]; drawn: number; blank: number; labels: number }> {
  const a = await axisTexts(page, paneIndex);
  const s = (b: Box) => `"${b.text}" y ${b.y.toFixed(1)}–${(b.y + b.h).toFixed(1)}`;
  const bad = a.ticks.flatMap((t) => a.labels.filter((l) => overlapping(t, l)).map((l) => `${what} tick ${s(t)} under label ${s(l)} (pane ${a.height} px)`));
  return { bad, drawn: a.ticks.length, blank: a.blank, labels: a.labels.length };
}

/**
 * Every text box on the workstation's price pane (media px), measured in the page from the chart's own
 * mapping: the right-edge tags of the pane's text layout (VWAP, ±σ, the open trade's levels), any title
 * Lightweight Charts itself would draw (a line series' or a price line's non-empty `title`, at its last
 * value / price, in LWC's geometry: 12 px layout font, 2.5 px padding above and below, 11 px beside), the
 * profiles' "POC" texts, the signal labels; and the footprint bar bodies (cell text lives inside them).
 */
import type { Page } from 'playwright-core';

export type TextBox = { x: number; y: number; w: number; h: number; kind: string; text: string };
export const intersects = (a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): boolean =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

export function paneTexts(page: Page): Promise<{ texts: TextBox[]; bodies: { x: number; y: number; w: number; h: number }[]; width: number; height: number; tagPixels: { text: string; color: string; rgb: number[] }[] }> {
  return page.evaluate(() => {
    const tf = (window as any).tapeflow, of = tf.of, fp = of.footprint, chart = tf.chart, ts = chart.timeScale();
    const pane = chart.panes()[0], W = ts.width(), H = pane.getHeight();
    const half = (ts.options().barSpacing * 0.86) / 2;
    const bodies: { x: number; y: number; w: number; h: number }[] = [];
    fp.prepared.bars.forEach((b: any, i: number) => {
      if (!b.n) return;
      const x = ts.timeToCoordinate(Math.floor(fp.times[i] / 1000));
      if (x === null) return;
      const rs = b.data.rowSize, y0 = fp.series.priceToCoordinate((b.row0 + b.n) * rs), y1 = fp.series.priceToCoordinate(b.row0 * rs);
      if (y0 === null || y1 === null) return;
      bodies.push({ x: x - half, y: Math.min(y0, y1), w: 2 * half, h: Math.abs(y1 - y0) });
    });
    const texts: any[] = [];
    for (const t of of.texts?.tags ?? []) texts.push({ x: t.x, y: t.y, w: t.w, h: t.h, kind: 'tag', text: t.text });
    // titles Lightweight Charts draws itself (none when the pane's text layout draws them as tags)
    const lo = chart.options().layout, ctx = document.createElement('canvas').getContext('2d')!;
    ctx.font = `${lo.fontSize}px ${lo.fontFamily}`;
    const lwcTitle = (title: string, price: number | null | undefined): void => {
      if (!title || price === null || price === undefined) return;
      const y = fp.series.priceToCoordinate(price);
      if (y === null || y < 0 || y > H) return;
      const w = Math.ceil(ctx.measureText(title).width) + 11, h = lo.fontSize * (17 / 12);
      texts.push({ x: W - 1 - w, y: y - h / 2, w, h, kind: 'lwc-title', text: title });
    };
    for (const s of pane.getSeries()) {
      const o = s.options();
      if (!o.title || o.visible === false) continue;
      const last = s.data().at(-1);
      lwcTitle(o.title, last?.value ?? last?.close);
    }
    for (const l of of.signals?.lines ?? []) lwcTitle(l.options().title, l.options().price);
    for (const b of of.profile?.textBoxes ?? []) texts.push({ x: b.x, y: b.y, w: b.w, h: b.h, kind: 'profile', text: 'POC' });
    for (const l of of.signals?.labels.placed ?? []) texts.push({ x: l.x, y: l.y, w: l.w, h: l.h, kind: 'signal', text: l.text });
    // each tag is drawn where the layout says: its colour inside its left padding on the chart's own screenshot (all layers)
    const shot = chart.takeScreenshot(true), sc = shot.getContext('2d')!, k = window.devicePixelRatio || 1;
    const tagPixels = (of.texts?.tags ?? []).map((t: any) => ({ text: t.text, color: t.color, rgb: [...sc.getImageData(Math.round((t.x + 3) * k), Math.round((t.y + t.h / 2) * k), 1, 1).data.slice(0, 3)] }));
    return { texts, bodies, width: W, height: H, tagPixels };
  });
}

/** Pairs of text boxes that intersect, and texts (tags, profile texts, signal labels; not titles LWC itself draws) over a bar body. */
export function collisions(g: Awaited<ReturnType<typeof paneTexts>>): string[] {
  const out: string[] = [];
  const t = g.texts, s = (b: TextBox) => `${b.kind} "${b.text}" @${b.x.toFixed(1)},${b.y.toFixed(1)} ${b.w.toFixed(1)}×${b.h.toFixed(1)}`;
  for (let i = 0; i < t.length; i++) for (let j = i + 1; j < t.length; j++) if (intersects(t[i], t[j])) out.push(`${s(t[i])} overlaps ${s(t[j])}`);
  for (const b of t) if (b.kind === 'profile' || b.kind === 'signal' || b.kind === 'tag') for (const body of g.bodies) if (intersects(b, body)) { out.push(`${s(b)} over a bar body`); break; }
  for (const p of g.tagPixels) {
    const v = parseInt(p.color.slice(1), 16), want = [v >> 16, (v >> 8) & 255, v & 255];
    if (want.some((c, i) => Math.abs(c - p.rgb[i]) > 8)) out.push(`tag "${p.text}" not drawn at its box: rgb(${p.rgb.join(',')}) instead of ${p.color}`);
  }
  return out;
}

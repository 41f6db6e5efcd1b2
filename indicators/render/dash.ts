/**
 * Dashed horizontal lines in bitmap space, drawn as filled rects (crisp at any pixel ratio), in phase
 * with their start so they do not swim while panning. A ray across a 1,600 px pane is ~400 dashes:
 * drawing each with its own fillRect cost ~0.7 ms per frame for the naked-POC rays alone. When the
 * dashes fall on whole pixels (integer on/period, an opaque colour, no global alpha), the full dashes
 * are one fillRect with a repeating one-period pattern instead: the same pixels (checked bit for bit in
 * Chromium against the per-dash loop; with a global alpha < 1 the two differ by rounding, so those
 * keep the loop), one draw call.
 */
import type { Ctx2D } from './types.js';

/** the browser canvas calls the fast path needs (not part of the minimal Ctx2D) */
interface PatternCtx {
  createPattern(image: OffscreenCanvas, repetition: string): CanvasPattern | null;
  translate(x: number, y: number): void;
}

const patterns = new Map<string, CanvasPattern | null>();

function patternFor(ctx: PatternCtx, color: string, on: number, period: number): CanvasPattern | null {
  const key = `${color}|${on}|${period}`;
  let p = patterns.get(key);
  if (p === undefined) {
    p = null;
    const c = new OffscreenCanvas(period, 1), g = c.getContext('2d');
    if (g) { g.fillStyle = color; g.fillRect(0, 0, on, 1); p = ctx.createPattern(c, 'repeat'); }
    if (patterns.size > 64) patterns.clear();
    patterns.set(key, p);
  }
  return p;
}

/**
 * Dashes `on` px long every `period` px from x0, on rows [y, y + h), with the current fillStyle: the
 * dash starting at x (x0, x0 + period, … while x < `end`) covers [round(x), round(x) + max(1, round(min(on, x1 − x)))).
 * Dashes left of the canvas are skipped (a session line can start tens of thousands of px off-screen).
 */
export function dashes(ctx: Ctx2D, x0: number, x1: number, end: number, y: number, h: number, on: number, period: number): void {
  let x = x0;
  if (x < -period) x += Math.floor(-x / period) * period;
  if (x >= end) return;
  // the last dash's start, exactly as the per-dash loop reaches it
  let last = x, n = 1;
  while (last + period < end) { last += period; n++; }
  const color = ctx.fillStyle;
  const c = ctx as unknown as Partial<PatternCtx>;
  const first = Math.round(x);
  if (n > 2 && Number.isInteger(on) && Number.isInteger(period) && typeof color === 'string' && color[0] === '#' && ctx.globalAlpha === 1
    && typeof OffscreenCanvas !== 'undefined' && typeof c.createPattern === 'function' && typeof c.translate === 'function'
    && Math.round(last) === first + (n - 1) * period) {
    const pat = patternFor(c as PatternCtx, color, on, period);
    if (pat) {
      // every dash but the last is a full `on` px (the loop's min(on, x1 − x) only bites on the last one)
      ctx.fillStyle = pat;
      c.translate!(first, 0);
      ctx.fillRect(0, y, (n - 1) * period, h);
      c.translate!(-first, 0);
      ctx.fillStyle = color;
      ctx.fillRect(Math.round(last), y, Math.max(1, Math.round(Math.min(on, x1 - last))), h);
      return;
    }
  }
  for (; x < end; x += period) ctx.fillRect(Math.round(x), y, Math.max(1, Math.round(Math.min(on, x1 - x))), h);
}

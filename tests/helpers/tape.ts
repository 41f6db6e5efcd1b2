/** Seeded random tapes for tests (mulberry32). */
import { newTrade, type Trade } from '../../engine/src/core/events.js';
import { mulberry32 } from '../../engine/src/sim/prng.js';

/** Seeded uniform [0, 1) stream: the engine's own mulberry32. */
export const rng = mulberry32;

/** A random walk of flagged trades; sizes in lots, prices in ticks. */
export function randomTape(seed: number, n: number, opts: { instrument?: string; start?: number; price?: number; flagged?: boolean } = {}): Trade[] {
  const r = rng(seed);
  let ts = opts.start ?? Date.UTC(2024, 7, 8, 23, 0);
  let p = opts.price ?? 600000;
  const out: Trade[] = [];
  for (let i = 0; i < n; i++) {
    ts += Math.floor(r() * 400);
    p += Math.floor(r() * 7) - 3;
    const t = newTrade(opts.instrument ?? 'BTCUSDT');
    t.ts = ts; t.id = i + 1; t.price = p; t.size = 1 + Math.floor(r() * r() * 500);
    if (opts.flagged !== false) { t.side = r() < 0.5 ? 'buy' : 'sell'; t.sideSource = 'flag'; }
    out.push(t);
  }
  return out;
}

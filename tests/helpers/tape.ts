/** Seeded random tapes for tests (mulberry32). */
import { newTrade, type Trade } from '../../engine/src/core/events.js';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

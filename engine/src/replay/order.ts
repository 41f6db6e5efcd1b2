/**
 * Several files are replayed in content-time order, whatever order they were given in: each file's
 * first timed market event (trade, quote or book diff; REST snapshots and gaps carry local receive
 * time) is read with a scratch registry, and the files are sorted by it (ties: by path). So
 * `replay day2 day1` builds the same bars as `replay day1 day2`.
 */
import type { InstrumentRegistry } from '../core/instruments.js';
import { replayFile } from './index.js';
import type { ReplayOptions } from './types.js';

const STOP = Symbol('first event read');

/** Time of the first timed market event of a file (Infinity when it has none or cannot be read: the replay itself will say why). */
export async function firstEventTime(path: string, registry: InstrumentRegistry, opts: Partial<Omit<ReplayOptions, 'registry'>> = {}): Promise<number> {
  let first = Infinity;
  try {
    await replayFile(path, (ev) => {
      if (ev.type === 'book_snapshot' || ev.type === 'gap' || !Number.isFinite(ev.ts)) return;
      first = ev.ts;
      throw STOP;
    }, { ...opts, registry, strict: false, onError: undefined, onProgress: undefined });
  } catch (e) {
    if (e !== STOP) return Infinity;
  }
  return first;
}

/** The files in content-time order. `scratch` makes a fresh registry per file (the probe may register instruments). */
export async function orderByContentTime(paths: string[], scratch: () => InstrumentRegistry, opts: Partial<Omit<ReplayOptions, 'registry'>> = {}): Promise<string[]> {
  if (paths.length < 2) return [...paths];
  const keyed = await Promise.all(paths.map(async (p) => ({ p, t: await firstEventTime(p, scratch(), opts) })));
  return keyed.sort((a, b) => (a.t === b.t ? (a.p < b.p ? -1 : a.p > b.p ? 1 : 0) : a.t < b.t ? -1 : 1)).map((k) => k.p);
}

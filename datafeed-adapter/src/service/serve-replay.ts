/**
 * Replay recorded files into a live server (`tapeflow replay <files...> --serve [--speed N|max]`).
 * The files are read into memory first (events copied out of the reader's flyweights), then fed to
 * the engine paced by their timestamps: `speed` N plays N× faster than recorded, `max` as fast as
 * possible in chunks that yield to the event loop so HTTP/WS clients keep being served.
 */
import { InstrumentRegistry } from '../../../engine/src/core/instruments.js';
import type { MarketEvent } from '../../../engine/src/core/events.js';
import { Engine } from '../../../engine/src/analytics/engine.js';
import type { PipelineOptions } from '../../../engine/src/analytics/pipeline.js';
import { replayFile } from '../../../engine/src/replay/index.js';
import type { ReplayOptions, ReplayStats } from '../../../engine/src/replay/types.js';
import type { Store } from '../../../engine/src/store/store.js';
import { recordEngine } from '../../../engine/src/store/recorder.js';
import { createServer, type DatafeedServer, type ServerOptions } from '../server.js';

export interface ServeReplayOptions {
  /** playback speed multiplier or 'max' (default 'max') */
  speed?: number | 'max';
  registry?: InstrumentRegistry;
  pipeline?: Partial<PipelineOptions>;
  replay?: Partial<Omit<ReplayOptions, 'registry'>>;
  store?: Store;
  server?: Omit<ServerOptions, 'engine' | 'store' | 'registry'>;
  /** called after every fed chunk */
  onProgress?(fed: number, total: number): void;
}

export interface ServeReplayHandle extends DatafeedServer {
  engine: Engine;
  files: ReplayStats[];
  /** resolves when every event was fed (the server keeps running) */
  done: Promise<{ events: number }>;
  /** stop feeding (the server keeps running until close()) */
  stop(): void;
}

export async function serveReplay(files: string[], o: ServeReplayOptions = {}): Promise<ServeReplayHandle> {
  const speed = o.speed ?? 'max';
  if (speed !== 'max' && !(typeof speed === 'number' && speed > 0 && Number.isFinite(speed))) throw new Error(`speed must be a positive number or "max", got ${String(speed)}`);
  const registry = o.registry ?? new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', ...o.pipeline });
  if (o.store) recordEngine(engine, o.store);
  const events: MarketEvent[] = [];
  const stats: ReplayStats[] = [];
  for (const f of files) {
    stats.push(await replayFile(f, (ev) => { events.push(ev.type === 'trade' || ev.type === 'quote' ? { ...ev } : ev); }, { registry, ...o.replay }));
  }
  events.sort((a, b) => a.ts - b.ts); // stable: keeps file order within equal timestamps
  const srv = await createServer({ ...o.server, engine, store: o.store, registry });
  let stopped = false;
  const total = events.length;
  const done = (async () => {
    let k = 0;
    const t0 = Date.now();
    const first = total ? events[0].ts : 0;
    while (k < total && !stopped) {
      if (speed === 'max') {
        const end = Math.min(total, k + 5000);
        for (; k < end; k++) engine.onEvent(events[k]);
      } else {
        const due = first + (Date.now() - t0) * speed;
        while (k < total && events[k].ts <= due) engine.onEvent(events[k++]);
        if (k < total) {
          const wait = Math.min(1000, Math.max(1, (events[k].ts - first) / speed - (Date.now() - t0)));
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
      }
      o.onProgress?.(k, total);
      await new Promise((r) => setImmediate(r));
    }
    o.onProgress?.(k, total);
    return { events: k };
  })();
  return { ...srv, engine, files: stats, done, stop: () => { stopped = true; } };
}

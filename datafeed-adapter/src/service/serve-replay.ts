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

/**
 * Read files fully (events copied out of the reader's flyweights), in the order given and each in file
 * order: exactly the order `tapeflow replay` feeds them, so both give the same bars and checksum
 * (sorting by timestamp would move receive-time stamped REST snapshots and quotes between trades).
 */
export async function loadReplayEvents(files: string[], registry: InstrumentRegistry, replay: Partial<Omit<ReplayOptions, 'registry'>> = {}): Promise<{ events: MarketEvent[]; stats: ReplayStats[] }> {
  const events: MarketEvent[] = [];
  const stats: ReplayStats[] = [];
  for (const f of files) {
    stats.push(await replayFile(f, (ev) => { events.push(ev.type === 'trade' || ev.type === 'quote' ? { ...ev } : ev); }, { registry, ...replay }));
  }
  return { events, stats };
}

export interface FeedHandle { done: Promise<{ events: number }>; stop(): void }

/**
 * Feed events to a sink paced by their timestamps (`speed` × recorded speed) or as fast as possible
 * ('max') in chunks that yield to the event loop, so HTTP/WS clients keep being served.
 */
export function feedEvents(events: MarketEvent[], sink: (ev: MarketEvent) => void, speed: number | 'max', onProgress?: (fed: number, total: number) => void): FeedHandle {
  if (speed !== 'max' && !(typeof speed === 'number' && speed > 0 && Number.isFinite(speed))) throw new Error(`speed must be a positive number or "max", got ${String(speed)}`);
  let stopped = false;
  const total = events.length;
  const done = (async () => {
    let k = 0;
    const t0 = Date.now();
    const first = total ? events[0].ts : 0;
    while (k < total && !stopped) {
      if (speed === 'max') {
        const end = Math.min(total, k + 5000);
        for (; k < end; k++) sink(events[k]);
      } else {
        const due = first + (Date.now() - t0) * speed;
        while (k < total && events[k].ts <= due) sink(events[k++]);
        if (k < total) {
          const wait = Math.min(1000, Math.max(1, (events[k].ts - first) / speed - (Date.now() - t0)));
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
      }
      onProgress?.(k, total);
      await new Promise((r) => setImmediate(r));
    }
    onProgress?.(k, total);
    return { events: k };
  })();
  return { done, stop: () => { stopped = true; } };
}

export async function serveReplay(files: string[], o: ServeReplayOptions = {}): Promise<ServeReplayHandle> {
  const speed = o.speed ?? 'max';
  if (speed !== 'max' && !(typeof speed === 'number' && speed > 0 && Number.isFinite(speed))) throw new Error(`speed must be a positive number or "max", got ${String(speed)}`);
  const registry = o.registry ?? new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', ...o.pipeline });
  if (o.store) recordEngine(engine, o.store);
  const { events, stats } = await loadReplayEvents(files, registry, o.replay);
  const srv = await createServer({ ...o.server, engine, store: o.store, registry });
  const feed = feedEvents(events, engine.onEvent, speed, o.onProgress);
  return { ...srv, engine, files: stats, done: feed.done, stop: feed.stop };
}

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

/** Where a paced replay is: events fed of total, the data time reached, play state and speed. */
export interface FeedStatus { playing: boolean; speed: number | 'max'; fed: number; total: number; position: number | null; first: number | null; last: number | null; done: boolean }

export interface FeedHandle {
  done: Promise<{ events: number }>;
  stop(): void;
  /** transport (replay --serve): pause / play, change speed, seek forward to a data time */
  pause(): void;
  play(): void;
  setSpeed(speed: number | 'max'): void;
  /**
   * Feed every event up to `ts` at once (then continue at the current speed). Forward only: the
   * engine is one deterministic pass, so a time before the position is refused (returns false).
   */
  seek(ts: number): boolean;
  status(): FeedStatus;
}

/**
 * Feed events to a sink paced by their timestamps (`speed` × recorded speed) or as fast as possible
 * ('max') in chunks that yield to the event loop, so HTTP/WS clients keep being served. The pacing
 * clock is re-anchored at every pause/play/speed/seek, so a change applies from that moment on.
 */
export function feedEvents(events: MarketEvent[], sink: (ev: MarketEvent) => void, speed: number | 'max', onProgress?: (fed: number, total: number) => void, o: { paused?: boolean } = {}): FeedHandle {
  const okSpeed = (x: unknown): x is number | 'max' => x === 'max' || (typeof x === 'number' && x > 0 && Number.isFinite(x));
  if (!okSpeed(speed)) throw new Error(`speed must be a positive number or "max", got ${String(speed)}`);
  // paused: nothing is fed until play() or seek() (a rewound replay is fed up to its target first)
  let stopped = false, playing = !o.paused, finished = false;
  const total = events.length;
  let k = 0;
  // pacing anchor: data time `anchorTs` was due at wall time `anchorWall`
  let anchorWall = Date.now(), anchorTs = total ? events[0].ts : 0;
  let wake: (() => void) | null = null;
  const reanchor = (): void => { anchorWall = Date.now(); anchorTs = k < total ? (k > 0 ? Math.max(events[k - 1].ts, 0) : events[0].ts) : anchorTs; };
  const poke = (): void => { const w = wake; wake = null; w?.(); };
  const sleep = (ms: number): Promise<void> => new Promise((r) => { const t = setTimeout(() => { wake = null; r(); }, ms); wake = () => { clearTimeout(t); r(); }; });
  const done = (async () => {
    while (k < total && !stopped) {
      if (!playing) { await sleep(1000); continue; }
      if (speed === 'max') {
        const end = Math.min(total, k + 5000);
        for (; k < end; k++) sink(events[k]);
      } else {
        const due = anchorTs + (Date.now() - anchorWall) * speed;
        while (k < total && events[k].ts <= due) sink(events[k++]);
        if (k < total) {
          const wait = Math.min(1000, Math.max(1, (events[k].ts - anchorTs) / speed - (Date.now() - anchorWall)));
          await sleep(wait);
          continue;
        }
      }
      onProgress?.(k, total);
      await new Promise((r) => setImmediate(r));
    }
    onProgress?.(k, total);
    finished = true;
    return { events: k };
  })();
  return {
    done,
    stop: () => { stopped = true; poke(); },
    pause: () => { playing = false; },
    play: () => { if (!playing) { playing = true; reanchor(); poke(); } },
    setSpeed: (x) => { if (!okSpeed(x)) throw new Error(`speed must be a positive number or "max", got ${String(x)}`); speed = x; reanchor(); poke(); },
    seek: (ts) => {
      if (!Number.isFinite(ts) || (k > 0 && ts < events[k - 1].ts)) return false;
      while (k < total && events[k].ts <= ts) sink(events[k++]);
      anchorWall = Date.now(); anchorTs = ts;
      onProgress?.(k, total);
      poke();
      return true;
    },
    status: () => ({ playing: playing && !finished, speed, fed: k, total, position: k > 0 ? events[k - 1].ts : null, first: total ? events[0].ts : null, last: total ? events[total - 1].ts : null, done: finished && k >= total }),
  };
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

/**
 * Real-time pacing for a MarketSimulator: simulated time advances with the wall clock (× speed),
 * driven by setTimeout. Browser-safe. The output is identical to `run()` because `step()` does not
 * depend on how the span is cut. For timestamps that match the wall clock, construct the simulator
 * with `startTs: Date.now()` and use speed 1.
 */
import type { EventSink, SimStats } from './types.js';
import type { MarketSimulator } from './simulator.js';

export interface RealtimeOptions {
  /** simulated ms per wall-clock ms (default 1) */
  speed?: number;
  /** timer period in wall-clock ms (default 50) */
  tickMs?: number;
  /** called once when the simulated span is finished (not after stop()) */
  onEnd?: (stats: SimStats) => void;
  /** wall clock in ms (default performance.now, else Date.now); injectable for tests */
  clock?: () => number;
}

export interface RealtimeHandle {
  stop(): void;
  readonly running: boolean;
}

export function runRealtime(sim: MarketSimulator, sink: EventSink, opts: RealtimeOptions = {}): RealtimeHandle {
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new Error('runRealtime: speed must be > 0');
  const tickMs = Math.max(1, opts.tickMs ?? 50);
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  const clock = opts.clock ?? (perf ? () => perf.now() : () => Date.now());
  const simStart = sim.now;
  const w0 = clock();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = true;

  const tick = (): void => {
    timer = undefined;
    if (!running) return;
    const target = simStart + (clock() - w0) * speed;
    const more = sim.step(target, sink);
    if (!more) {
      running = false;
      opts.onEnd?.(sim.stats());
      return;
    }
    timer = setTimeout(tick, tickMs);
  };
  timer = setTimeout(tick, 0);

  return {
    stop(): void {
      running = false;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    get running(): boolean {
      return running;
    },
  };
}

/**
 * Cooperative query work. A query is a generator that yields between chunks of bounded size (a page
 * of trades, a page of bars, a few hundred serialized bars). In-process callers drive it to the end
 * synchronously (`runSync`); the HTTP layer drives it through one shared scheduler (`runAsync`) that
 * runs ONE slice of about `sliceMs` (5 ms) per event-loop turn, round-robin over the running queries
 * (at most `maxActive` heavy ones at once; a new query always gets its first slices at once), so
 * /health, feeds and WebSocket clients are served between slices however many heavy queries run.
 * A query whose client went away is cancelled at its next yield (AbortSignal).
 */

export type Work<T> = Generator<void, T, void>;

export class Cancelled extends Error {
  constructor() { super('cancelled: the client went away'); }
}

/** The scheduler refuses new work when this many queries are already waiting. */
export class Busy extends Error {
  constructor(readonly waiting: number) { super(`server busy: ${waiting} heavy queries are queued, retry later`); }
}

export function isWork(x: unknown): x is Work<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { next?: unknown }).next === 'function' && typeof (x as { throw?: unknown }).throw === 'function';
}

export function runSync<T>(w: Work<T>): T {
  for (;;) {
    const r = w.next();
    if (r.done) return r.value;
  }
}

interface Job { w: Work<unknown>; signal?: AbortSignal; label: string; slices: number; resolve(v: unknown): void; reject(e: unknown): void }

export interface SchedulerOptions {
  /** longest run of one query before the event loop gets a turn (default 5 ms) */
  sliceMs?: number;
  /** queries admitted at once; more are refused with Busy (default 64) */
  maxJobs?: number;
  /** heavy queries (past their first few slices) worked on at once; later ones wait in arrival order
   * (default 3). Fewer partial answers alive at once keep the heap, and the collector's pauses, small. */
  maxActive?: number;
}

export class Scheduler {
  readonly sliceMs: number;
  readonly maxJobs: number;
  readonly maxActive: number;
  private readonly jobs: Job[] = [];
  private pumping = false;
  /** slices run, queries finished / cancelled / refused (for /api/v1/system) */
  readonly stats = { slices: 0, done: 0, cancelled: 0, refused: 0, longestSliceMs: 0, longestSliceQuery: '' };

  constructor(o: SchedulerOptions = {}) {
    this.sliceMs = o.sliceMs ?? 5;
    this.maxJobs = o.maxJobs ?? 64;
    this.maxActive = o.maxActive ?? 3;
  }

  get running(): number { return this.jobs.length; }

  run<T>(w: Work<T>, signal?: AbortSignal, label = ''): Promise<T> {
    if (this.jobs.length >= this.maxJobs) { this.stats.refused++; w.return(undefined as T); return Promise.reject(new Busy(this.jobs.length)); }
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ w, signal, label, slices: 0, resolve: resolve as (v: unknown) => void, reject });
      if (!this.pumping) { this.pumping = true; setImmediate(this.pump); }
    });
  }

  private turn = 0;

  /**
   * One slice. Eligible: every job that has had fewer than SHORT slices (a quick query never waits
   * behind heavy ones), and the oldest `maxActive` of the others; round-robin over the eligible.
   */
  private readonly pump = (): void => {
    // cancelled jobs leave at once, wherever they are
    for (let k = this.jobs.length - 1; k >= 0; k--) {
      const j = this.jobs[k];
      if (j.signal?.aborted) { this.jobs.splice(k, 1); this.stats.cancelled++; try { j.w.return(undefined); } catch { /* dropped anyway */ } j.reject(new Cancelled()); }
    }
    if (this.jobs.length === 0) { this.pumping = false; return; }
    const eligible: number[] = [];
    let heavy = 0;
    for (let k = 0; k < this.jobs.length; k++) {
      if (this.jobs[k].slices < SHORT) eligible.push(k);
      else if (heavy++ < this.maxActive) eligible.push(k);
    }
    const k = eligible[this.turn++ % eligible.length];
    const job = this.jobs[k];
    const t0 = performance.now();
    let finished = false;
    try {
      for (;;) {
        const r = job.w.next();
        if (r.done) { finished = true; this.stats.done++; job.resolve(r.value); break; }
        if (performance.now() - t0 >= this.sliceMs) break;
      }
    } catch (e) {
      finished = true;
      job.reject(e);
    }
    const ms = performance.now() - t0;
    job.slices++;
    this.stats.slices++;
    if (ms > this.stats.longestSliceMs) { this.stats.longestSliceMs = Math.round(ms * 10) / 10; this.stats.longestSliceQuery = job.label.slice(0, 200); }
    if (finished) this.jobs.splice(k, 1);
    if (this.jobs.length) setImmediate(this.pump);
    else this.pumping = false;
  };
}

/** A query that has run this many slices counts as heavy (see Scheduler.pump). */
const SHORT = 4;

/** Serialize `{...head, [key]: items}` with a yield every `every` items (large answers). */
export function* jsonWithArray(head: Record<string, unknown>, key: string, items: readonly unknown[], every = 200): Work<string> {
  const parts: string[] = [];
  for (let k = 0; k < items.length; k++) {
    parts.push(JSON.stringify(items[k]));
    if (k % every === every - 1) yield;
  }
  const h = JSON.stringify({ ...head, [key]: [] });
  // h ends with `"key":[]}`: splice the items into the empty array
  return `${h.slice(0, h.length - 2)}${parts.join(',')}]}`;
}

/** A pre-serialized JSON body (sent verbatim by the HTTP layer). */
export class RawJson {
  constructor(readonly body: string) {}
}

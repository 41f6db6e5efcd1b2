/**
 * StatusRegistry: one place every part of a running app reports what is wrong with it, so `/health`,
 * `/api/v1/system` and `/metrics` say the same thing. Two ways in:
 *  - probes (pull): a component registers a function read on every health request (the store, the
 *    feeds, the books, the Telegram poller: each already keeps its own state);
 *  - reports (push): a component sets or clears a named problem when something happens.
 * A problem names its component, a short reason without file paths or secrets, and since when.
 * Any problem makes the app `degraded`; no problem is `ok`.
 */

export interface Problem {
  /** e.g. `store`, `feed:binance-usdm`, `book:BTCUSDT`, `telegram` */
  component: string;
  reason: string;
  /** ms since epoch when it started (null when unknown) */
  since: number | null;
}

/** A pull-based check: the problems it sees now (none = healthy). */
export type Probe = () => Problem[] | Problem | null | undefined;

export interface HealthSummary {
  status: 'ok' | 'degraded';
  problems: Problem[];
}

export class StatusRegistry {
  private readonly probes = new Map<string, Probe>();
  private readonly reported = new Map<string, Problem>();

  /** Register (or replace) a probe under `name`; returns a function that removes it. */
  probe(name: string, fn: Probe): () => void {
    this.probes.set(name, fn);
    return () => { if (this.probes.get(name) === fn) this.probes.delete(name); };
  }

  /** Set a problem of `component` (null clears it). A repeated report keeps the first `since`. */
  report(component: string, reason: string | null, now = Date.now()): void {
    if (reason === null) { this.reported.delete(component); return; }
    const prev = this.reported.get(component);
    this.reported.set(component, { component, reason, since: prev?.since ?? now });
  }

  /** Every current problem: probes first (in registration order), then reports. A throwing probe is itself a problem. */
  problems(): Problem[] {
    const out: Problem[] = [];
    for (const [name, fn] of this.probes) {
      let r: ReturnType<Probe>;
      try { r = fn(); } catch (err) { r = { component: name, reason: `status probe failed: ${err instanceof Error ? err.message : String(err)}`, since: null }; }
      if (!r) continue;
      if (Array.isArray(r)) out.push(...r); else out.push(r);
    }
    out.push(...this.reported.values());
    return out;
  }

  summary(): HealthSummary {
    const problems = this.problems();
    return { status: problems.length ? 'degraded' : 'ok', problems };
  }
}

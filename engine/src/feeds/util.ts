/**
 * Feed plumbing without venue knowledge: jittered backoff, a rate-limit-aware REST client, a bounded
 * seen-id set and the per-instrument completeness tracker.
 */
import { normalizeDecimal } from '../core/decimal.js';
import type { BackoffOptions, GapKind, GapRecord, InstrumentCompleteness } from './types.js';

/** Exponential backoff with full jitter on the upper half: delay in [cap/2, cap), cap = min(max, base·2^n). */
export class Backoff {
  private n = 0;
  readonly baseMs: number;
  readonly maxMs: number;
  private readonly random: () => number;

  constructor(o: BackoffOptions = {}) {
    this.baseMs = o.baseMs ?? 500;
    this.maxMs = o.maxMs ?? 30_000;
    this.random = o.random ?? Math.random;
  }

  get attempts(): number { return this.n; }

  next(): number {
    const cap = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.n, 30));
    this.n++;
    return Math.round(cap / 2 + (cap / 2) * this.random());
  }

  reset(): void { this.n = 0; }
}

export class RestError extends Error {
  constructor(message: string, readonly status: number, readonly retryAfterMs: number | null) {
    super(message);
    this.name = 'RestError';
  }
}

export interface RestCounters { restRequests: number; restFailures: number; rateLimited: number }

/**
 * JSON GETs against one base URL with a request-weight budget per rolling minute (Binance weights,
 * or 1 per request), a timeout, and back-off on 429/418 (Retry-After honoured; every request to this
 * base waits until then). Binance's X-MBX-USED-WEIGHT-1M header re-syncs the budget with the server.
 */
export class RestClient {
  private readonly spent: { t: number; w: number }[] = [];
  private blockedUntil = 0;

  constructor(
    readonly base: string,
    private readonly o: { weightPerMinute: number; timeoutMs: number; counters: RestCounters; now?: () => number; headers?: Record<string, string> },
  ) {}

  private now(): number { return (this.o.now ?? Date.now)(); }

  private used(now: number): number {
    while (this.spent.length && this.spent[0]!.t <= now - 60_000) this.spent.shift();
    let s = 0;
    for (const x of this.spent) s += x.w;
    return s;
  }

  /** ms to wait before a request of `weight` fits the budget (0 = now) */
  waitFor(weight: number): number {
    const now = this.now();
    if (this.blockedUntil > now) return this.blockedUntil - now;
    let used = this.used(now);
    if (used + weight <= this.o.weightPerMinute) return 0;
    for (const x of this.spent) {
      used -= x.w;
      if (used + weight <= this.o.weightPerMinute) return x.t + 60_000 - now;
    }
    return 60_000;
  }

  async getJson(path: string, weight = 1, signal?: AbortSignal): Promise<unknown> {
    for (;;) {
      const w = this.waitFor(weight);
      if (w <= 0) break;
      // re-check at least every WAIT_SLICE_MS: the wait is computed on the (possibly injected) clock and
      // a block or the budget can change meanwhile (server weight header, a 429 on another request)
      await delay(Math.min(w, WAIT_SLICE_MS), signal);
    }
    this.spent.push({ t: this.now(), w: weight });
    this.o.counters.restRequests++;
    const url = this.base.replace(/\/+$/, '') + path;
    let res: Response;
    try {
      const timeout = AbortSignal.timeout(this.o.timeoutMs);
      res = await fetch(url, { headers: { accept: 'application/json', ...(this.o.headers ?? {}) }, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (e) {
      this.o.counters.restFailures++;
      const err = e as Error;
      throw new RestError(`GET ${url}: ${err.name === 'TimeoutError' ? `timed out after ${this.o.timeoutMs} ms` : causeOf(err)}`, 0, null);
    }
    const usedHdr = res.headers.get('x-mbx-used-weight-1m');
    if (usedHdr !== null) {
      const serverUsed = Number(usedHdr);
      const mine = this.used(this.now());
      if (serverUsed > mine) this.spent.push({ t: this.now(), w: serverUsed - mine });
    }
    if (res.status === 429 || res.status === 418) {
      this.o.counters.rateLimited++;
      this.o.counters.restFailures++;
      const ms = retryAfterMs(res.headers.get('retry-after'), Date.now()) ?? 60_000;
      this.blockedUntil = this.now() + ms;
      await res.body?.cancel();
      throw new RestError(`GET ${url}: rate limited (${res.status}), retry after ${ms} ms`, res.status, ms);
    }
    const text = await res.text();
    if (!res.ok) {
      this.o.counters.restFailures++;
      throw new RestError(`GET ${url}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status, null);
    }
    try {
      return JSON.parse(text);
    } catch {
      this.o.counters.restFailures++;
      throw new RestError(`GET ${url}: invalid JSON`, res.status, null);
    }
  }
}

const WAIT_SLICE_MS = 250;

/**
 * `Retry-After` in ms: delay-seconds or an HTTP-date (RFC 9110 §10.2.3; `wallNow` = Date.now(), since the
 * date is wall-clock time). null when absent or unparseable; a date in the past gives 0.
 */
export function retryAfterMs(v: string | null, wallNow: number): number | null {
  if (v === null) return null;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const d = Date.parse(t);
  if (Number.isNaN(d) || !/[a-z]/i.test(t)) return null;
  return Math.max(0, d - wallNow);
}

export function causeOf(e: Error): string {
  const c = (e as { cause?: { code?: string; message?: string } }).cause;
  return c ? `${e.message} (${c.code ?? c.message ?? 'unknown cause'})` : e.message;
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return; }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clearTimeout(t); reject(signal!.reason); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Insertion-ordered set that forgets the oldest entries beyond `cap`. */
export class BoundedSet<T> {
  private readonly s = new Set<T>();
  constructor(private readonly cap = 20_000) {}
  has(x: T): boolean { return this.s.has(x); }
  add(x: T): void {
    if (this.s.has(x)) return;
    this.s.add(x);
    if (this.s.size > this.cap) {
      const first = this.s.values().next().value as T;
      this.s.delete(first);
    }
  }
  get size(): number { return this.s.size; }
}

/** Per-instrument completeness: open/close gap records, first/last event time. */
export class Completeness {
  private readonly per = new Map<string, InstrumentCompleteness>();

  constructor(private readonly venue: string, private readonly now: () => number, private readonly onClose?: (instrument: string, g: GapRecord) => void) {}

  entry(instrument: string): InstrumentCompleteness {
    let e = this.per.get(instrument);
    if (!e) {
      e = { instrument, venue: this.venue, firstTs: null, lastTs: null, gaps: [], gapMs: 0, openGaps: 0, tradesMissing: 0, tradesRecovered: 0 };
      this.per.set(instrument, e);
    }
    return e;
  }

  seen(instrument: string, ts: number): void {
    const e = this.entry(instrument);
    if (e.firstTs === null) e.firstTs = ts;
    if (e.lastTs === null || ts > e.lastTs) e.lastTs = ts;
  }

  /** Open a gap of `kind` unless one is already open; returns the open record. */
  open(instrument: string, kind: GapKind, reason: string, extra: Partial<GapRecord> = {}): GapRecord {
    const e = this.entry(instrument);
    const cur = e.gaps.find((g) => g.kind === kind && g.to === null);
    if (cur) {
      if (extra.missing) { cur.missing = (cur.missing ?? 0) + extra.missing; e.tradesMissing += extra.missing; }
      return cur;
    }
    const g: GapRecord = { kind, reason, from: this.now(), to: null, durationMs: null, ...extra };
    e.gaps.push(g);
    if (e.gaps.length > 1000) e.gaps.splice(0, e.gaps.length - 1000);
    e.openGaps++;
    if (extra.missing) e.tradesMissing += extra.missing;
    return g;
  }

  isOpen(instrument: string, kind: GapKind): boolean {
    return this.per.get(instrument)?.gaps.some((g) => g.kind === kind && g.to === null) ?? false;
  }

  close(instrument: string, kind: GapKind, extra: Partial<GapRecord> = {}): GapRecord | undefined {
    const e = this.per.get(instrument);
    const g = e?.gaps.find((x) => x.kind === kind && x.to === null);
    if (!e || !g) return undefined;
    g.to = this.now();
    g.durationMs = g.to - g.from;
    Object.assign(g, extra);
    if (extra.recovered) e.tradesRecovered += extra.recovered;
    e.gapMs += g.durationMs;
    e.openGaps--;
    this.onClose?.(instrument, g);
    return g;
  }

  report(): InstrumentCompleteness[] {
    const now = this.now();
    return [...this.per.values()].map((e) => {
      let open = 0;
      for (const g of e.gaps) if (g.to === null) open += now - g.from;
      return { ...e, gapMs: e.gapMs + open, gaps: e.gaps.map((g) => ({ ...g })) };
    }).sort((a, b) => a.instrument.localeCompare(b.instrument));
  }
}

/** Canonical decimal step: no exponent, no trailing zeros ("0.0100" → "0.01"). */
export function canonicalStep(s: string): string {
  const n = normalizeDecimal(s);
  return n.includes('.') ? n.replace(/0+$/, '').replace(/\.$/, '') : n;
}

/**
 * Composition of what the app says about itself: the StatusRegistry behind /health and /api/v1/system
 * (problems of the feeds, the books and the Telegram poller; the store reports through the service),
 * and the Prometheus metrics behind /metrics. Parts that are built later (the WebSocket server needs
 * the HTTP server) are read through `late` when scraped.
 */
import type { Engine } from '../analytics/engine.js';
import type { BookManager } from '../book/manager.js';
import type { FeedManager } from '../feeds/manager.js';
import type { FeedStatus } from '../feeds/types.js';
import type { Store } from '../store/store.js';
import { createMetrics, type Metrics } from '../status/metrics.js';
import { StatusRegistry, type Problem } from '../status/registry.js';
import type { HistoryService } from '../../../datafeed-adapter/src/service/history.js';


/** Problems of live feeds: a connection that is not open, or a stall the feed reports. */
export function feedProblems(feeds: readonly FeedStatus[]): Problem[] {
  const out: Problem[] = [];
  for (const f of feeds) {
    const s = f.stalled;
    if (s) {
      out.push({ component: `feed:${f.name}`, reason: `${f.venue} stalled: ${s.reason}`, since: s.since });
      continue;
    }
    if (f.state === 'open' || f.state === 'idle' || f.state === 'stopped') continue;
    const bad = f.connections.filter((c) => c.state !== 'open');
    const err = bad.find((c) => c.lastError)?.lastError;
    out.push({ component: `feed:${f.name}`, reason: `${f.venue} ${f.state}${bad.length ? ` (${bad.length} of ${f.connections.length} connections)` : ''}${err ? `: ${err}` : ''}`, since: bad.length ? Math.min(...bad.map((c) => c.since)) : null });
  }
  return out;
}

export interface StatusParts {
  engine: Engine;
  service: HistoryService;
  store?: Store;
  feeds: FeedManager;
  books: BookManager;
  /** the Telegram alerts' problem (poller stopped or retrying, sender refused), and outbox figures */
  alerts?: () => { problem: Problem | null; pending: number; bound: number; sent: number; dropped: number; pollerUp: boolean | null } | null;
}

export interface StatusWiring {
  registry: StatusRegistry;
  metrics: Metrics;
  /** parts built after the HTTP server */
  late: { ws?: () => { clients: number; connections: number; dropped: number; congested?: number; conflated?: number; messages?: number; sendDelayP99Ms?: number | null } };
}

export function wireStatus(p: StatusParts): StatusWiring {
  const registry = new StatusRegistry();
  const late: StatusWiring['late'] = {};
  registry.probe('feeds', () => feedProblems(p.feeds.status()));
  registry.probe('books', () => p.books.reports().filter((b) => !b.synced).map((b) => ({ component: `book:${b.instrument}`, reason: `${b.kind} order book not in sync (waiting for a snapshot or resync)`, since: null })));
  if (p.alerts) registry.probe('telegram', () => p.alerts!()?.problem ?? null);
  p.service.providers.status = () => registry.problems();
  const metrics = createMetrics({
    engine: () => ({ events: p.engine.events, instruments: [...p.engine.pipelines.values()].map((x) => ({ id: x.instrument.id, lastTs: x.lastTs })) }),
    feeds: () => p.feeds.status().map((f) => ({
      name: f.name, venue: f.venue, state: f.state, frames: f.counters.frames, gaps: f.counters.gaps, reconnects: f.counters.reconnects,
      lastMessageAt: f.connections.reduce<number | null>((m, c) => (c.lastMessageAt !== null && (m === null || c.lastMessageAt > m) ? c.lastMessageAt : m), null),
    })),
    books: () => p.books.reports().map((b) => ({ instrument: b.instrument, synced: b.synced })),
    store: p.store ? () => { const h = p.store!.health(); const s = p.store!.stats(); return { queued: h.queued, maxQueue: h.maxQueue, errors: s.errors, commits: s.commits, droppedOps: h.droppedOps, lastCommitMs: s.lastCommitMs, degraded: h.state !== 'ok' }; } : undefined,
    ws: () => late.ws?.() ?? null,
    alerts: p.alerts ? () => p.alerts!() : undefined,
    status: () => p.service.problems(),
  });
  return { registry, metrics, late };
}

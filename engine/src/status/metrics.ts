/**
 * Prometheus metrics (prom-client, the standard Node client: text exposition format, default process
 * metrics including the event-loop delay percentiles from `monitorEventLoopDelay`). Every TapeFlow
 * metric is read from the component's own counters when scraped, so nothing is counted twice and the
 * hot path pays nothing. One Registry per app (tests run several apps in one process).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { HealthSummary } from './registry.js';

type Labels = Record<string, string>;
type Sample = [Labels, number];

/** What the metrics read; every part optional (absent = not exported). */
export interface MetricsSources {
  /** events handed to the engine, and per instrument the exchange time of its last event */
  engine?: () => { events: number; instruments: { id: string; lastTs: number }[] };
  /** live feeds: frames, gaps, reconnects, whether every connection is open, when the last message came */
  feeds?: () => { name: string; venue: string; state: string; frames: number; gaps: number; reconnects: number; lastMessageAt: number | null }[];
  books?: () => { instrument: string; synced: boolean }[];
  store?: () => { queued: number; maxQueue: number; errors: number; commits: number; droppedOps: number; lastCommitMs: number; degraded: boolean } | null;
  ws?: () => { clients: number; connections: number; dropped: number; congested?: number; conflated?: number; messages?: number; sendDelayP99Ms?: number | null } | null;
  alerts?: () => { pending: number; bound: number; sent: number; dropped: number; pollerUp: boolean | null } | null;
  status?: () => HealthSummary;
  now?: () => number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** the exposition text of every metric now */
  text(): Promise<string>;
}

export function createMetrics(src: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const now = src.now ?? Date.now;
  // counters and gauges whose values are read from the components at scrape time
  const counter = (name: string, help: string, labels: string[], read: () => Sample[]): void => {
    new Counter({ name, help, labelNames: labels, registers: [registry], collect() { this.reset(); for (const [l, v] of read()) this.inc(l, Math.max(0, v)); } });
  };
  const gauge = (name: string, help: string, labels: string[], read: () => Sample[]): void => {
    new Gauge({ name, help, labelNames: labels, registers: [registry], collect() { this.reset(); for (const [l, v] of read()) this.set(l, v); } });
  };
  const one = (v: number | null | undefined): Sample[] => (v === null || v === undefined || !Number.isFinite(v) ? [] : [[{}, v]]);

  if (src.engine) {
    const e = src.engine;
    counter('tapeflow_events_total', 'market events handed to the engine', [], () => one(e().events));
    gauge('tapeflow_feed_lag_seconds', 'local time minus the exchange time of the instrument\'s last event', ['instrument'], () => e().instruments.filter((i) => i.lastTs > 0).map((i) => [{ instrument: i.id }, (now() - i.lastTs) / 1000]));
  }
  if (src.feeds) {
    const f = src.feeds;
    const per = (k: 'frames' | 'gaps' | 'reconnects'): Sample[] => f().map((x) => [{ feed: x.name, venue: x.venue }, x[k]]);
    counter('tapeflow_feed_frames_total', 'WebSocket frames received per feed', ['feed', 'venue'], () => per('frames'));
    counter('tapeflow_feed_gaps_total', 'data gaps recorded per feed (disconnects, sequence breaks, trade id jumps)', ['feed', 'venue'], () => per('gaps'));
    counter('tapeflow_feed_reconnects_total', 'reconnects per feed', ['feed', 'venue'], () => per('reconnects'));
    gauge('tapeflow_feed_up', '1 when every connection of the feed is open', ['feed', 'venue'], () => f().map((x) => [{ feed: x.name, venue: x.venue }, x.state === 'open' ? 1 : 0]));
    gauge('tapeflow_feed_last_message_age_seconds', 'seconds since the feed\'s last message', ['feed', 'venue'], () => f().filter((x) => x.lastMessageAt !== null).map((x) => [{ feed: x.name, venue: x.venue }, (now() - x.lastMessageAt!) / 1000]));
  }
  if (src.books) {
    const b = src.books;
    gauge('tapeflow_book_synced', '1 when the instrument\'s order book is in sync', ['instrument'], () => b().map((x) => [{ instrument: x.instrument }, x.synced ? 1 : 0]));
  }
  if (src.store) {
    const s = src.store;
    gauge('tapeflow_store_queue_ops', 'store operations queued, not yet committed', [], () => one(s()?.queued));
    gauge('tapeflow_store_queue_max_ops', 'bound of the store queue (beyond it a storage gap is recorded)', [], () => one(s()?.maxQueue));
    counter('tapeflow_store_commits_total', 'store commits that succeeded', [], () => one(s()?.commits));
    counter('tapeflow_store_commit_errors_total', 'store commits that failed (retried)', [], () => one(s()?.errors));
    counter('tapeflow_store_not_stored_ops_total', 'operations not stored because the queue was full (storage gaps)', [], () => one(s()?.droppedOps));
    gauge('tapeflow_store_last_commit_seconds', 'duration of the last commit', [], () => one(s() ? s()!.lastCommitMs / 1000 : null));
    gauge('tapeflow_store_degraded', '1 while store writes fail', [], () => one(s() ? (s()!.degraded ? 1 : 0) : null));
  }
  if (src.ws) {
    const w = src.ws;
    gauge('tapeflow_ws_clients', 'WebSocket clients connected', [], () => one(w()?.clients));
    counter('tapeflow_ws_connections_total', 'WebSocket connections accepted', [], () => one(w()?.connections));
    counter('tapeflow_ws_dropped_slow_consumers_total', 'WebSocket clients dropped because they could not keep up', [], () => one(w()?.dropped));
    gauge('tapeflow_ws_congested_clients', 'WebSocket clients above the send high-water mark with updates waiting (slow consumers, not dropped yet)', [], () => one(w()?.congested));
    counter('tapeflow_ws_conflated_total', 'latest-state WebSocket updates replaced by a newer one while queued for a slow client', [], () => one(w()?.conflated));
    counter('tapeflow_ws_messages_total', 'WebSocket messages handed to client sockets', [], () => one(w()?.messages));
    gauge('tapeflow_ws_send_delay_p99_seconds', 'p99 of emit-to-socket-write delay of closed bars and signals since start', [], () => { const v = w()?.sendDelayP99Ms; return one(v === null || v === undefined ? null : v / 1000); });
  }
  if (src.alerts) {
    const a = src.alerts;
    gauge('tapeflow_alert_outbox_pending', 'Telegram messages waiting in the outbox', [], () => one(a()?.pending));
    gauge('tapeflow_alert_outbox_bound', 'most messages the outbox holds', [], () => one(a()?.bound));
    counter('tapeflow_alerts_sent_total', 'Telegram messages delivered', [], () => one(a()?.sent));
    counter('tapeflow_alerts_dropped_total', 'Telegram messages dropped (outbox full, expired, refused)', [], () => one(a()?.dropped));
    gauge('tapeflow_telegram_poller_up', '1 while bot-command polling gets answers', [], () => { const p = a()?.pollerUp; return p === null || p === undefined ? [] : [[{}, p ? 1 : 0]]; });
  }
  if (src.status) {
    const st = src.status;
    gauge('tapeflow_degraded', '1 when /health says degraded', [], () => one(st().status === 'degraded' ? 1 : 0));
    gauge('tapeflow_problems', 'current problems by component kind (store, feed, book, telegram)', ['component'], () => {
      const n = new Map<string, number>();
      for (const p of st().problems) { const k = p.component.split(':')[0]; n.set(k, (n.get(k) ?? 0) + 1); }
      return [...n].map(([k, v]) => [{ component: k }, v]);
    });
  }
  return { registry, contentType: registry.contentType, text: () => registry.metrics() };
}

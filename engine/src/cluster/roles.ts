/**
 * The three cluster roles behind `tapeflow start --role ingest|engine|gateway` (docs/cluster.md).
 * Each resolves to a running role with close(); /health and /metrics on every role.
 */
import { hostname } from 'node:os';
import { rmSync } from 'node:fs';
import { loadConfig, buildRegistry, type TapeFlowConfig } from '../config/index.js';
import { FeedManager } from '../feeds/manager.js';
import type { MarketEvent } from '../core/events.js';
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { openNats } from './nats.js';
import { startOps } from './ops.js';
import { Ingest } from './ingest.js';
import { Leases } from './leases.js';
import { InstrumentRun } from './engine-node.js';
import { fixedObjects } from './instrument-state.js';
import { decode, EVENT_STREAM, OUT_STREAM, token } from './subjects.js';
import { newTrade, type Trade } from '../core/events.js';
import { startApp, type StartedApp } from '../cli/commands/start.js';
import { Gauge } from 'prom-client';

export type Role = 'ingest' | 'engine' | 'gateway';
export const ROLES: readonly Role[] = ['ingest', 'engine', 'gateway'];

export interface RoleOptions {
  config?: string;
  host?: string;
  /** gateway: HTTP port; ingest/engine: ops port (/health, /metrics) */
  port?: number;
  node?: string;
  /** ingest: files (default cluster.files) and publish rate in events/s (0 = as fast as acks allow) */
  files?: string[];
  pace?: number;
  /** gateway: its own SQLite file, rebuilt from the stream at start (null = memory) */
  storePath?: string | null;
  log?: (s: string) => void;
}

export interface RunningRole { role: Role; node: string; url: string; close(): Promise<void>; info(): Record<string, unknown> }

const nodeName = (c: TapeFlowConfig, role: Role, o: RoleOptions): string => o.node ?? c.cluster.nodeId ?? `${role}-${hostname()}-${process.pid}`;

export async function startRole(role: Role, o: RoleOptions): Promise<RunningRole> {
  const config = await loadConfig(o.config);
  if (role === 'ingest') return startIngest(config, o);
  if (role === 'engine') return startEngineNode(config, o);
  return startGateway(config, o);
}

async function startIngest(config: TapeFlowConfig, o: RoleOptions): Promise<RunningRole> {
  const node = nodeName(config, 'ingest', o);
  const registry = buildRegistry(config);
  const nats = await openNats(config.cluster, node);
  const ingest = new Ingest(nats, registry, { paceEventsPerS: o.pace, log: o.log });
  const files = o.files ?? config.cluster.files;
  let failure: string | null = null;
  const ops = await startOps({ host: o.host ?? config.server.host, port: o.port ?? config.cluster.opsPort, role: 'ingest', node, health: () => ({ ok: !failure && nats.down() === null, failure, natsDownSince: nats.down(), ...ingest.stats }) });
  const pub = ops.counter('tapeflow_cluster_ingest_published_total', 'events stored in the event stream');
  const dup = ops.counter('tapeflow_cluster_ingest_duplicates_total', 'events the stream dropped as duplicates (Nats-Msg-Id)');
  let last = { p: 0, d: 0 };
  const tm = setInterval(() => { pub.inc(ingest.stats.published - last.p); dup.inc(ingest.stats.duplicates - last.d); last = { p: ingest.stats.published, d: ingest.stats.duplicates }; }, 500);
  tm.unref();
  let feeds: FeedManager | null = null;
  if (files.length) void ingest.replay(files).then(() => o.log?.(`ingest ${node}: done, ${ingest.stats.published} published, ${ingest.stats.duplicates} duplicates\n`), (e) => { failure = (e as Error).message; o.log?.(`ingest ${node}: ${failure}\n`); });
  else {
    feeds = FeedManager.fromConfig(config.feeds, { registry, sink: (ev: MarketEvent) => { void ingest.publish({ ...ev } as MarketEvent); }, });
    void feeds.start();
  }
  return {
    role: 'ingest', node, url: `http://${o.host ?? config.server.host}:${ops.port}`, info: () => ({ ...ingest.stats }),
    close: async () => { clearInterval(tm); await feeds?.stop(); await ingest.flush().catch(() => {}); await ops.close(); await nats.close(); },
  };
}

async function startEngineNode(config: TapeFlowConfig, o: RoleOptions): Promise<RunningRole> {
  const node = nodeName(config, 'engine', o);
  const c = config.cluster;
  if (!c.instruments.length) throw new Error('cluster.instruments is empty: an engine node needs the instruments to share out');
  const registry = buildRegistry(config);
  for (const id of c.instruments) registry.get(id); // unknown ids fail here, not mid-stream
  const tokens = new Map<string, string>();
  for (const id of c.instruments) { const t = token(id); if (tokens.has(t)) throw new Error(`cluster.instruments: ${tokens.get(t)} and ${id} map to the same subject token ${t}`); tokens.set(t, id); }
  // numbered before any event: checkpoint images refer to these by index (state-image.ts)
  const fixed = fixedObjects(registry);
  const nats = await openNats(c, node);
  const leases = new Leases(nats.leases, node, c.instruments);
  const runs = new Map<string, InstrumentRun>();
  /** instruments whose checkpoint could not be restored: the reason */
  const failed = new Map<string, string>();
  const ops = await startOps({
    host: o.host ?? config.server.host, port: o.port ?? c.opsPort, role: 'engine', node,
    health: () => {
      const diverged = [...runs.values()].filter((r) => r.diverged).map((r) => `${r.id}: ${r.diverged}`);
      return {
        ok: !diverged.length && !failed.size && nats.down() === null, natsDownSince: nats.down(), instruments: [...runs.keys()], diverged, failed: Object.fromEntries(failed),
        runs: [...runs.values()].map((r) => ({
          instrument: r.id, seq: r.seq, events: r.events, applied: r.applied, bars: r.bars, checksum: r.checksum(), publishErrors: r.publishErrors,
          resumedFrom: r.resumedFrom ? { seq: r.resumedFrom.seq, node: r.resumedFrom.node, events: r.resumedFrom.events, restoreMs: r.restoreMs } : null,
          checkpoint: r.lastCheckpoint ? { seq: r.lastCheckpoint.seq, node: r.lastCheckpoint.node, bytes: r.lastCheckpoint.bytes, at: r.lastCheckpoint.at } : null,
        })),
      };
    },
  });
  const held = ops.gauge('tapeflow_cluster_engine_instruments', 'instruments leased by this node');
  const events = ops.counter('tapeflow_cluster_engine_events_total', 'events run through the pipeline on this node');
  const takeovers = ops.counter('tapeflow_cluster_engine_acquired_total', 'instrument leases acquired');
  let stopping = false;
  const tick = async (): Promise<void> => {
    const ch = await leases.tick();
    for (const id of ch.lost) { runs.get(id)?.stop(); runs.delete(id); o.log?.(`engine ${node}: lost ${id}\n`); }
    for (const id of ch.acquired) {
      const r = new InstrumentRun(id, nats, registry, config, node, fixed);
      // a checkpoint that cannot be restored is said on /health and the instrument is not run: a
      // replay from the stream start could publish outputs that differ from those already stored
      try { await r.resume(); failed.delete(id); } catch (e) { failed.set(id, (e as Error).message); o.log?.(`engine ${node}: ${id}: ${(e as Error).message}\n`); continue; }
      runs.set(id, r);
      takeovers.inc();
      o.log?.(`engine ${node}: acquired ${id}${r.resumedFrom ? ` (checkpoint of ${r.resumedFrom.node} at seq ${r.resumedFrom.seq}, restored in ${r.restoreMs} ms)` : ''}\n`);
      void r.run(() => events.inc()).catch((e) => o.log?.(`engine ${node}: ${id}: ${(e as Error).message}\n`));
    }
    held.set(runs.size);
  };
  let busy = false;
  const loop = setInterval(() => { if (busy || stopping) return; busy = true; tick().catch((e) => o.log?.(`engine ${node}: lease round failed: ${(e as Error).message}\n`)).finally(() => { busy = false; }); }, Math.max(100, Math.floor(c.leaseTtlMs / 3)));
  const clockLoop = c.clockMs > 0 ? setInterval(() => { const now = Date.now(); for (const r of runs.values()) void r.tickClock(now, c.liveWindowMs).catch((e) => o.log?.(`engine ${node}: clock of ${r.id}: ${(e as Error).message}\n`)); }, c.clockMs) : null;
  const snapLoop = setInterval(() => { for (const r of runs.values()) if (r.dirty) void r.checkpoint().catch((e) => o.log?.(`engine ${node}: checkpoint of ${r.id} failed: ${(e as Error).message}\n`)); }, c.snapshotEveryMs);
  return {
    role: 'engine', node, url: `http://${o.host ?? config.server.host}:${ops.port}`,
    info: () => ({ instruments: [...runs.keys()] }),
    close: async () => {
      stopping = true; clearInterval(loop); clearInterval(snapLoop); if (clockLoop) clearInterval(clockLoop);
      for (const r of runs.values()) { r.stop(); if (r.dirty) await r.checkpoint().catch(() => {}); }
      await leases.release().catch(() => {});
      await ops.close(); await nats.close();
    },
  };
}

/**
 * Gateway: the one-process composition root (UDF/HTTP, /api/v1, /ws, /health, /metrics) with its own
 * SQLite store, fed by an ordered consumer over the engine nodes' output stream tf.out.> — never the
 * event stream: it runs no classifier, book or detector. Each instrument's WS/history projection is
 * an InstrumentPipeline that applies the engines' classified trades (tf.out.<i>.trade) as they were
 * applied and closes a bar when the engine's closed bar arrives (tf.out.<i>.bar: its end); each of
 * its closed bars is checked against the engine's checksum (a mismatch is a /health problem).
 * Signals and trade states are the engines' (tf.out.<i>.signal/state), published on /ws as they are.
 * History is the store that projection records (docs/cluster.md: why SQLite per gateway).
 */
async function startGateway(config: TapeFlowConfig, o: RoleOptions): Promise<RunningRole> {
  const node = nodeName(config, 'gateway', o);
  const storePath = o.storePath === undefined ? null : o.storePath;
  // rebuilt from the stream on every start: never double-count what an earlier run stored
  if (storePath) for (const s of ['', '-wal', '-shm']) rmSync(storePath + s, { force: true });
  const app: StartedApp = await startApp({ config: o.config, host: o.host, port: o.port, storePath, feeds: false, log: o.log, attachSignals: false, wsIntervals: config.cluster.wsIntervals });
  const nats = await openNats(config.cluster, node);
  let seq = 0, messages = 0, bars = 0, appliedTrades = 0, lastOutputAt = 0;
  const diverged: string[] = [];
  /** per instrument: the next k expected of each kind (a hole would be a lost output) */
  const next = new Map<string, number>();
  const holes: string[] = [];
  const checkK = (subject: string, k: number): void => {
    const want = next.get(subject) ?? 0;
    if (k !== want && holes.length < 20) holes.push(`${subject}: k ${k}, expected ${want}`);
    next.set(subject, k + 1);
  };
  const ids = new Map<string, string>(config.cluster.instruments.map((id) => [token(id), id]));
  const consumer = await nats.js.consumers.get(OUT_STREAM, { filter_subjects: 'tf.out.>', deliver_policy: DeliverPolicy.All });
  const stream: ConsumerMessages = await consumer.consume({ max_messages: 5000 });
  const apply = (subject: string, body: Record<string, unknown>): void => {
    const [, , tok, kind] = subject.split('.');
    const id = ids.get(tok) ?? (body.instrument as string);
    if (kind === 'trade') {
      // each trade index once: batches re-cut by a successor overlap what the dead node published
      const k0 = body.k as number, trades = body.trades as [number, number, number, number, Trade['sideSource'], number][];
      const want = next.get(subject) ?? 0;
      if (k0 > want && holes.length < 20) holes.push(`${subject}: trades from ${k0}, expected ${want}`);
      const p = app.engine.pipeline(id);
      for (let i = Math.max(0, want - k0); i < trades.length; i++) {
        const [ts, price, size, side, src, tid] = trades[i];
        const t = newTrade(id);
        t.ts = ts; t.price = price; t.size = size; t.side = side > 0 ? 'buy' : side < 0 ? 'sell' : 'unknown'; t.sideSource = src; t.id = tid;
        p.applyClassified(t);
        appliedTrades++;
      }
      next.set(subject, Math.max(want, k0 + trades.length));
      return;
    }
    checkK(subject, body.k as number);
    if (kind === 'bar') {
      const p = app.engine.pipeline(id);
      // the engine closed this bar (on a later trade, a quote, a book event or its wall clock): so does the projection
      p.advance(body.end as number);
      bars++;
      if (p.checksum() !== body.checksum && diverged.length < 20) diverged.push(`${id} bar ${String(body.k)}: checksum ${p.checksum()} ≠ engine ${String(body.checksum)}`);
    } else if (kind === 'signal' || kind === 'state') {
      const { k: _k, instrument: _i, ...view } = body;
      app.stream.publish(kind === 'signal' ? 'signal' : 'trade_state', id, view);
    }
  };
  void (async () => {
    for await (const m of stream) {
      try { apply(m.subject, decode<Record<string, unknown>>(m.data)); }
      catch (e) { if (holes.length < 20) holes.push(`${m.subject} #${m.seq}: ${(e as Error).message}`); o.log?.(`gateway ${node}: ${m.subject}: ${(e as Error).message}\n`); }
      seq = m.seq; messages++; lastOutputAt = Date.now();
    }
  })().catch((e) => o.log?.(`gateway ${node}: output stream consumer stopped: ${(e as Error).message}\n`));
  new Gauge({ name: 'tapeflow_cluster_gateway_messages', help: 'engine output messages consumed by this gateway', registers: [app.status.metrics.registry], collect() { this.set(messages); } });
  new Gauge({ name: 'tapeflow_cluster_gateway_trades', help: 'engine trades applied to this gateway\'s projection', registers: [app.status.metrics.registry], collect() { this.set(appliedTrades); } });
  new Gauge({ name: 'tapeflow_cluster_gateway_stream_seq', help: 'last output stream sequence this gateway consumed', registers: [app.status.metrics.registry], collect() { this.set(seq); } });
  // a gateway consumes no events (its `events` stay 0): /health says what it took from the engines
  app.server.service.providers.healthSections = () => ({
    cluster: { role: 'gateway', node, outputStreamSeq: seq, outputMessages: messages, tradesApplied: appliedTrades, barsClosed: bars, lastOutputAgeMs: lastOutputAt ? Date.now() - lastOutputAt : null, diverged: diverged.length, holes: holes.length },
  });
  app.status.registry.probe('cluster', () => {
    const d = nats.down();
    if (d !== null) return { component: 'cluster', reason: 'NATS connection down: no live data from the engine output stream', since: d };
    if (diverged.length) return { component: 'cluster', reason: `projection differs from the engine: ${diverged[0]}`, since: null };
    if (holes.length) return { component: 'cluster', reason: `engine output missing: ${holes[0]}`, since: null };
    return null;
  });
  return {
    role: 'gateway', node, url: app.server.url, info: () => ({ seq, messages, bars, diverged, holes }),
    close: async () => { stream.stop(); await nats.close(); await app.close(); },
  };
}

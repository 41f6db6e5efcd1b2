/**
 * Connection and the streams/buckets every role expects (created idempotently by whichever role
 * comes first). The maintained NATS v3 client (@nats-io/*): JetStream is the log, KV the leases.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType, DiscardPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { EVENT_STREAM, LEASE_BUCKET, OUT_STREAM, SNAP_BUCKET } from './subjects.js';
import type { ClusterConfig } from '../config/types.js';

export interface Nats {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  leases: KV;
  snaps: KV;
  /** null while connected; else since when (ms) the connection has been down */
  down(): number | null;
  close(): Promise<void>;
}

const MS = 1_000_000; // JetStream durations are nanoseconds

/** Connect, then create (or update) the event and output streams and the lease/checkpoint buckets. */
export async function openNats(c: ClusterConfig, name: string): Promise<Nats> {
  const nc = await connect({ servers: c.servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  // a JetStream cluster answers only once it has elected its meta leader: wait for it (bounded)
  let jsm: JetStreamManager | undefined;
  for (let until = Date.now() + 60_000; !jsm;) {
    try { jsm = await jetstreamManager(nc, { timeout: 10_000 }); await jsm.getAccountInfo(); }
    catch (err) { jsm = undefined; if (Date.now() > until) { await nc.close(); throw new Error(`JetStream not available on ${c.servers.join(', ')}: ${(err as Error).message}`); } await new Promise((r) => setTimeout(r, 250)); }
  }
  const replicas = Math.min(c.replicas, c.servers.length);
  const stream = (sname: string, subjects: string[]) => ({
    name: sname, subjects, retention: RetentionPolicy.Limits, storage: StorageType.File, num_replicas: replicas,
    max_age: c.retention.maxAgeS * 1000 * MS, max_bytes: c.retention.maxBytes, discard: DiscardPolicy.Old,
    duplicate_window: c.dedupWindowS * 1000 * MS,
  });
  // several nodes start at once: creating the same stream/bucket concurrently can time out while the
  // cluster elects their leaders, so each step is retried (bounded) before giving up with its name
  const retry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let until = Date.now() + 60_000; ;) {
      try { return await fn(); }
      catch (err) { if (Date.now() > until) { await nc.close(); throw new Error(`NATS: ${what}: ${(err as Error).message}`); } await new Promise((r) => setTimeout(r, 300 + Math.random() * 300)); }
    }
  };
  for (const [sname, subjects] of [[EVENT_STREAM, ['tf.ev.>']], [OUT_STREAM, ['tf.out.>']]] as const) {
    const cfg = stream(sname, [...subjects]);
    await retry(`stream ${sname}`, async () => {
      const have = await jsm!.streams.info(sname).catch(() => null);
      if (have) { if (have.config.max_age !== cfg.max_age || have.config.max_bytes !== cfg.max_bytes || have.config.duplicate_window !== cfg.duplicate_window) await jsm!.streams.update(sname, { max_age: cfg.max_age, max_bytes: cfg.max_bytes, duplicate_window: cfg.duplicate_window }); }
      else await jsm!.streams.add(cfg);
    });
  }
  const kvm = new Kvm(nc);
  const leases = await retry(`bucket ${LEASE_BUCKET}`, () => kvm.create(LEASE_BUCKET, { history: 1, ttl: c.leaseTtlMs, replicas }));
  const snaps = await retry(`bucket ${SNAP_BUCKET}`, () => kvm.create(SNAP_BUCKET, { history: 1, replicas }));
  // said on /health of every role: a lost server connection is never silent
  let downSince: number | null = null;
  void (async () => {
    for await (const st of nc.status()) {
      if (st.type === 'disconnect' || st.type === 'close') downSince ??= Date.now();
      else if (st.type === 'reconnect') downSince = null;
    }
  })();
  return { nc, js: jetstream(nc), jsm: jsm!, leases, snaps, down: () => (nc.isClosed() ? downSince ?? Date.now() : downSince), close: async () => { await nc.drain().catch(() => nc.close()); } };
}

/**
 * The distributed form end to end, real processes against a real 3-node JetStream cluster
 * (nats-server on loopback): 2 ingest nodes replay simulator-made tapes (one tape by both, so the
 * Nats-Msg-Id dedup is exercised), 3 engine nodes share 6 instruments as KV leases, 2 gateways serve
 * HTTP + /ws. One engine node is SIGKILLed mid-stream: its instruments must be running on the others
 * within TAKEOVER_MS, and at the end every instrument's bars (checksum after each bar), signals and
 * trade states on the output stream equal a single-process replay of the same files, each exactly
 * once. A WS client on each gateway sees every bar update in order (contiguous seq).
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { connect } from '@nats-io/transport-node';
import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { startLocalNats } from '../../engine/src/cluster/local-nats.js';
import { writeClusterTapes, clusterConfigYaml, clusterInstrument } from '../../engine/src/cluster/tapes.js';
import { decode, OUT_STREAM } from '../../engine/src/cluster/subjects.js';
import { spawnRole, singleProcessReference } from '../helpers/cluster-rig.js';
import { clusterWorkspace } from '../helpers/cluster-workspace.js';

const N = 6;
const LEASE_TTL_MS = 2000;
/** stated bound: a dead node's leases expire after the TTL, the next lease round (TTL/3) takes them; 6 s of slack for a loaded 2-core CI machine */
const TAKEOVER_MS = LEASE_TTL_MS + 6000;
const ws = clusterWorkspace('tapeflow-cluster-');
const { dir, procs, health } = ws;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface WsLog { updates: { seq: number; d: any }[]; snapshot: boolean; gaps: number }
function watchBars(url: string, sym: string): { log: WsLog; ws: WebSocket } {
  const log: WsLog = { updates: [], snapshot: false, gaps: 0 };
  const ws = new WebSocket(url.replace('http', 'ws') + '/ws');
  let last = 0;
  ws.on('open', () => { ws.send(pack({ v: 1, op: 'hello' })); ws.send(pack({ v: 1, op: 'subscribe', id: 1, ch: 'bar', sym, tf: '1m' })); });
  ws.on('message', (b: Buffer) => {
    const m = unpack(b) as { op: string; seq: number; d: any };
    if (m.op === 'snapshot') { log.snapshot = true; last = 0; }
    if (m.op === 'update') { if (m.seq !== last + 1) log.gaps++; last = m.seq; log.updates.push({ seq: m.seq, d: m.d }); }
  });
  return { log, ws };
}

describe('cluster: 2 ingest, 3 engine, 2 gateway nodes on a 3-node JetStream cluster', () => {
  it('survives an engine node kill with the single-process results, exactly once', async () => {
    const files = writeClusterTapes(dir, { instruments: N, minutes: 30 });
    const nats = ws.nats(await startLocalNats());
    const cfg = join(dir, 'cluster.yaml');
    writeFileSync(cfg, clusterConfigYaml({ servers: nats.urls, instruments: N, leaseTtlMs: LEASE_TTL_MS, snapshotEveryMs: 1000 }));
    const refP = singleProcessReference(cfg, files);

    const engines = await Promise.all(['e1', 'e2', 'e3'].map((n) => spawnRole('engine', n, cfg)));
    procs.push(...engines);
    const gateways = await Promise.all(['g1', 'g2'].map((n) => spawnRole('gateway', n, cfg, ['--store', join(dir, `${n}.sqlite`)])));
    procs.push(...gateways);
    // all six leased, two per node, before the tape starts
    for (let i = 0; i < 100; i++) { const hs = await Promise.all(engines.map(health)); if (hs.every((h) => h.instruments.length === 2)) break; await sleep(200); }
    expect((await Promise.all(engines.map(health))).map((h) => h.instruments.length)).toEqual([2, 2, 2]);
    const watch = [watchBars(gateways[0].url, clusterInstrument(0)), watchBars(gateways[1].url, clusterInstrument(5))];

    // ingest a: tapes 1-4; ingest b: tapes 4-6 (tape 4 by both)
    const ingests = await Promise.all([
      spawnRole('ingest', 'i1', cfg, ['--files', files.slice(0, 4).join(','), '--pace', '2000']),
      spawnRole('ingest', 'i2', cfg, ['--files', files.slice(3).join(','), '--pace', '2000']),
    ]);
    procs.push(...ingests);
    // the kill comes once the victim has checkpointed every instrument it runs (snapshotEveryMs 1000;
    // an instrument's tape may start a few seconds in), while the ingest nodes are still publishing
    const victim = engines[1];
    let vh: Record<string, any> = {};
    for (let i = 0; i < 150; i++) { vh = await health(victim); if (vh.runs.length === 2 && vh.runs.every((r: any) => r.checkpoint && r.checkpoint.seq > 0)) break; await sleep(100); }
    expect((await Promise.all(ingests.map(health))).some((h) => !h.done)).toBe(true);
    const moved: string[] = vh.instruments;
    for (const r of vh.runs) expect(r.checkpoint, JSON.stringify(vh)).not.toBeNull();
    const lastCp = new Map<string, number>(vh.runs.map((r: any) => [r.instrument, r.checkpoint.seq]));
    victim.proc.kill('SIGKILL');
    const killedAt = Date.now();
    let tookMs = -1;
    while (Date.now() - killedAt < 20_000) {
      const held = (await Promise.all([engines[0], engines[2]].map(health))).flatMap((h) => h.instruments as string[]);
      if (moved.every((id) => held.includes(id))) { tookMs = Date.now() - killedAt; break; }
      await sleep(100);
    }
    expect(tookMs).toBeGreaterThan(0);
    expect(tookMs).toBeLessThan(TAKEOVER_MS);

    for (let i = 0; i < 300; i++) { if ((await Promise.all(ingests.map(health))).every((h) => h.done)) break; await sleep(200); }
    const ih = await Promise.all(ingests.map(health));
    expect(ih.every((h) => h.done && h.errors === 0)).toBe(true);
    const ref = await refP;
    const events = files.length; void events;
    // tape 4 went in twice and was stored once
    expect(ih.reduce((s, h) => s + h.duplicates, 0)).toBeGreaterThan(1000);

    // read the output stream once the survivors have caught up with every instrument's reference bars
    const nc = await connect({ servers: nats.urls });
    const js = jetstream(nc);
    const want = [...ref.bars.values()].reduce((s, l) => s + l.length, 0);
    let outs: { subject: string; body: any }[] = [];
    for (let round = 0; round < 60; round++) {
      outs = [];
      const c = await js.consumers.get(OUT_STREAM, { deliver_policy: DeliverPolicy.All });
      const info = await (await js.streams.get(OUT_STREAM)).info();
      const total = info.state.messages;
      if (total > 0) for await (const m of await c.consume()) { outs.push({ subject: m.subject, body: decode(m.data) }); if (m.seq >= info.state.last_seq) break; }
      if (outs.filter((o) => o.subject.endsWith('.bar')).length >= want) break;
      await sleep(1000);
    }
    await nc.close();
    const per = (kind: string, id: string) => outs.filter((o) => o.subject === `tf.out.${id}.${kind}`).map((o) => o.body);
    for (let i = 0; i < N; i++) {
      const id = clusterInstrument(i);
      const bars = per('bar', id);
      // exactly once, in order: the k-th bar is k and its running checksum is the single-process one
      expect(bars.map((b) => b.k)).toEqual(bars.map((_, k) => k));
      expect(bars.map((b) => b.checksum)).toEqual(ref.bars.get(id));
      const strip = (l: any[]) => l.map((x) => { const { k: _k, instrument: _i, ...rest } = x; return JSON.parse(JSON.stringify(rest)); });
      expect(strip(per('signal', id))).toEqual(strip(ref.signals.get(id) ?? []));
      expect(strip(per('state', id))).toEqual(strip(ref.states.get(id) ?? []));
    }
    // the survivors resumed the moved instruments from the victim's last checkpoint plus the stream
    // (not from the stream start), and each restored state matched its checkpoint (else /health fails)
    const survivors = await Promise.all([engines[0], engines[2]].map(health));
    for (const h of survivors) expect(h.diverged).toEqual([]);
    // (on a loaded machine a lease renewal can miss its TTL and the instrument move again between the
    // two /health reads: then both survivors list it, each run resumed from a checkpoint)
    const resumed = survivors.flatMap((h) => h.runs as any[]).filter((r) => moved.includes(r.instrument));
    expect([...new Set(resumed.map((r) => r.instrument))].sort()).toEqual([...moved].sort());
    for (const r of resumed) {
      expect(r.resumedFrom, JSON.stringify(r)).not.toBeNull();
      // the latest checkpoint (the victim's, or an earlier owner's it had not yet replaced)
      expect(r.resumedFrom.seq).toBeGreaterThanOrEqual(lastCp.get(r.instrument)!);
      expect(r.resumedFrom.events).toBeGreaterThan(0);
      // only the events after the checkpoint went through this node's pipeline
      expect(r.applied).toBe(r.events - r.resumedFrom.events);
    }

    // each gateway's WS client saw every bar update of its instrument in order, and the last closed
    // bar it saw is the reference's
    for (const { log, ws } of watch) {
      expect(log.snapshot).toBe(true);
      expect(log.gaps).toBe(0);
      expect(log.updates.length).toBeGreaterThan(10);
      ws.close();
    }
    // each gateway's projection (fed by tf.out, not the event stream) closed every bar with the engine's checksum
    for (const g of gateways) {
      const h = await health(g);
      expect(JSON.stringify(h.problems ?? h)).not.toMatch(/projection differs|engine output missing/);
      // and /health says what the gateway consumed from the engines (its own `events` stay 0)
      expect(h.cluster.role).toBe('gateway');
      expect(h.cluster.outputMessages).toBeGreaterThan(0);
      expect(h.cluster.barsClosed).toBeGreaterThanOrEqual(want);
      expect(h.cluster.tradesApplied).toBeGreaterThan(0);
      expect(h.cluster.lastOutputAgeMs).toBeGreaterThanOrEqual(0);
      expect(h.cluster.diverged + h.cluster.holes).toBe(0);
    }
    // gateways answer history from their stream-fed store: the same closed bars on both
    const hist = await Promise.all(gateways.map(async (g) => (await fetch(`${g.url}/history?symbol=${clusterInstrument(2)}&resolution=1&from=${Date.UTC(2026, 10, 2, 13) / 1000}&to=${Date.UTC(2026, 10, 2, 16) / 1000}`)).json() as Promise<any>));
    expect(hist[0].s, JSON.stringify(hist[0]).slice(0, 300)).toBe('ok');
    expect(hist[0].c.length).toBeGreaterThanOrEqual(ref.bars.get(clusterInstrument(2))!.length);
    expect(hist[1]).toEqual(hist[0]);
    console.log(`cluster: takeover of ${moved.join(', ')} in ${tookMs} ms (restores: ${resumed.map((r) => `${r.instrument} from seq ${r.resumedFrom.seq} after ${r.resumedFrom.events} events in ${r.resumedFrom.restoreMs} ms`).join('; ')}); ${want} bars, ${outs.length} output messages`);
  }, 150_000);
});

/**
 * Live use: a quiet instrument's time bar closes on the wall clock on the cluster too (real nats-server,
 * real engine and gateway processes). One trade stamped just before the current minute goes in and
 * nothing after it: the engine puts a clock event for the bar's end into the event stream, the bar is
 * published on tf.out and reaches a WS client of the gateway as a closed bar. Replaying the event stream
 * (trade + clock event) through a fresh InstrumentState gives the published checksum: the clock is in
 * the log, so replays and takeovers stay deterministic. A replay of old data gets no clock event (the
 * big cluster test: its results equal a single-process replay, which has no wall clock).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { connect } from '@nats-io/transport-node';
import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { startLocalNats, type LocalNats } from '../../engine/src/cluster/local-nats.js';
import { clusterConfigYaml, clusterInstrument } from '../../engine/src/cluster/tapes.js';
import { decode, EVENT_STREAM, OUT_STREAM } from '../../engine/src/cluster/subjects.js';
import { openNats } from '../../engine/src/cluster/nats.js';
import { Ingest } from '../../engine/src/cluster/ingest.js';
import { InstrumentState } from '../../engine/src/cluster/instrument-state.js';
import { loadConfig, buildRegistry } from '../../engine/src/config/index.js';
import { newTrade, type MarketEvent } from '../../engine/src/core/events.js';
import { spawnRole, stopRole, type RoleProc } from '../helpers/cluster-rig.js';

const dir = mkdtempSync(join(tmpdir(), 'tapeflow-clock-'));
const procs: RoleProc[] = [];
let nats: LocalNats | null = null;
afterAll(async () => {
  for (const p of procs) await stopRole(p, 'SIGKILL').catch(() => {});
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readAll(js: ReturnType<typeof jetstream>, stream: string, filter: string): Promise<{ subject: string; seq: number; body: any }[]> {
  const info = await (await js.streams.get(stream)).info();
  const out: { subject: string; seq: number; body: any }[] = [];
  if (!info.state.messages) return out;
  const c = await js.consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.All });
  for await (const m of await c.consume()) { out.push({ subject: m.subject, seq: m.seq, body: decode(m.data) }); if (m.info.pending === 0) break; }
  return out;
}

describe('cluster: wall-clock bar close in live use', () => {
  it('closes a quiet instrument\'s bar on the wall clock, through the log', async () => {
    nats = await startLocalNats({ nodes: 1 });
    const cfg = join(dir, 'cluster.yaml');
    writeFileSync(cfg, clusterConfigYaml({ servers: nats.urls, instruments: 1 }).replace('  snapshotEveryMs: 2000', '  snapshotEveryMs: 2000\n  clockMs: 200'));
    const id = clusterInstrument(0);
    const [engine, gateway] = await Promise.all([spawnRole('engine', 'e1', cfg), spawnRole('gateway', 'g1', cfg)]);
    procs.push(engine, gateway);
    for (let i = 0; i < 100; i++) { const h = await (await fetch(`${engine.url}/health`)).json() as any; if (h.instruments.length === 1) break; await sleep(200); }

    const closes: any[] = [];
    const ws = new WebSocket(gateway.url.replace('http', 'ws') + '/ws');
    await new Promise<void>((resolve) => {
      ws.on('open', () => { ws.send(pack({ v: 1, op: 'hello' })); ws.send(pack({ v: 1, op: 'subscribe', id: 1, ch: 'bar', sym: id, tf: '1m' })); });
      ws.on('message', (b: Buffer) => { const m = unpack(b) as any; if (m.op === 'snapshot') resolve(); if (m.op === 'update' && m.d?.closed) closes.push(m.d); });
    });

    // one trade in the minute that has just ended (its bar's end is already past), then silence
    const config = await loadConfig(cfg);
    const pub = await openNats(config.cluster, 'clock-test');
    const t = newTrade(id);
    const now = Date.now();
    t.ts = now - (now % 60_000) - 500; t.id = 1; t.price = 500_000; t.size = 1000; t.side = 'buy'; t.sideSource = 'flag';
    await new Ingest(pub, buildRegistry(config), { window: 1 }).publish(t);
    const sentAt = Date.now();
    for (let i = 0; i < 100 && !closes.length; i++) await sleep(100);
    const tookMs = Date.now() - sentAt;
    await pub.close();
    ws.close();
    expect(closes.length).toBe(1);
    const barEnd = t.ts - (t.ts % 60_000) + 60_000;
    expect(closes[0].end).toBe(barEnd);
    expect(closes[0].trades).toBe(1);
    expect(closes[0].v).toBe(1);

    const nc = await connect({ servers: nats.urls });
    const js = jetstream(nc);
    const evs = await readAll(js, EVENT_STREAM, 'tf.ev.>');
    const bars = await readAll(js, OUT_STREAM, `tf.out.${id}.bar`);
    await nc.close();
    // the log holds the trade, then the clock event for the bar's end
    expect(evs.map((e) => [e.subject, e.body.type, e.body.ts])).toEqual([[`tf.ev.sim.${id}`, 'trade', t.ts], [`tf.ev.clock.${id}`, 'clock', barEnd]]);
    expect(bars.length).toBe(1);
    // replaying the log gives the published bar and checksum
    const replayed: any[] = [];
    const s = new InstrumentState(id, buildRegistry(config), config, (kind, body) => { if (kind === 'bar') replayed.push(body); });
    for (const e of evs) s.onEvent(e.body as MarketEvent, e.seq);
    expect(replayed.map((b) => [b.time, b.end, b.checksum])).toEqual(bars.map((b) => [b.body.time, b.body.end, b.body.checksum]));
    console.log(`cluster clock: a quiet bar closed on the wall clock and reached the gateway's WS client ${tookMs} ms after its only trade was published (clockMs 200)`);
  }, 90_000);
});

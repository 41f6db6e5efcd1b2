/**
 * Cluster on loopback (docs/cluster.md): a 3-node nats-server JetStream cluster, 3 engine and 2 gateway
 * processes (`tapeflow start --role`), 30 simulated instruments.
 * 1. Throughput: one ingest process publishes every tape unpaced; events/s = events / time until the
 *    three engines have applied every event and both gateways have applied every trade the engines
 *    published (ingest → TF_EVENTS → engine → TF_OUT → gateway). Floor: the same events through one
 *    in-process Engine.
 * 2. Latency: WS clients split over the 2 gateways subscribe to `tick` of one instrument; this process
 *    publishes probe trades stamped with Date.now() through the same Ingest code; latency = client
 *    receive time − stamp (same clock), across both JetStream hops. The gateways' tick slot is
 *    cluster.wsIntervals.tick = BENCH_CLUSTER_TICK_MS (default 20; the one-process default is 100 ms,
 *    which alone adds up to 100 ms to a tick's latency).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { startLocalNats } from '../../src/cluster/local-nats.js';
import { writeClusterTapes, clusterConfigYaml, clusterInstrument } from '../../src/cluster/tapes.js';
import { openNats } from '../../src/cluster/nats.js';
import { Ingest } from '../../src/cluster/ingest.js';
import { loadConfig, buildRegistry } from '../../src/config/index.js';
import { Engine } from '../../src/analytics/engine.js';
import { clusterPipelineOptions } from '../../src/cluster/engine-node.js';
import { replayFile } from '../../src/replay/index.js';
import { newTrade, type MarketEvent } from '../../src/core/events.js';
import { spawnRole, stopRole, type RoleProc } from '../../../tests/helpers/cluster-rig.js';
import { emit, peakRssMB, percentile as pct } from '../harness.js';

const INSTRUMENTS = 30;
const MINUTES = Number(process.env.BENCH_CLUSTER_MINUTES ?? 6);
const CLIENTS = Number(process.env.BENCH_CLUSTER_CLIENTS ?? 200);
const PROBES = Number(process.env.BENCH_CLUSTER_PROBES ?? 200);
const TICK_MS = Number(process.env.BENCH_CLUSTER_TICK_MS ?? 20);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = async (url: string): Promise<any> => (await fetch(url)).json();
const metric = async (url: string, name: string): Promise<number> => { const t = await (await fetch(`${url}/metrics`)).text(); const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(t); return m ? Number(m[1]) : 0; };

export async function benchCluster(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-bench-cluster-'));
  const nats = await startLocalNats();
  const procs: RoleProc[] = [];
  try {
    const files = writeClusterTapes(dir, { instruments: INSTRUMENTS, minutes: MINUTES });
    const cfg = join(dir, 'cluster.yaml');
    writeFileSync(cfg, clusterConfigYaml({ servers: nats.urls, instruments: INSTRUMENTS }) + `  wsIntervals: { tick: ${TICK_MS} }\n`);
    // floor: the same events through one Engine in this process
    const config = await loadConfig(cfg);
    const evs: MarketEvent[] = [];
    for (const f of files) await replayFile(f, (e) => { evs.push({ ...e } as MarketEvent); }, { registry: buildRegistry(config) });
    const fe = new Engine(buildRegistry(config), clusterPipelineOptions(config));
    const f0 = performance.now();
    for (const e of evs) fe.onEvent(e);
    const floorPerS = evs.length / ((performance.now() - f0) / 1000);
    const trades = evs.filter((e) => e.type === 'trade').length;

    const engines = await Promise.all(['e1', 'e2', 'e3'].map((n) => spawnRole('engine', n, cfg)));
    const gateways = await Promise.all(['g1', 'g2'].map((n) => spawnRole('gateway', n, cfg)));
    procs.push(...engines, ...gateways);
    for (let i = 0; i < 150; i++) { const hs = await Promise.all(engines.map((e) => json(`${e.url}/health`))); if (hs.reduce((s, h) => s + h.instruments.length, 0) === INSTRUMENTS) break; await sleep(200); }

    const t0 = performance.now();
    const ingest = await spawnRole('ingest', 'i1', cfg, ['--files', files.join(',')]);
    procs.push(ingest);
    let ingestS = NaN, doneS = NaN;
    for (let i = 0; i < 3000; i++) {
      const ih = await json(`${ingest.url}/health`);
      if (ih.done && Number.isNaN(ingestS)) ingestS = (performance.now() - t0) / 1000;
      const eng = (await Promise.all(engines.map((e) => json(`${e.url}/health`)))).reduce((s, h) => s + h.runs.reduce((x: number, r: any) => x + r.events, 0), 0);
      const gw = await Promise.all(gateways.map((g) => metric(g.url, 'tapeflow_cluster_gateway_trades')));
      if (eng >= evs.length && gw.every((n) => n >= trades)) { doneS = (performance.now() - t0) / 1000; break; }
      await sleep(100);
    }
    for (let i = 0; i < 300 && Number.isNaN(ingestS); i++) { if ((await json(`${ingest.url}/health`)).done) ingestS = (performance.now() - t0) / 1000; else await sleep(100); }
    const eventsPerS = evs.length / doneS;

    // latency: CLIENTS WS clients over 2 gateways, tick channel of one instrument
    const sym = clusterInstrument(0);
    const lat: number[] = [];
    let gaps = 0;
    const sockets = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(gateways[i % 2].url.replace('http', 'ws') + '/ws');
      let last = 0;
      ws.on('open', () => { ws.send(pack({ v: 1, op: 'hello' })); ws.send(pack({ v: 1, op: 'subscribe', id: 1, ch: 'tick', sym, limit: 1 })); });
      ws.on('message', (b: Buffer) => {
        const m = unpack(b) as { op: string; seq: number; d: { trades: number[][] } };
        if (m.op === 'snapshot') resolve(ws);
        if (m.op === 'update') { if (m.seq !== last + 1) gaps++; last = m.seq; const now = Date.now(); for (const t of m.d.trades) if (t[4] >= 1e9) lat.push(now - t[0]); }
      });
      ws.on('error', reject);
    })));
    const pub = await openNats(config.cluster, 'bench-probe');
    const probe = new Ingest(pub, buildRegistry(config), { window: 1 });
    for (let i = 0; i < PROBES; i++) {
      const t = newTrade(sym);
      t.ts = Date.now(); t.id = 1e9 + i; t.price = 500_000 + (i % 7); t.size = 1000; t.side = i % 2 ? 'buy' : 'sell'; t.sideSource = 'flag';
      await probe.publish(t);
      await sleep(50);
    }
    await probe.flush();
    await sleep(1500);
    await pub.close();
    for (const s of sockets) s.close();
    emit({
      name: 'cluster', instruments: INSTRUMENTS, events: evs.length, engines: 3, gateways: 2, natsNodes: 3, replicas: config.cluster.replicas,
      ingestSeconds: +ingestS.toFixed(2), endToEndSeconds: +doneS.toFixed(2), eventsPerS: Math.round(eventsPerS),
      floorEventsPerS: Math.round(floorPerS), ratioToFloor: +(eventsPerS / floorPerS).toFixed(4),
      wsClients: CLIENTS, probes: PROBES, received: lat.length, expected: PROBES * CLIENTS, wsGaps: gaps,
      latencyMsP50: pct(lat, 50), latencyMsP99: pct(lat, 99), latencyMsMax: pct(lat, 100), tickSlotMs: TICK_MS, load: loadavg().map((x) => +x.toFixed(2)),
      peakRssMB: peakRssMB(),
    });
  } finally {
    for (const p of procs) await stopRole(p).catch(() => {});
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

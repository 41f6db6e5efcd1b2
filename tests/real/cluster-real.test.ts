/**
 * The distributed form on real captures (TAPEFLOW_DATA): a 3-node JetStream cluster (nats-server on
 * loopback), 2 ingest nodes replaying real files (the Binance USD-M capture by both, so its events are
 * stored once by Nats-Msg-Id), 3 engine nodes sharing 3 instruments — Binance USD-M BTCUSDT (L2 book +
 * trades + bookTicker), Binance spot BTCUSDT, CME ESH4 market-by-order (L3 book whose fills are the trades)
 * — and 2 gateways. One engine node is SIGKILLed mid-stream; its instrument resumes on another node from
 * its checkpoint plus the stream. Bars (checksum after each), signals and trade states on the output
 * stream equal a single-process replay of the same files, exactly once; both gateways' projections
 * close every bar with the engine's checksum and answer /history alike.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { startLocalNats } from '../../engine/src/cluster/local-nats.js';
import { decode, OUT_STREAM, token } from '../../engine/src/cluster/subjects.js';
import { spawnRole, singleProcessReference } from '../helpers/cluster-rig.js';
import { clusterWorkspace } from '../helpers/cluster-workspace.js';
import { dataFile } from '../helpers/data.js';

const USDM = 'binance/usdm_btcusdt_20240808.gz', SPOT = 'binance/spot_btcusdt_20240808.gz', CME = 'cme/esh4_20231225_mbo.csv.gz';
const IDS = ['BTCUSDT', 'BINANCE_SPOT:BTCUSDT', 'CME:ESH4'];
const LEASE_TTL_MS = 2000;
const ws = clusterWorkspace('tapeflow-cluster-real-');
const { dir, procs, health } = ws;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cluster on real captures: 2 ingest, 3 engine, 2 gateway nodes', () => {
  it('equals a single-process replay of the same files, through an engine kill', async () => {
    const usdm = dataFile(USDM), spot = dataFile(SPOT), cme = dataFile(CME);
    const nats = ws.nats(await startLocalNats());
    const cfg = join(dir, 'cluster.yaml');
    writeFileSync(cfg, [
      'instruments:',
      '  - id: "CME:ESH4"\n    venue: cme\n    tickSize: "0.25"\n    lotStep: "1"\n    profileRow: "0.25"\n    assetClass: index',
      'paper:\n  enabled: false',
      'log:\n  level: warn',
      'cluster:',
      `  servers: [${nats.urls.map((u) => JSON.stringify(u)).join(', ')}]`,
      `  instruments: [${IDS.map((i) => JSON.stringify(i)).join(', ')}]`,
      `  leaseTtlMs: ${LEASE_TTL_MS}`,
      '  snapshotEveryMs: 1000',
      '',
    ].join('\n'));
    const refP = singleProcessReference(cfg, [usdm, spot, cme]);
    const engines = await Promise.all(['e1', 'e2', 'e3'].map((n) => spawnRole('engine', n, cfg)));
    procs.push(...engines);
    const gateways = await Promise.all(['g1', 'g2'].map((n) => spawnRole('gateway', n, cfg, ['--store', join(dir, `${n}.sqlite`)])));
    procs.push(...gateways);
    for (let i = 0; i < 100; i++) { const hs = await Promise.all(engines.map(health)); if (hs.every((h) => h.instruments.length === 1)) break; await sleep(200); }
    expect((await Promise.all(engines.map(health))).map((h) => h.instruments.length)).toEqual([1, 1, 1]);

    const ingests = await Promise.all([
      spawnRole('ingest', 'i1', cfg, ['--files', [usdm, cme].join(','), '--pace', '8000']),
      spawnRole('ingest', 'i2', cfg, ['--files', [spot, usdm].join(','), '--pace', '8000']),
    ]);
    procs.push(...ingests);
    // the victim is the engine running the USD-M book: killed once it has checkpointed, while events flow
    const hs = await Promise.all(engines.map(health));
    const victim = engines[hs.findIndex((h) => h.instruments[0] === 'BTCUSDT')];
    let vh: Record<string, any> = {};
    for (let i = 0; i < 200; i++) { vh = await health(victim); if (vh.runs[0]?.checkpoint?.seq > 0 && vh.runs[0].events > 5000) break; await sleep(100); }
    expect((await Promise.all(ingests.map(health))).some((h) => !h.done)).toBe(true);
    const cpSeq: number = vh.runs[0].checkpoint.seq;
    victim.proc.kill('SIGKILL');
    const killedAt = Date.now();
    const survivors = engines.filter((e) => e !== victim);
    let tookMs = -1;
    while (Date.now() - killedAt < 30_000) {
      const held = (await Promise.all(survivors.map(health))).flatMap((h) => h.instruments as string[]);
      if (held.includes('BTCUSDT')) { tookMs = Date.now() - killedAt; break; }
      await sleep(100);
    }
    expect(tookMs, JSON.stringify(await Promise.all(survivors.map(health))) + survivors.map((e) => e.stderr.join('').slice(-1500)).join('\n')).toBeGreaterThan(0);
    for (let i = 0; i < 1500; i++) { if ((await Promise.all(ingests.map(health))).every((h) => h.done)) break; await sleep(200); }
    const ih = await Promise.all(ingests.map(health));
    expect(ih.every((h) => h.done && h.errors === 0), JSON.stringify(ih)).toBe(true);
    expect(ih.reduce((s, h) => s + h.duplicates, 0)).toBe(93_954); // the USD-M capture went in twice, stored once

    const ref = await refP;
    const want = IDS.reduce((s, id) => s + (ref.bars.get(id)?.length ?? 0), 0);
    expect(want).toBeGreaterThan(60);
    const nc = await connect({ servers: nats.urls });
    const js = jetstream(nc);
    let outs: { subject: string; body: any }[] = [];
    for (let round = 0; round < 240; round++) {
      outs = [];
      const info = await (await js.streams.get(OUT_STREAM)).info();
      const c = await js.consumers.get(OUT_STREAM, { deliver_policy: DeliverPolicy.All });
      if (info.state.messages > 0) for await (const m of await c.consume()) { outs.push({ subject: m.subject, body: decode(m.data) }); if (m.seq >= info.state.last_seq) break; }
      if (outs.filter((o) => o.subject.endsWith('.bar')).length >= want) break;
      await sleep(1000);
    }
    await nc.close();
    const strip = (l: any[]) => l.map((x) => { const { k: _k, instrument: _i, ...rest } = x; return JSON.parse(JSON.stringify(rest)); });
    for (const id of IDS) {
      const tok = token(id);
      const per = (kind: string) => outs.filter((o) => o.subject === `tf.out.${tok}.${kind}`).map((o) => o.body);
      const bars = per('bar');
      expect(bars.map((b) => b.k), id).toEqual(bars.map((_, k) => k));
      expect(bars.map((b) => b.checksum), id).toEqual(ref.bars.get(id));
      expect(strip(per('signal')), id).toEqual(strip(ref.signals.get(id) ?? []));
      expect(strip(per('state')), id).toEqual(strip(ref.states.get(id) ?? []));
    }
    // the USD-M instrument resumed from the victim's checkpoint (with its L2 book) plus the stream
    const run = (await Promise.all(survivors.map(health))).flatMap((h) => h.runs as any[]).find((r) => r.instrument === 'BTCUSDT');
    expect(run.resumedFrom.seq).toBeGreaterThanOrEqual(cpSeq);
    expect(run.applied).toBe(run.events - run.resumedFrom.events);
    for (const h of await Promise.all(survivors.map(health))) expect(h.diverged).toEqual([]);
    // gateways: projections agree with every engine checksum; history the same on both
    for (const g of gateways) expect(JSON.stringify((await health(g)).problems ?? [])).not.toMatch(/projection differs|engine output missing/);
    const q = `/history?symbol=CME:ESH4&resolution=1&from=${Date.UTC(2023, 11, 25, 22) / 1000}&to=${Date.UTC(2023, 11, 26) / 1000}`;
    const hist = await Promise.all(gateways.map(async (g) => (await fetch(g.url + q)).json() as Promise<any>));
    expect(hist[0].s, JSON.stringify(hist[0]).slice(0, 300)).toBe('ok');
    expect(hist[0].c.length).toBeGreaterThanOrEqual(ref.bars.get('CME:ESH4')!.length);
    expect(hist[1]).toEqual(hist[0]);
    console.log(`cluster-real: BTCUSDT moved in ${tookMs} ms, resumed from seq ${run.resumedFrom.seq} after ${run.resumedFrom.events} events (restore ${run.resumedFrom.restoreMs} ms); ${want} bars, ${outs.length} output messages`);
  }, 600_000);
});

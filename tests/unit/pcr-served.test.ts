/**
 * PCR served (issue 20 §2): through `tapeflow start` with a Kite feed on a loopback Ticker, each changed PCR
 * report is on GET /api/v1/pcr and is pushed on the `pcr` WS channel under the chain's spot instrument
 * (listed in /api/v1/pcr `symbols` before the first report); an unchanged recomputation is not pushed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { FakeVenue } from '../../engine/src/feeds/testing.js';
import { createLogger } from '../../engine/src/log.js';
import { chainCsv, chainMessage } from '../helpers/kite-chain.js';

const SPOT = 'KITE:NSE:NIFTY 50';
async function waitFor(cond: () => boolean, _e: unknown[], ms: number, what: string): Promise<void> {
  for (const end = Date.now() + ms; !cond();) {
    if (Date.now() > end) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
let app: StartedApp;
let venue: FakeVenue;
let clock = Date.UTC(2026, 11, 4, 4, 0);
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-pcr-ws-'));
const env = { ...process.env };

beforeAll(async () => {
  writeFileSync(join(dir, 'i.csv'), chainCsv());
  Object.assign(process.env, { KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 't', KITE_INSTRUMENTS: join(dir, 'i.csv') });
  venue = await FakeVenue.start();
  writeFileSync(join(dir, 'cfg.yaml'), `feeds:\n  - venue: kite\n    symbols: ["NSE:NIFTY 50"]\n    wsUrl: ${venue.wsBase}\n    kite: { mode: quote, pcr: { underlying: NIFTY, spot: "NSE:NIFTY 50", strikes: 1 } }\n`);
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: null, feeds: true, fallback: false, logger: createLogger({ level: 'error', write: () => {} }), feedDefaults: { backoff: { baseMs: 50, maxMs: 300 }, now: () => clock } });
});
afterAll(async () => {
  await app?.close(); await venue?.close();
  for (const k of ['KITE_API_KEY', 'KITE_ACCESS_TOKEN', 'KITE_INSTRUMENTS']) if (env[k] === undefined) delete process.env[k]; else process.env[k] = env[k];
  rmSync(dir, { recursive: true, force: true });
});

describe('PCR on /api/v1/pcr and the pcr WS channel', () => {
  it('snapshot, then one update per changed report, the same object the HTTP API serves', async () => {
    const sock = await venue.connection(1);
    const before = await (await fetch(`${app.server.url}/api/v1/pcr`)).json() as Record<string, any>;
    expect(before).toEqual({ available: true, symbols: [SPOT], chains: [] });
    const ws = new WebSocket(`${app.server.url.replace('http', 'ws')}/ws`);
    const msgs: Record<string, any>[] = [];
    ws.on('message', (d) => msgs.push(unpack(d as Buffer) as Record<string, any>));
    await new Promise<void>((resolve, reject) => { ws.on('error', reject); ws.on('open', () => resolve()); });
    ws.send(pack({ v: 1, op: 'hello', id: 1 }));
    ws.send(pack({ v: 1, op: 'subscribe', id: 2, ch: 'pcr', sym: SPOT }));
    await waitFor(() => msgs.some((m) => m.op === 'snapshot'), [], 5000, 'pcr snapshot');
    expect(msgs.find((m) => m.op === 'welcome')!.channels).toContain('pcr');
    expect(msgs.find((m) => m.op === 'snapshot')!.d).toEqual({ available: false, items: [] });
    const secs = clock / 1000;
    sock.send(Buffer.from(chainMessage(26_040, 0, secs)));
    const items = (): Record<string, any>[] => msgs.filter((m) => m.op === 'update').map((m) => m.d.item);
    await waitFor(() => items().length === 1, [], 5000, 'first pcr update');
    expect(items()[0]).toMatchObject({ underlying: 'NIFTY', symbol: SPOT, bias: 'neutral', atmStrike: 26000, overall: { pcrOi: 1, pcrVolume: 2 }, changePcrOi: null });
    // the same chain 2 s later: the session change becomes known (0), pushed; once more: nothing changed, not pushed
    clock += 2000;
    sock.send(Buffer.from(chainMessage(26_040, 0, secs + 2)));
    await waitFor(() => items().length === 2, [], 5000, 'second pcr update');
    expect(items()[1]).toMatchObject({ bias: 'neutral', sessionOpenPcrOi: 1, changePcrOi: 0 });
    clock += 2000;
    sock.send(Buffer.from(chainMessage(26_040, 0, secs + 4)));
    await new Promise((r) => setTimeout(r, 600));
    expect(items().length).toBe(2);
    // puts written at the money: strong bullish, pushed
    clock += 2000;
    sock.send(Buffer.from(chainMessage(26_040, 6000, secs + 6)));
    await waitFor(() => items().length === 3, [], 5000, 'third pcr update');
    const b = items()[2]!;
    expect([b.bias, b.nearAtm.pcrOi]).toEqual(['strong bullish', 15000 / 9000]);
    expect(b.changePcrOi).toBeCloseTo(0.4, 12);
    const http = await (await fetch(`${app.server.url}/api/v1/pcr`)).json() as Record<string, any>;
    expect(http.chains).toEqual([b]);
    // a late subscriber gets the latest report in its snapshot
    ws.send(pack({ v: 1, op: 'subscribe', id: 3, ch: 'pcr', sym: SPOT }));
    await waitFor(() => msgs.filter((m) => m.op === 'snapshot').length === 2, [], 5000, 'second snapshot');
    expect(msgs.filter((m) => m.op === 'snapshot')[1]!.d).toEqual({ available: true, items: [b] });
    ws.close();
  });
});

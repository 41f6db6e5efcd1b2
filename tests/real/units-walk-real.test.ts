/**
 * The units walk on a real replay: the Binance USD-M capture (trades + depth) is replayed through the
 * composition root (startApp, real HTTP/WS servers, SQLite store), then every UDF/API route and every
 * WebSocket channel is fetched; every price must lie in the capture's traded range, every size within
 * its traded volume, every text free of tick/lot numbers, and every answer must parse with its
 * /openapi.json response schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { feedEvents, loadReplayEvents } from '../../datafeed-adapter/src/service/serve-replay.js';
import { API_ROUTES } from '../../datafeed-adapter/src/http/api.js';
import { UDF_ROUTES } from '../../datafeed-adapter/src/http/udf.js';
import { RESPONSES } from '../../datafeed-adapter/src/http/responses.js';
import { CHANNELS } from '../../datafeed-adapter/src/ws/protocol.js';
import { dataFile } from '../helpers/data.js';
import { bounds, getJson, queriesFor, walk, wsSnapshots, type Finding, type Tally } from '../helpers/units-walk.js';

const SYM = 'BTCUSDT';
let app: StartedApp;
let dir = '';
let start = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tapeflow-units-real-'));
  writeFileSync(join(dir, 'cfg.yaml'), 'feeds: []\n');
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: join(dir, 'store.sqlite') });
  const { events } = await loadReplayEvents([dataFile('binance/usdm_btcusdt_20240808.gz')], app.engine.registry, { instrument: SYM });
  await feedEvents(events, app.engine.onEvent, 'max').done;
  await app.store?.flush();
  const p = app.engine.pipeline(SYM);
  const inst = p.instrument;
  const all = [...p.bars.map((b) => b.bar), ...(p.openBar && p.openBar.trades ? [p.openBar] : [])];
  bounds.lo = inst.price.toNumber(Math.min(...all.map((b) => b.low)));
  bounds.hi = inst.price.toNumber(Math.max(...all.map((b) => b.high)));
  bounds.totalVolume = inst.qty.toNumber(p.counters.volume);
  start = Math.floor(all[0].start / 3_600_000) * 3_600_000;
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('units walk on the real Binance capture', () => {
  it('every UDF/API route: prices in the traded range, sizes within the traded volume, texts without ticks/lots, typed answers', async () => {
    expect(bounds.lo).toBeGreaterThan(10_000);
    const findings: Finding[] = [];
    const tally: Tally = { prices: 0, sizes: 0, fractionalSizes: 0, texts: 0 };
    const routes = [...Object.values(UDF_ROUTES).map((r) => ({ r, udf: true })), ...API_ROUTES.map((r) => ({ r, udf: false }))];
    for (const { r, udf } of routes) {
      for (const q of queriesFor(r.path, r.params, udf, SYM, start, 2)) {
        const { status, body } = await getJson(`${app.server.url}${q}`);
        expect(status, `${q}: ${JSON.stringify(body).slice(0, 300)}`).toBe(200);
        const parsed = RESPONSES[r.path].safeParse(body);
        expect(parsed.success, `${q}: ${parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))}`).toBe(true);
        walk(body, q, '', null, findings, tally);
      }
    }
    expect(findings.slice(0, 20)).toEqual([]);
    expect(tally.prices).toBeGreaterThan(1000);
    expect(tally.fractionalSizes / tally.sizes).toBeGreaterThan(0.3);
  });

  it('every WebSocket channel snapshot', async () => {
    const snaps = await wsSnapshots(app.server.url, SYM);
    expect(Object.keys(snaps).sort()).toEqual([...CHANNELS].sort());
    const findings: Finding[] = [];
    const tally: Tally = { prices: 0, sizes: 0, fractionalSizes: 0, texts: 0 };
    for (const [ch, d] of Object.entries(snaps)) walk(d, `ws:${ch}`, '', null, findings, tally);
    expect(findings.slice(0, 20)).toEqual([]);
    expect(tally.prices).toBeGreaterThan(50);
  });
});

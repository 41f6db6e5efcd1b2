/**
 * One unit system at every boundary. A simulated BTCUSDT tape (trades, book, scripted absorption /
 * sweep / iceberg / exhaustion / divergence events, across a session change so levels, bias and trades
 * exist) is replayed at full speed through the composition root (startApp: real HTTP server, real
 * WebSocket, real SQLite store). Then EVERY HTTP route of the route tables and EVERY WebSocket channel
 * is fetched, and every field is checked by what it holds:
 *  - prices (price, open…close, poc/vah/val, entry/sl/tp, priceLow/High, levels, quote bid/ask, book
 *    levels, rows…) lie within the traded price range (±3 %); a price in ticks would be 10× too large;
 *  - sizes (volume, delta, cvd, bid/ask volumes, evidence sizes…) are at most the total traded volume
 *    in instrument units, and are not all integers (lots would be);
 *  - texts (reasoning, marks, tooltips, strategy steps) carry no number above the price range and no
 *    "N lots" / "N ticks".
 * Every answer also parses with its response schema from /openapi.json (http/responses.ts).
 * A grep-level check below scans the sources that build user-facing texts for tick/lot wording.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { createDemoSimulators, DEMO_INSTRUMENTS } from '../../engine/src/sim/index.js';
import { API_ROUTES } from '../../datafeed-adapter/src/http/api.js';
import { UDF_ROUTES } from '../../datafeed-adapter/src/http/udf.js';
import { RESPONSES } from '../../datafeed-adapter/src/http/responses.js';
import { CHANNELS } from '../../datafeed-adapter/src/ws/protocol.js';
import { bounds, getJson, queriesFor, walk, wsSnapshots, type Finding, type Tally } from '../helpers/units-walk.js';
import { REPO_ROOT } from '../helpers/data.js';

const SYM = 'BTCUSDT';
const START = Date.UTC(2024, 7, 7, 18, 0, 0);
const HOURS = 10; // crosses 00:00 UTC: a closed session gives levels, bias, session marks
let app: StartedApp;
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tapeflow-units-'));
  writeFileSync(join(dir, 'cfg.yaml'), 'feeds: []\n');
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: join(dir, 'store.sqlite') });
  const [sim] = createDemoSimulators(app.engine.registry, START, 5, { durationMs: HOURS * 3_600_000, instruments: DEMO_INSTRUMENTS.filter((d) => d.id === SYM), eventsPerHour: 8 });
  sim.run(app.engine.onEvent);
  await app.store?.flush();
  const p = app.engine.pipeline(SYM);
  const inst = p.instrument;
  let l = Infinity, h = -Infinity;
  for (const { bar } of p.bars) { if (bar.low < l) l = bar.low; if (bar.high > h) h = bar.high; }
  if (p.openBar && p.openBar.trades) { l = Math.min(l, p.openBar.low); h = Math.max(h, p.openBar.high); }
  bounds.lo = inst.price.toNumber(l); bounds.hi = inst.price.toNumber(h);
  bounds.totalVolume = inst.qty.toNumber(p.counters.volume);
}, 180_000);

afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('every endpoint and WS channel speaks price units and instrument units', () => {
  it('the tape produced the things to check (signals, levels, a position or a watch, a session change)', async () => {
    expect(app.signals.signals.length).toBeGreaterThan(5);
    expect(bounds.hi).toBeGreaterThan(bounds.lo);
    expect(bounds.lo).toBeGreaterThan(1000); // BTC in price units (ticks would be 10×)
    const st = app.signals.status(SYM)!;
    expect(st.bias).not.toBeNull();
    expect(app.signals.instruments.get(SYM)!.levels.length).toBeGreaterThan(0);
  });

  it('HTTP: every route of the UDF and API tables', async () => {
    const findings: Finding[] = [];
    const tally: Tally = { prices: 0, sizes: 0, fractionalSizes: 0, texts: 0 };
    const visited = new Set<string>();
    const routes = [...Object.values(UDF_ROUTES).map((r) => ({ r, udf: true })), ...API_ROUTES.map((r) => ({ r, udf: false }))];
    for (const { r, udf } of routes) {
      for (const q of queriesFor(r.path, r.params, udf, SYM, START, HOURS)) {
        const { status, body } = await getJson(`${app.server.url}${q}`);
        expect(status, `${q}: ${JSON.stringify(body).slice(0, 300)}`).toBe(200);
        visited.add(r.path);
        // the typed response schema of /openapi.json holds for the real answer
        const parsed = RESPONSES[r.path].safeParse(body);
        expect(parsed.success, `${q}: ${parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))}`).toBe(true);
        walk(body, q, '', null, findings, tally);
      }
    }
    expect(visited.size).toBe(routes.length);
    expect(findings.slice(0, 20)).toEqual([]);
    // the walk really looked at values of each kind
    expect(tally.prices).toBeGreaterThan(1000);
    expect(tally.sizes).toBeGreaterThan(1000);
    expect(tally.fractionalSizes / tally.sizes).toBeGreaterThan(0.3);
    expect(tally.texts).toBeGreaterThan(20);
  });

  it('the signal, level and trade-state payloads are in price units (the reported defects)', async () => {
    const sig = (await getJson(`${app.server.url}/api/v1/signals?symbol=${SYM}&from=${START}&to=${START + HOURS * 3_600_000}`)).body as { signals: { text: string; data: { priceLow: number; priceHigh: number } }[] };
    expect(sig.signals.length).toBeGreaterThan(5);
    for (const s of sig.signals) {
      expect(s.data.priceLow).toBeGreaterThanOrEqual(bounds.lo * 0.97);
      expect(s.data.priceHigh).toBeLessThanOrEqual(bounds.hi * 1.03);
      expect(s.text).not.toMatch(/\blots?\b|\bticks?\b/);
    }
    const lv = (await getJson(`${app.server.url}/api/v1/levels?symbol=${SYM}`)).body as { levels: { price: number }[]; session: { poc: number } };
    expect(lv.levels.length).toBeGreaterThan(0);
    for (const l of lv.levels) expect(l.price).toBeGreaterThanOrEqual(bounds.lo * 0.97);
    // the session POC and the qualified levels are on the same scale
    expect(Math.abs(Math.log10(lv.levels[0].price / lv.session.poc))).toBeLessThan(0.05);
  });

  it('WebSocket: a snapshot of every channel', async () => {
    const snaps = await wsSnapshots(app.server.url, SYM);
    expect(Object.keys(snaps).sort()).toEqual([...CHANNELS].sort());
    const findings: Finding[] = [];
    const tally: Tally = { prices: 0, sizes: 0, fractionalSizes: 0, texts: 0 };
    for (const [ch, d] of Object.entries(snaps)) {
      expect((d as { op?: string }).op, `${ch}: ${JSON.stringify(d).slice(0, 200)}`).not.toBe('error');
      walk(d, `ws:${ch}`, '', null, findings, tally);
    }
    expect(findings.slice(0, 20)).toEqual([]);
    expect(tally.prices).toBeGreaterThan(100);
    expect(tally.sizes).toBeGreaterThan(100);
  });

  it('WebSocket: live signal and trade_state items are in price units', async () => {
    const ws = new WebSocket(`${app.server.url.replace('http', 'ws')}/ws`);
    const items: Record<string, unknown[]> = { signal: [], trade_state: [], bias: [] };
    const subs = new Map<number, string>();
    ws.on('message', (d) => {
      const m = unpack(d as Buffer) as Record<string, any>;
      if (m.op === 'snapshot') subs.set(m.sub as number, m.ch as string);
      if (m.op === 'update') {
        const ch = subs.get(m.sub as number);
        if (ch) items[ch].push(m.d);
      }
    });
    await new Promise<void>((resolve) => ws.on('open', () => {
      ws.send(pack({ v: 1, op: 'hello', id: 1 }));
      ['signal', 'trade_state', 'bias'].forEach((ch, k) => ws.send(pack({ v: 1, op: 'subscribe', id: 100 + k, ch, sym: SYM })));
      setTimeout(resolve, 300);
    }));
    // more tape: signals and transitions published live
    const [sim] = createDemoSimulators(app.engine.registry, START + HOURS * 3_600_000 + 1000, 9, { durationMs: 3 * 3_600_000, instruments: DEMO_INSTRUMENTS.filter((d) => d.id === SYM), eventsPerHour: 12 });
    sim.run(app.engine.onEvent);
    await new Promise((r) => setTimeout(r, 1000));
    ws.close();
    expect(items.signal.length).toBeGreaterThan(0);
    const p = app.engine.pipeline(SYM);
    for (const { bar } of p.bars) { bounds.hi = Math.max(bounds.hi, p.instrument.price.toNumber(bar.high)); bounds.lo = Math.min(bounds.lo, p.instrument.price.toNumber(bar.low)); }
    bounds.totalVolume = p.instrument.qty.toNumber(p.counters.volume);
    const findings: Finding[] = [];
    const tally: Tally = { prices: 0, sizes: 0, fractionalSizes: 0, texts: 0 };
    for (const [ch, list] of Object.entries(items)) walk(list, `ws-live:${ch}`, '', null, findings, tally);
    expect(findings.slice(0, 20)).toEqual([]);
    expect(tally.prices).toBeGreaterThan(0);
  });
});

// ───────────────────────────── grep-level check ─────────────────────────────

/** Source files that build texts users read: signal reasoning, transitions, alerts, marks, views, pages. */
const TEXT_SOURCES = ['engine/src/signals', 'engine/src/alerts', 'datafeed-adapter/src', 'indicators', 'examples'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('grep: no user-facing string carries tick or lot integers', () => {
  it('no template literal or string in the text-building sources writes "… lots" / "… ticks" (except the raw-unit fallback)', () => {
    const hits: string[] = [];
    for (const root of TEXT_SOURCES) {
      for (const f of files(join(REPO_ROOT, root))) {
        if (f.endsWith('engine/src/signals/units.ts')) continue; // RAW_UNITS: the labelled fallback for instrument-less unit tests
        readFileSync(f, 'utf8').split('\n').forEach((line, k) => {
          const code = line.replace(/\/\/.*$/, '');
          if (/^\s*(\*|\/\*)/.test(code)) return; // doc comments
          // a number or an interpolation followed by the words lots / ticks inside a string or template
          if (/(\$\{[^}]+\}|\d)\s*(lots?|ticks?)\b/.test(code) && /[`'"]/.test(code)) hits.push(`${f.slice(REPO_ROOT.length + 1)}:${k + 1}: ${line.trim()}`);
        });
      }
    }
    expect(hits).toEqual([]);
  });
});

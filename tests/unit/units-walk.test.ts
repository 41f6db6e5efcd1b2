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
import { EVIDENCE_UNITS } from '../../engine/src/signals/types.js';
import { REPO_ROOT } from '../helpers/data.js';

const SYM = 'BTCUSDT';
const START = Date.UTC(2024, 7, 7, 18, 0, 0);
const HOURS = 10; // crosses 00:00 UTC: a closed session gives levels, bias, session marks
let app: StartedApp;
let dir = '';
let lo = 0, hi = 0, totalVolume = 0;

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
  lo = inst.price.toNumber(l); hi = inst.price.toNumber(h);
  totalVolume = inst.qty.toNumber(p.counters.volume);
}, 180_000);

afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ───────────────────────────── field classification ─────────────────────────────

const PRICE_KEYS = new Set(['price', 'open', 'high', 'low', 'close', 'poc', 'vah', 'val', 'last', 'prevClose', 'entry', 'sl', 'tp', 'initialSl', 'exit',
  'priceLow', 'priceHigh', 'level', 'windowLow', 'windowHigh', 'priorExtreme', 'newExtreme', 'vwap', 'peak', 'lp', 'open_price', 'high_price', 'low_price',
  'prev_close_price', 'o', 'h', 'l', 'c', 'upper', 'lower', 'sd1Upper', 'sd1Lower', 'pocPrice', 'vahPrice', 'valPrice', 'lowPrice', 'highPrice']);
const SIZE_KEYS = new Set(['volume', 'buyVolume', 'sellVolume', 'unknownVolume', 'size', 'delta', 'deltaMin', 'deltaMax', 'cvd', 'buy', 'sell', 'unknown',
  'totalVolume', 'sessionVolume', 'v', 'minSize', 'cvdO', 'cvdH', 'cvdL', 'cvdC',
  ...Object.entries(EVIDENCE_UNITS).filter(([, u]) => u === 'size').map(([k]) => k)]);
const TEXT_KEYS = new Set(['text', 'reasoning', 'tooltip', 'detail', 'summary', 'note', 'description']);

interface Finding { where: string; value: unknown; why: string }
interface Tally { prices: number; sizes: number; fractionalSizes: number; texts: number }

function walk(x: unknown, where: string, key: string, parent: Record<string, unknown> | null, out: Finding[], t: Tally): void {
  if (Array.isArray(x)) {
    // tuples: book levels [price, size], wire footprint rows [price, bid, ask, flags], profile rows [price, volume, buy, sell]
    if ((key === 'rows' || key === 'bids' || key === 'asks') && x.length && Array.isArray(x[0])) {
      for (const [k, r] of (x as number[][]).entries()) {
        checkPrice(r[0], `${where}[${k}][0]`, out, t);
        for (let j = 1; j < r.length; j++) if (!(key === 'rows' && r.length === 4 && j === 3 && where.includes('footprint'))) checkSize(r[j], `${where}[${k}][${j}]`, out, t);
      }
      return;
    }
    x.forEach((v, k) => walk(v, `${where}[${k}]`, key, parent, out, t));
    return;
  }
  if (x && typeof x === 'object') {
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) walk(v, `${where}.${k}`, k, x as Record<string, unknown>, out, t);
    return;
  }
  if (typeof x === 'string') {
    if (TEXT_KEYS.has(key)) { t.texts++; checkText(x, where, out); }
    return;
  }
  if (typeof x !== 'number') return;
  const rowLike = parent !== null && 'price' in parent;
  // footprint / profile rows: bid and ask are volumes; a quote's bid/ask are prices
  if ((key === 'bid' || key === 'ask') && rowLike) { checkSize(x, where, out, t); return; }
  if (key === 'bid' || key === 'ask' || key === 'spread') { if (key !== 'spread') checkPrice(x, where, out, t); return; }
  if (where.includes('.cvd.') || where.includes('.cvd[')) { checkSize(x, where, out, t); return; }
  if (PRICE_KEYS.has(key)) { checkPrice(x, where, out, t); return; }
  if (SIZE_KEYS.has(key)) checkSize(x, where, out, t);
}

function checkPrice(v: unknown, where: string, out: Finding[], t: Tally): void {
  if (typeof v !== 'number') return;
  t.prices++;
  if (!(v >= lo * 0.97 && v <= hi * 1.03)) out.push({ where, value: v, why: `price outside the traded range ${lo}…${hi}` });
}

function checkSize(v: unknown, where: string, out: Finding[], t: Tally): void {
  if (typeof v !== 'number') return;
  t.sizes++;
  if (!Number.isInteger(v)) t.fractionalSizes++;
  if (Math.abs(v) > totalVolume * 1.0001) out.push({ where, value: v, why: `size above the total traded volume ${totalVolume} (lots?)` });
}

function checkText(s: string, where: string, out: Finding[]): void {
  if (/\d\s*(lots?|ticks?)\b/.test(s)) out.push({ where, value: s, why: 'text names lots/ticks' });
  // (venue sequence numbers in gap reasons, `U=…` / `lastUpdateId=…`, are ids, not quantities)
  for (const m of s.matchAll(/(?<![\w:/-]|(?:Id|U|u|pu|seq)=)-?\d+(?:\.\d+)?(?![\w:-])/g)) {
    const n = Math.abs(Number(m[0]));
    if (n > hi * 1.05) out.push({ where, value: s, why: `text number ${m[0]} above the price range (ticks or lots?)` });
  }
}

// ───────────────────────────── walking the server ─────────────────────────────

function queriesFor(path: string, params: readonly { name: string; in?: string }[], udf: boolean): string[] {
  const from = udf ? Math.floor(START / 1000) : START;
  const to = udf ? Math.floor((START + HOURS * 3_600_000) / 1000) + 60 : START + HOURS * 3_600_000 + 60_000;
  const v: Record<string, string> = {
    symbol: SYM, symbols: SYM, from: String(from), to: String(to), resolution: '1', countback: '300', limit: '500', depth: '20',
    query: 'BTC', type: '', exchange: '', anchor: String(START + (HOURS - 2) * 3_600_000), sessions: '2', group: '',
  };
  const base = new URLSearchParams();
  for (const p of params) if (p.in !== 'path' && v[p.name] !== undefined && v[p.name] !== '' && !(path === '/api/v1/vwap' && p.name === 'resolution')) base.set(p.name, v[p.name]);
  if (path === '/api/v1/vwap') base.delete('to');
  const q = (extra: Record<string, string> = {}, drop: string[] = []): string => {
    const u = new URLSearchParams(base);
    for (const d of drop) u.delete(d);
    for (const [k, x] of Object.entries(extra)) u.set(k, x);
    return `${path.replace('{symbol}', SYM)}?${u}`;
  };
  switch (path) {
    case '/api/v1/footprint': return [q(), q({ agg: 'tick', size: '200' }), q({ agg: 'volume', size: '20' }), q({ resolution: '5S' }, [])];
    case '/api/v1/profile': return [q({}, ['from', 'to']), q({ type: 'fixed' }), q({ type: 'composite' }, ['from', 'to']), q({ type: 'visible' })];
    case '/api/v1/trades': return [q({}, ['from']), q()];
    case '/api/v1/vwap': return [q({}, ['anchor']), q({ resolution: '1', to: String(START + HOURS * 3_600_000) })];
    case '/history': return [q(), q({ resolution: '1T', countback: '50' }), q({ resolution: '1D' })];
    case '/marks': case '/timescale_marks': return [q(), q({ resolution: '5' })];
    default: return [q()];
  }
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url);
  const txt = await r.text();
  let body: unknown = txt;
  try { body = JSON.parse(txt); } catch { /* /time is text */ }
  return { status: r.status, body };
}

async function wsSnapshots(): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`${app.server.url.replace('http', 'ws')}/ws`);
  const out: Record<string, unknown> = {};
  const want = CHANNELS.length;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`WS snapshots: got ${Object.keys(out).join(', ')}`)), 20_000);
    ws.on('error', reject);
    ws.on('message', (d) => {
      const m = unpack(d as Buffer) as Record<string, any>;
      if (m.op === 'snapshot' || (m.op === 'error' && typeof m.ref === 'number' && m.ref >= 10)) {
        const ch = m.op === 'snapshot' ? (m.ch as string) : CHANNELS[(m.ref as number) - 10];
        out[ch] = m.op === 'snapshot' ? m.d : m;
        if (Object.keys(out).length === want) { clearTimeout(timer); resolve(); }
      }
    });
    ws.on('open', () => {
      ws.send(pack({ v: 1, op: 'hello', id: 1 }));
      CHANNELS.forEach((ch, k) => ws.send(pack({ v: 1, op: 'subscribe', id: 10 + k, ch, sym: SYM, ...(ch === 'bar' || ch === 'footprint' || ch === 'delta' ? { tf: '1' } : {}) })));
    });
  });
  ws.close();
  return out;
}

describe('every endpoint and WS channel speaks price units and instrument units', () => {
  it('the tape produced the things to check (signals, levels, a position or a watch, a session change)', async () => {
    expect(app.signals.signals.length).toBeGreaterThan(5);
    expect(hi).toBeGreaterThan(lo);
    expect(lo).toBeGreaterThan(1000); // BTC in price units (ticks would be 10×)
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
      for (const q of queriesFor(r.path, r.params, udf)) {
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
      expect(s.data.priceLow).toBeGreaterThanOrEqual(lo * 0.97);
      expect(s.data.priceHigh).toBeLessThanOrEqual(hi * 1.03);
      expect(s.text).not.toMatch(/\blots?\b|\bticks?\b/);
    }
    const lv = (await getJson(`${app.server.url}/api/v1/levels?symbol=${SYM}`)).body as { levels: { price: number }[]; session: { poc: number } };
    expect(lv.levels.length).toBeGreaterThan(0);
    for (const l of lv.levels) expect(l.price).toBeGreaterThanOrEqual(lo * 0.97);
    // the session POC and the qualified levels are on the same scale
    expect(Math.abs(Math.log10(lv.levels[0].price / lv.session.poc))).toBeLessThan(0.05);
  });

  it('WebSocket: a snapshot of every channel', async () => {
    const snaps = await wsSnapshots();
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
    let h = hi;
    for (const { bar } of p.bars) h = Math.max(h, p.instrument.price.toNumber(bar.high));
    let l = lo;
    for (const { bar } of p.bars) l = Math.min(l, p.instrument.price.toNumber(bar.low));
    [lo, hi] = [l, h];
    totalVolume = p.instrument.qty.toNumber(p.counters.volume);
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

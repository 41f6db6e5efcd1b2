#!/usr/bin/env node
// Local acceptance check of the Charting Library example against a running TapeFlow server, in Debian
// chromium. The library is licensed separately and never part of this repository: TAPEFLOW_CL_DIR names
// the folder holding your copy's charting_library.standalone.js; it is served at /charting_library/ by a
// loopback proxy that forwards everything else (HTTP + WebSocket) to the TapeFlow server.
//   TAPEFLOW_CL_DIR=/path/to/charting_library node scripts/cl-check.mjs --target http://127.0.0.1:8080 --out /tmp/cl
// Prints one JSON report (page errors, failed requests, realtime evidence per step) and writes screenshots.
import http from 'node:http';
import net from 'node:net';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

const arg = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : d; };
const LIB = process.env.TAPEFLOW_CL_DIR;
if (!LIB || !existsSync(join(LIB, 'charting_library.standalone.js'))) { console.error('set TAPEFLOW_CL_DIR to the folder holding charting_library.standalone.js'); process.exit(2); }
const target = new URL(arg('target', 'http://127.0.0.1:8080'));
const out = arg('out', '/tmp/tapeflow-cl-check');
const symbol = arg('symbol', 'BTCUSDT');
const waitMs = Number(arg('wait', '15000'));
const resolutions = (arg('resolutions', '1,5,15,60,1D')).split(',');
/** resolution of the scroll-back step (pick one with more bars than the first screen holds) */
const scrollRes = arg('scroll-resolution', '1');
mkdirSync(out, { recursive: true });

// the page and the library are served as if from the server's own origin (the server checks Origin)
const sameOrigin = (h) => ({ ...h, host: target.host, ...(h.origin ? { origin: target.origin } : {}), ...(h.referer ? { referer: target.origin + '/' } : {}) });
const TYPES = { '.js': 'text/javascript', '.html': 'text/html', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.woff': 'font/woff' };
const proxy = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/charting_library/')) {
    const f = normalize(join(LIB, decodeURIComponent(url.pathname.slice('/charting_library/'.length))));
    if (!f.startsWith(normalize(LIB)) || !existsSync(f) || !statSync(f).isFile()) { res.statusCode = 404; res.end(); return; }
    res.setHeader('content-type', TYPES[extname(f)] ?? 'application/octet-stream');
    createReadStream(f).pipe(res);
    return;
  }
  const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: sameOrigin(req.headers) }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
  up.on('error', (e) => { res.statusCode = 502; res.end(String(e)); });
  req.pipe(up);
});
proxy.on('upgrade', (req, sock, head) => {
  const up = net.connect(Number(target.port), target.hostname, () => {
    up.write(`${req.method} ${req.url} HTTP/1.1\r\n` + Object.entries(sameOrigin(req.headers)).map(([k, v]) => `${k}: ${v}`).join('\r\n') + '\r\n\r\n');
    if (head.length) up.write(head);
    up.pipe(sock); sock.pipe(up);
  });
  up.on('error', () => sock.destroy()); sock.on('error', () => up.destroy());
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${proxy.address().port}`;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
const report = { origin, pageErrors: [], consoleErrors: [], failed: [], requests: {}, steps: [] };
page.on('pageerror', (e) => report.pageErrors.push(String(e.message ?? e).slice(0, 300)));
page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(m.text().slice(0, 300)); });
page.on('response', (r) => {
  const u = new URL(r.url());
  if (u.pathname.startsWith('/charting_library/')) return;
  const k = u.pathname;
  report.requests[k] = (report.requests[k] ?? 0) + 1;
  if (r.status() >= 400) report.failed.push(`${r.status()} ${u.pathname}${u.search}`.slice(0, 300));
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

await page.goto(`${origin}/charting-library/?lib=/charting_library/&symbol=${encodeURIComponent(symbol)}`);
await page.waitForFunction(() => /studies added/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 60_000 });

/** Main series and every study's last values, from the library's own exportData. */
const snapshot = () => page.evaluate(async () => {
  const chart = window.tvWidget.activeChart();
  let d;
  try { d = await chart.exportData({ includeTime: true, includeSeries: true }); } catch (e) { return { resolution: chart.resolution(), error: String(e.message ?? e), bars: 0, studies: chart.getAllStudies().map((s) => s.name), drawn: {} }; }
  const last = d.data[d.data.length - 1];
  const cols = d.schema.map((s) => (s.type === 'value' ? `${s.sourceTitle ?? s.sourceType}:${s.plotTitle}` : s.type));
  const studies = chart.getAllStudies().map((s) => s.name);
  // a study column "draws" when it has at least one finite value among the last 50 rows
  const rows = d.data.slice(-50);
  const drawn = {};
  cols.forEach((c, i) => { if (c !== 'time') drawn[c] = rows.some((r) => Number.isFinite(r[i])); });
  return { resolution: chart.resolution(), bars: d.data.length, firstTime: d.data[0]?.[0], lastTime: last?.[0], last: last ? Object.fromEntries(cols.map((c, i) => [c, last[i]])) : null, studies, drawn };
});

async function step(name, fn) {
  const errs = report.pageErrors.length, failed = report.failed.length;
  await fn?.();
  await sleep(3000);
  const a = await snapshot();
  await sleep(waitMs);
  const b = await snapshot();
  await page.screenshot({ path: join(out, `${name}.png`) });
  const mainKey = Object.keys(b.last ?? {}).find((k) => /close/i.test(k));
  report.steps.push({
    name, resolution: b.resolution, bars: b.bars, error: b.error, firstTime: b.firstTime, studies: b.studies,
    notDrawn: Object.entries(b.drawn).filter(([, v]) => !v).map(([k]) => k),
    realtime: { before: { t: a.lastTime, close: a.last?.[mainKey] }, after: { t: b.lastTime, close: b.last?.[mainKey] }, changed: a.lastTime !== b.lastTime || JSON.stringify(a.last) !== JSON.stringify(b.last) },
    newPageErrors: report.pageErrors.length - errs, newFailed: report.failed.slice(failed),
  });
}

await step('load');
for (const r of resolutions) await step(`res-${r}`, () => page.evaluate((res) => window.tvWidget.activeChart().setResolution(res), r));
await step('res-1-again', () => page.evaluate(() => window.tvWidget.activeChart().setResolution('1')));
// scroll back: drag the price pane to the right a few times (the library asks getBars for older data)
await step('scroll-back', async () => {
  await page.evaluate((res) => window.tvWidget.activeChart().setResolution(res), scrollRes);
  await sleep(3000);
  const hist0 = report.requests['/history'] ?? 0;
  for (let i = 0; i < 4; i++) { await page.mouse.move(500, 400); await page.mouse.down(); await page.mouse.move(1400, 400, { steps: 10 }); await page.mouse.up(); await sleep(800); }
  report.scrollHistoryRequests = (report.requests['/history'] ?? 0) - hist0;
});
console.log(JSON.stringify(report, null, 1));
await browser.close();
proxy.close();

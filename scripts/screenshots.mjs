// README screenshots from real captures, nothing injected: starts `tapeflow replay <file> --serve`
// (and `tapeflow demo --serve --backfill 10`) on a free port, opens the workstation page in Debian
// chromium (playwright-core) at 1600×900 and 390×844 while the replay plays, and writes
// docs/screenshots/workstation-*.png; the open-trade picture replays the Bybit BTCUSD day with
// docs/screenshots/bybit-noon-sessions.yaml, paused at 13:12 UTC where the strategy holds a long.
// Data: TAPEFLOW_DATA (default ../shared/data).
// Usage: npm run screenshots
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

const DATA = process.env.TAPEFLOW_DATA ?? resolve('../shared/data');
const OUT = resolve('docs/screenshots');
mkdirSync(OUT, { recursive: true });

function serve(args) {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, ['bin/tapeflow.js', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const on = (b) => { out += b; const m = /serving on (http:\/\/[\d.:]+)/i.exec(out) ?? /(http:\/\/127\.0\.0\.1:\d+)/.exec(out); if (m) ok({ p, url: m[1] }); };
    p.stdout.on('data', on); p.stderr.on('data', on);
    p.on('exit', (c) => fail(new Error(`${args.join(' ')} exited ${c}: ${out.slice(-500)}`)));
  });
}

async function shoot(browser, url, name, w, h, waitMs) {
  const page = await browser.newPage({ viewport: { width: w, height: h } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => window.tapeflow?.ready === true, null, { timeout: 60_000 });
  await page.waitForTimeout(waitMs);
  const file = `${OUT}/${name}-${w}x${h}.png`;
  await page.screenshot({ path: file });
  console.log(`${file}${errors.length ? `  console errors: ${errors.join(' | ')}` : ''}`);
  await page.close();
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const file = `${DATA}/binance/usdm_btcusdt_20240808.gz`;
  /** the replay transport: wait until the files are loaded, then pause and seek to `ts` (data time) */
  const pauseAt = async (url, ts) => {
    const post = (b) => fetch(`${url}/replay`, { method: 'POST', body: JSON.stringify(b) });
    for (let i = 0; i < 100 && !(await fetch(`${url}/replay`)).ok; i++) await new Promise((r) => setTimeout(r, 200));
    await post({ op: 'pause' });
    await post({ op: 'seek', ts });
  };
  // one replay, paused at 23:58:30 (the same picture on every run and machine), both viewports
  const r = await serve(['replay', file, '--serve', '--speed', '30']);
  try {
    await pauseAt(r.url, Date.UTC(2024, 7, 8, 23, 58, 30));
    for (const [w, h] of [[1600, 900], [390, 844]]) await shoot(browser, `${r.url}/?symbol=BTCUSDT&tf=1&bars=600`, 'workstation-usdm-btcusdt', w, h, 2000);
  } finally { r.p.kill('SIGINT'); }
  // the strategy's open trade (entry / SL / TP lines from the trade-state machine and the paper trader)
  const o = await serve(['replay', `${DATA}/bybit/BTCUSD2019-10-01.csv.gz`, '--config', 'docs/screenshots/bybit-noon-sessions.yaml', '--serve', '--speed', '1']);
  try {
    await pauseAt(o.url, Date.UTC(2019, 9, 1, 13, 12));
    await shoot(browser, `${o.url}/?symbol=BYBIT:BTCUSD&tf=1&bars=300&big=100000`, 'workstation-bybit-open-trade', 1600, 900, 2000);
  } finally { o.p.kill('SIGINT'); }
  const d = await serve(['demo', '--serve', '--backfill', '10']);
  try {
    for (const [w, h] of [[1600, 900], [390, 844]]) await shoot(browser, `${d.url}/?tf=1`, 'workstation-demo', w, h, 6000);
  } finally { d.p.kill('SIGINT'); }
} finally {
  await browser.close();
}

/**
 * No overlapping text on the workstation's price pane (issue 17), in Debian chromium, nothing injected:
 * the real USD-M capture (`tapeflow replay … --serve`, paused at 23:58:30 as `npm run screenshots` does)
 * and the demo (`tapeflow demo --serve --backfill 10`, its history without the live stream), each at 1600×900 and 390×844 and at two zooms.
 * Every text box on the pane (tests/helpers/pane-texts.ts: right-edge tags or LWC titles of VWAP, ±σ and
 * the open trade, the profiles' "POC", the signal labels) is measured from the chart's own mapping; no two
 * intersect, and no profile text or signal label lies on a footprint bar body (its cell numbers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, CHROMIUM_ARGS } from '../browser/global-setup.js';
import { dataFile, REPO_ROOT } from '../helpers/data.js';
import { serveReplay } from '../helpers/replay-serve.js';
import { collisions, paneTexts } from '../helpers/pane-texts.js';

let browser: Browser;
const procs: ChildProcess[] = [];
const errors: string[] = [];

function serveDemo(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['bin/tapeflow.js', 'demo', '--serve', '--backfill', '10', '--port', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((ok, fail) => {
    let out = '';
    const on = (b: Buffer): void => { out += b; const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out); if (m) ok({ proc, url: m[1] }); };
    proc.stdout!.on('data', on); proc.stderr!.on('data', on);
    proc.on('exit', (c) => fail(new Error(`demo exited ${c}: ${out}`)));
  });
}

async function open(url: string, w: number, h: number): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: w, height: h } });
  p.on('console', (m) => { if (m.type() === 'error') errors.push(`${w}x${h}: ${m.text()}`); });
  p.on('pageerror', (e) => errors.push(`${w}x${h}: ${String(e)}`));
  await p.goto(url);
  await p.waitForFunction(() => (window as any).tapeflow?.ready === true, null, { timeout: 60_000 });
  return p;
}

/** the page as loaded, then the newest `bars` bars in view with the price axis autoscaled */
async function check(p: Page, name: string): Promise<{ texts: number; kinds: Record<string, number> }> {
  const kinds: Record<string, number> = {};
  let texts = 0;
  for (const bars of [0, 12, 40]) {
    if (bars) await p.evaluate((k) => { const tf = (window as any).tapeflow, n = tf.of.footprint.prepared.bars.length; tf.chart.timeScale().setVisibleLogicalRange({ from: n - k, to: n + 1 }); tf.of.footprint.series.priceScale().setAutoScale(true); }, bars);
    await p.waitForTimeout(500);
    const g = await paneTexts(p);
    const bad = collisions(g);
    expect(bad, `${name}, ${bars || 'as loaded'}: ${bad.join('; ')}`).toEqual([]);
    for (const t of g.texts) kinds[t.kind] = (kinds[t.kind] ?? 0) + 1;
    texts += g.texts.length;
    await p.screenshot({ path: `artifacts/workstation-texts-${name}-${bars || 'loaded'}.png` });
  }
  return { texts, kinds };
}

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
}, 60_000);
afterAll(async () => { await browser?.close(); for (const p of procs) p.kill('SIGINT'); });

describe('workstation price pane: no two texts overlap (real USD-M capture and demo, nothing injected)', () => {
  it('on the real USD-M capture, paused at 23:58:30, 1600×900 and 390×844', async () => {
    const { proc, url } = await serveReplay([dataFile('binance/usdm_btcusdt_20240808.gz'), '--speed', '30']);
    procs.push(proc);
    const post = (b: unknown) => fetch(`${url}/replay`, { method: 'POST', body: JSON.stringify(b) });
    for (let i = 0; i < 100 && !(await fetch(`${url}/replay`)).ok; i++) await new Promise((r) => setTimeout(r, 200));
    await post({ op: 'pause' });
    await post({ op: 'seek', ts: Date.UTC(2024, 7, 8, 23, 58, 30) });
    for (const [w, h] of [[1600, 900], [390, 844]] as const) {
      const p = await open(`${url}/?symbol=BTCUSDT&tf=1&bars=600`, w, h);
      await p.waitForTimeout(1500);
      const r = await check(p, `usdm-${w}x${h}`);
      // what was measured: the VWAP / σ tags, the profiles' POC and the signal labels are all on the pane
      expect(r.kinds.tag ?? 0, JSON.stringify(r.kinds)).toBeGreaterThan(0);
      expect(r.kinds.profile ?? 0, JSON.stringify(r.kinds)).toBeGreaterThan(0);
      expect(r.kinds.signal ?? 0, JSON.stringify(r.kinds)).toBeGreaterThan(0);
      await p.close();
    }
  }, 180_000);

  // the demo's history as the page loads it (stream=0: no live update moves the chart between the page's layout and the reading)
  it('on the demo (simulated market), 1600×900 and 390×844', async () => {
    const { proc, url } = await serveDemo();
    procs.push(proc);
    for (const [w, h] of [[1600, 900], [390, 844]] as const) {
      const p = await open(`${url}/?tf=1&stream=0`, w, h);
      await p.waitForTimeout(1000);
      const r = await check(p, `demo-${w}x${h}`);
      expect(r.kinds.tag ?? 0, JSON.stringify(r.kinds)).toBeGreaterThan(0);
      expect(r.kinds.profile ?? 0, JSON.stringify(r.kinds)).toBeGreaterThan(0);
      await p.close();
    }
  }, 180_000);

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});

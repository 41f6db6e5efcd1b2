/**
 * No overlapping text on the workstation's price pane (issue 17), in Debian chromium, nothing injected:
 * the real USD-M capture (`tapeflow replay … --serve`, paused at 23:58:30 as `npm run screenshots` does)
 * and the demo (`tapeflow demo --serve --backfill 10`, its history without the live stream), each at 1600×900 and 390×844 and at two zooms.
 * Every text box on the pane (tests/helpers/pane-texts.ts: right-edge tags or LWC titles of VWAP, ±σ and
 * the open trade, the profiles' "POC", the signal labels) is measured from the chart's own mapping; no two
 * intersect, and no profile text or signal label lies on a footprint bar body (its cell numbers).
 * The price, CVD and Δ panes' axes as Lightweight Charts drew them (tests/helpers/axis-texts.ts, from the
 * canvas calls): no tick label under a last-value or price-line label, at each of those views and at 1280×720,
 * 800×600 and 2560×1440. The TradingView attribution is the page's footer link, over nothing: no logo on
 * the chart's panes, the footer whole on screen and nothing drawn over it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, CHROMIUM_ARGS } from '../browser/global-setup.js';
import { dataFile, REPO_ROOT } from '../helpers/data.js';
import { serveReplay } from '../helpers/replay-serve.js';
import { collisions, paneTexts } from '../helpers/pane-texts.js';
import { axisOverlaps, axisTexts, recordCanvasText } from '../helpers/axis-texts.js';

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
  await p.addInitScript(recordCanvasText);
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
    await checkAxes(p, `${name}, ${bars || 'as loaded'}`);
  }
  await checkAttribution(p, name);
  return { texts, kinds };
}

/** the price (pane 0), CVD (pane 1) and Δ (pane 2) axes: ticks and the last-value label drawn, no tick label under a label */
let drawn = 0;
async function checkAxes(p: Page, name: string): Promise<void> {
  for (const [pane, what] of [[0, 'price'], [1, 'CVD'], [2, 'Δ']] as const) {
    const a = await axisOverlaps(p, pane, what);
    expect.soft(a.labels, `${name}: ${what} last-value label drawn`).toBeGreaterThan(0);
    // the scale has ticks (a short pane's only tick may be the one left blank under the label)
    expect.soft(a.drawn + a.blank, `${name}: ${what} ticks`).toBeGreaterThan(0);
    expect.soft(a.bad, `${name}: ${a.bad.join('; ')}`).toEqual([]);
    drawn += a.drawn;
  }
}

/** other viewport sizes, the newest bars as loaded: the CVD / Δ axes as in checkAxes */
async function checkAxesAt(p: Page, name: string): Promise<void> {
  for (const [w, h] of [[1280, 720], [800, 600], [2560, 1440]] as const) {
    await p.setViewportSize({ width: w, height: h });
    await p.waitForTimeout(500);
    await checkAxes(p, `${name} at ${w}×${h}`);
    await checkAttribution(p, `${name} at ${w}×${h}`);
  }
}

/**
 * The price / CVD / Δ scales held (autoscale off, as after a drag on the axis) while the view steps back bar by
 * bar: the last-value labels follow the newest visible bar, the scales' ranges stay.
 */
async function checkAxesPanned(p: Page, name: string): Promise<void> {
  await p.evaluate(() => { const tf = (window as any).tapeflow, n = tf.of.footprint.prepared.bars.length; tf.chart.timeScale().setVisibleLogicalRange({ from: n - 30, to: n + 1 }); });
  await p.waitForTimeout(300);
  await p.evaluate(() => { const of = (window as any).tapeflow.of; for (const s of [of.footprint.series, of.delta.cvd, of.delta.delta]) s.priceScale().setAutoScale(false); });
  const labels = new Set<string>();
  for (let k = 1; k <= 12; k++) {
    await p.evaluate(() => { const ts = (window as any).tapeflow.chart.timeScale(), r = ts.getVisibleLogicalRange(); ts.setVisibleLogicalRange({ from: r.from - 1, to: r.to - 1 }); });
    await p.waitForTimeout(150);
    for (const pane of [0, 1, 2]) for (const l of (await axisTexts(p, pane)).labels) labels.add(`${pane}:${l.text}@${Math.round(l.y)}`);
    await checkAxes(p, `${name}, scales held, view ${k} bars back`);
  }
  expect.soft(labels.size, `${name}: the last-value labels moved as the view stepped back`).toBeGreaterThan(4);
  await p.evaluate(() => { const of = (window as any).tapeflow.of; for (const s of [of.footprint.series, of.delta.cvd, of.delta.delta]) s.priceScale().setAutoScale(true); });
}

/**
 * The Lightweight Charts licence's attribution (its NOTICE text and a link to tradingview.com) is the
 * page's footer: whole inside the viewport, off the chart, nothing drawn over it; the chart draws no
 * logo of its own over its panes.
 */
async function checkAttribution(p: Page, name: string): Promise<void> {
  const r = await p.evaluate(() => {
    const foot = document.getElementById('foot')!, a = foot.querySelector('a[href="https://www.tradingview.com/"]') as HTMLElement | null;
    const f = foot.getBoundingClientRect(), c = document.getElementById('chartwrap')!.getBoundingClientRect();
    const ar = a?.getBoundingClientRect();
    return {
      logos: document.querySelectorAll('#chart a#tv-attr-logo, #chart a[href*="tradingview.com"]').length,
      text: foot.textContent ?? '', link: !!a,
      inView: f.top >= 0 && f.bottom <= innerHeight + 0.5 && f.left >= 0 && f.right <= innerWidth + 0.5 && foot.scrollWidth <= foot.clientWidth,
      offChart: f.top >= c.bottom - 0.5 || f.bottom <= c.top + 0.5,
      // the topmost element at the link's centre is the link itself
      onTop: !!ar && a!.contains(document.elementFromPoint(ar.left + ar.width / 2, ar.top + ar.height / 2)),
    };
  });
  expect.soft(r.logos, `${name}: a TradingView logo on the chart's panes`).toBe(0);
  expect.soft(r.text, name).toContain('TradingView Lightweight Charts');
  expect.soft(r.text, name).toMatch(/Copyright \(c\) 2023 TradingView, Inc\./);
  expect.soft(r, name).toMatchObject({ link: true, inView: true, offChart: true, onTop: true });
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
      if (w === 1600) await checkAxesAt(p, `usdm-${w}x${h}`);
      else await checkAxesPanned(p, `usdm-${w}x${h}`);
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
      if (w === 1600) await checkAxesAt(p, `demo-${w}x${h}`);
      await p.close();
    }
    // live: the stream moves the last values every update, the scales' ranges only now and then
    const p = await open(`${url}/?tf=1`, 390, 844);
    const seen = new Set<number>();
    for (let k = 0; k < 8; k++) {
      await p.waitForTimeout(700);
      seen.add(await p.evaluate(() => (window as any).tapeflow.of.delta.delta.lastValueData(false).price));
      await checkAxes(p, `demo live 390×844, read ${k}`);
    }
    expect(seen.size, 'the live Δ value moved while the axes were read').toBeGreaterThan(1);
    await p.close();
  }, 180_000);

  it('drew price / CVD / Δ tick labels (the axis checks measured real text)', () => {
    expect(drawn).toBeGreaterThan(20);
  });

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});

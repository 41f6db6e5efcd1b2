/**
 * The workstation's time & sales panel (examples/lightweight-charts/panels/tape.ts) in Debian Chromium
 * with the page's own stylesheet: a burst of trades is drawn once per animation frame, only the rows in
 * view, on the tape's canvas (read back from its fillText calls): newest first, aggressor colours, big
 * trades highlighted. The buffer stays bounded, scrolling shows older trades, and hovering pauses it
 * until the pointer leaves; while paused (hover, keyboard focus, a selection in it) the rows are also text
 * a user can select and copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/data.js';
import { ensureChromium, CHROMIUM_ARGS } from './global-setup.js';
import { recordCanvasText } from '../helpers/axis-texts.js';

let browser: Browser;
let page: Page;
const errors: string[] = [];
const frame = (): Promise<void> => page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0))));
/**
 * The rows as drawn: the tape canvas's fillText calls since its last clear (recordCanvasText), grouped by line,
 * with the class the colour and weight stand for; checked against the panel's own text of what it drew (`shown`).
 */
const rows = async (): Promise<{ text: string; cls: string; top: number }[]> => {
  const r = await page.evaluate(() => {
    const c = document.querySelector('#panel-tape canvas') as HTMLCanvasElement;
    const log = ((window as any).__canvasText as Map<HTMLCanvasElement, { text: string; x: number; y: number; color: string; font: string }[]>).get(c) ?? [];
    const lines = new Map<number, typeof log>();
    for (const t of log) { const k = Math.round(t.y); if (!lines.has(k)) lines.set(k, []); lines.get(k)!.push(t); }
    const top = c.getBoundingClientRect().top, cs = getComputedStyle(c.previousElementSibling!);
    const side = (color: string): string => color === cs.getPropertyValue('--tape-buy').trim() ? 'buy' : color === cs.getPropertyValue('--tape-sell').trim() ? 'sell' : 'unk';
    const drawn = [...lines.entries()].sort((a, b) => a[0] - b[0]).map(([y, ts]) => {
      ts.sort((a, b) => a.x - b.x);
      return { text: ts.map((t) => t.text).join(' '), cls: `${side(ts[0].color)}${/\b(700|bold)\b/.test(ts[0].font) ? ' big' : ''}`, top: top + y - 8 };
    });
    return { drawn, shown: (window as any).tape.shown as { text: string; cls: string }[] };
  });
  expect(r.drawn.map(({ text, cls }) => ({ text, cls }))).toEqual(r.shown);
  return r.drawn;
};

beforeAll(async () => {
  const js = await build({ bundle: true, write: false, platform: 'browser', target: 'es2020', format: 'iife', globalName: 'Tape', entryPoints: [join(REPO_ROOT, 'examples/lightweight-charts/panels/tape.ts')], logLevel: 'warning' });
  const css = /<style>([\s\S]*?)<\/style>/.exec(readFileSync(join(REPO_ROOT, 'examples/lightweight-charts/index.html'), 'utf8'))![1];
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 800, height: 700 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.addInitScript(recordCanvasText);
  // an http origin (the panel keeps its open/closed state in localStorage)
  await page.route('http://tape.test/', (r) => r.fulfill({ contentType: 'text/html', body: `<!doctype html><html><head><style>${css}</style></head><body><div id="side" style="width:340px"></div></body></html>` }));
  await page.goto('http://tape.test/');
  await page.addScriptTag({ content: js.outputFiles[0].text });
  await page.evaluate(() => { localStorage.clear(); (window as any).tape = new (window as any).Tape.TapePanel(document.getElementById('side'), 1, 200); });
  // the list's first ResizeObserver callback (its height) schedules a frame of its own: let it pass
  // before counting renders (on a loaded machine it can land in the burst's frame or the next one)
  await page.waitForFunction(() => (window as any).tape.height > 0);
  await frame();
}, 60_000);

afterAll(async () => { await browser?.close(); });

/** trade i: price 100 + i/100, size 2 when i % 10 === 0 (big at threshold 1) else 0.5, buyer on even i */
const add = (from: number, n: number, batches = 1): Promise<void> => page.evaluate(([from, n, batches]) => {
  const per = Math.ceil(n / batches);
  for (let b = 0; b < batches; b++) {
    const tr = [];
    for (let i = from + b * per; i < Math.min(from + n, from + (b + 1) * per); i++) tr.push([Date.UTC(2024, 7, 8, 12, 0, 0) + i, 100 + i / 100, i % 10 === 0 ? 2 : 0.5, i % 2 === 0 ? 1 : -1, i]);
    (window as any).tape.add(tr);
  }
}, [from, n, batches]);

describe('time & sales panel', () => {
  it('draws a burst once per frame into only the rows in view, newest first, with colours and big-trade highlights', async () => {
    const r0 = await page.evaluate(() => (window as any).tape.renders);
    await add(0, 5000, 100);
    await frame();
    const st = await page.evaluate(() => ({ renders: (window as any).tape.renders, size: (window as any).tape.size, received: (window as any).tape.received, big: (window as any).tape.big, h: document.querySelector('.tape')!.clientHeight }));
    expect(st.renders - r0).toBe(1);
    expect(st.received).toBe(5000);
    expect(st.big).toBe(500);
    expect(st.size).toBeGreaterThanOrEqual(200);
    expect(st.size).toBeLessThanOrEqual(400);
    const rs = await rows();
    // only the rows in view are drawn: 260 px / 16 px rows (+1 partly shown)
    expect(rs.length).toBe(Math.ceil(st.h / 16) + 1);
    expect(rs[0].text).toBe('12:00:04 149.99 0.5');
    expect(rs[0].cls).toBe('sell');
    expect(rs[9].text).toBe('12:00:04 149.9 2');
    expect(rs[9].cls).toBe('buy big');
    // rows are 16 px apart
    expect(rs[1].top - rs[0].top).toBe(16);
  });

  it('shows older trades when scrolled, from the same bounded buffer', async () => {
    await page.evaluate(() => { document.querySelector('.tape')!.scrollTop = 100 * 16; });
    await frame();
    const rs = await rows();
    const inView = await page.evaluate(() => { const t = document.querySelector('.tape')!.getBoundingClientRect(); return t.top; });
    const first = rs.find((r) => r.top >= inView - 1)!;
    // 100 rows below the newest (4999): trade 4899
    expect(first.text).toBe('12:00:04 148.99 0.5');
    // scrolled away from the newest row it holds still (no hover needed: a touch screen has none)
    expect(await page.evaluate(() => (window as any).tape.isPaused)).toBe(true);
    await add(5000, 3);
    await frame();
    expect((await rows()).find((r) => r.top >= inView - 1)!.text).toBe('12:00:04 148.99 0.5');
    await page.evaluate(() => { document.querySelector('.tape')!.scrollTop = 0; });
    await frame();
    // back at the top: live again, with what arrived meanwhile
    expect(await page.evaluate(() => (window as any).tape.isPaused)).toBe(false);
    expect((await rows())[0].text).toBe('12:00:05 150.02 0.5');
  });

  it('pauses while hovered and shows what arrived on leave', async () => {
    await page.hover('.tape');
    await add(5003, 47);
    await frame();
    expect((await rows())[0].text).toBe('12:00:05 150.02 0.5');
    expect(await page.evaluate(() => (window as any).tape.isPaused)).toBe(true);
    await page.mouse.move(700, 650);
    await frame();
    expect((await rows())[0].text).toBe('12:00:05 150.49 0.5');
    expect(await page.evaluate(() => (window as any).tape.received)).toBe(5050);
    expect(errors).toEqual([]);
  });

  it('while paused lists the rows as text to select and copy (tab-separated), and keyboard focus pauses it too', async () => {
    const textRows = (): Promise<{ n: number; first: string[]; color: string; top: number; h: number }> => page.evaluate(() => {
      const rs = [...document.querySelectorAll('.tape-text > div')] as HTMLElement[];
      const r0 = rs[0]?.getBoundingClientRect();
      return { n: rs.length, first: rs.slice(0, 3).map((r) => [...r.children].map((c) => c.textContent).join(' ')), color: rs[0] ? getComputedStyle(rs[0]).color : '', top: r0?.top ?? 0, h: r0?.height ?? 0 };
    });
    // not paused: no DOM rows (a frame of trades costs no DOM work)
    expect((await textRows()).n).toBe(0);
    await page.hover('.tape');
    await frame();
    const drawn = await rows(), t = await textRows(), size = await page.evaluate(() => (window as any).tape.size);
    // every shown trade (the newest `keep` = 200), newest first, the same text as drawn, on the drawn rows, invisible
    expect(t.n).toBe(Math.min(size, 200));
    expect(t.first).toEqual(drawn.slice(0, 3).map((r) => r.text));
    expect(t.top).toBe(drawn[0].top);
    expect(t.h).toBe(16);
    expect(t.color).toBe('rgba(0, 0, 0, 0)');
    // a real drag across the first three rows selects them; the copy is one line per row, cells tab-separated
    const box = (await page.locator('.tape').boundingBox())!;
    await page.mouse.move(box.x + 1, box.y + 4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 30, box.y + 16 * 2 + 8, { steps: 5 });
    await page.mouse.up();
    const sel = await page.evaluate(() => document.getSelection()!.toString());
    expect(sel.split('\n').map((l) => l.trim())).toEqual(drawn.slice(0, 3).map((r) => r.text.replace(/ /g, '\t')));
    // the pointer leaves with the selection in the tape: still paused (trades are held), until the selection goes
    await page.mouse.move(700, 650);
    await add(7000, 5);
    await frame();
    expect(await page.evaluate(() => (window as any).tape.isPaused)).toBe(true);
    expect((await rows())[0].text).toBe(drawn[0].text);
    // a click elsewhere takes the selection (and the focus the drag gave the list) away
    await page.mouse.click(700, 650);
    // (selectionchange is a task of its own; the held trades are drawn in the frame after it)
    await page.waitForFunction(() => !(window as any).tape.isPaused, null, { timeout: 2000 });
    expect((await textRows()).n).toBe(0);
    await frame();
    expect((await rows())[0].text).toBe('12:00:07 170.04 0.5');
    // a press on something that keeps the selection (a chart canvas prevents the default, so no selectionchange)
    // resumes it too
    await page.evaluate(() => {
      const c = document.createElement('div');
      c.id = 'chartlike'; c.style.cssText = 'position:fixed;left:600px;top:20px;width:150px;height:100px';
      c.addEventListener('mousedown', (e) => e.preventDefault());
      document.body.appendChild(c);
    });
    await page.hover('.tape');
    await page.mouse.move(box.x + 1, box.y + 4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 30, box.y + 8, { steps: 3 });
    await page.mouse.up();
    await page.mouse.move(700, 650);
    expect(await page.evaluate(() => (window as any).tape.isPaused)).toBe(true);
    await page.mouse.click(650, 50);
    expect(await page.evaluate(() => (window as any).tape.isPaused)).toBe(false);
    await page.mouse.click(700, 650);
    await page.evaluate(() => { (document.activeElement as HTMLElement | null)?.blur(); document.getElementById('chartlike')!.remove(); });
    // keyboard: Tab into the list (after the panel's summary) pauses it and lists the rows; Tab out resumes
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('SUMMARY');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('tape');
    expect(await page.evaluate(() => (window as any).tape.isPaused)).toBe(true);
    expect((await textRows()).first[0]).toBe('12:00:07 170.04 0.5');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (window as any).tape.isPaused)).toBe(false);
    // a click focuses the list but does not keep it paused once the pointer has left
    await page.mouse.click(box.x + 20, box.y + 40);
    await page.mouse.move(700, 650);
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('tape');
    expect(await page.evaluate(() => (window as any).tape.isPaused)).toBe(false);
    expect(errors).toEqual([]);
  });

  it('keeps a sharp bitmap when the pixel ratio changes (page zoom, another screen)', async () => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setDeviceMetricsOverride', { width: 800, height: 700, deviceScaleFactor: 2, mobile: false });
    await add(6000, 20);
    await frame();
    const c = await page.evaluate(() => { const c = document.querySelector('#panel-tape canvas') as HTMLCanvasElement; return { w: c.width, h: c.height, cw: c.clientWidth, ch: c.clientHeight, dpr: devicePixelRatio }; });
    expect(c.dpr).toBe(2);
    expect(c).toMatchObject({ w: c.cw * 2, h: c.ch * 2 });
    await cdp.send('Emulation.clearDeviceMetricsOverride');
    await frame();
  });

  it('with the threshold at 0 (auto) highlights the 99th-percentile sizes of its buffer and says so', async () => {
    await page.evaluate(() => { (window as any).tape.clear(); (window as any).tape.threshold = 0; });
    // 1,000 trades of 3 (a contract-sized instrument: a threshold of 1 would mark every row), every
    // 10th of 40: the p99 of the buffer is 40, so only those are big
    await page.evaluate(() => {
      const tr = [];
      for (let i = 0; i < 1000; i++) tr.push([Date.UTC(2024, 7, 8, 13, 0, 0) + i, 200 + i / 100, i % 10 === 0 ? 40 : 3, 1, i]);
      (window as any).tape.add(tr);
    });
    await frame();
    const rs = await rows();
    const big = rs.filter((r) => r.cls.includes('big'));
    expect(big.length).toBeGreaterThan(0);
    expect(big.every((r) => r.text.endsWith(' 40'))).toBe(true);
    expect(rs.filter((r) => r.text.endsWith(' 3')).every((r) => !r.cls.includes('big'))).toBe(true);
    const badge = await page.evaluate(() => document.querySelector('#panel-tape')!.textContent ?? '');
    expect(badge).toContain('big ≥ 40 (auto: p99 of last');
    expect(errors).toEqual([]);
  });
});

/**
 * The published package as an npm user meets it: `npm pack` → `npm install ./tapeflow-*.tgz` in a
 * scratch project, then `npx tapeflow --help`, a Node script replaying a file through `tapeflow/engine`,
 * and both README snippets of indicators/lightweight-charts (ESM with an import map, and the
 * `TapeFlowLWC` iife global) pasted into pages of the scratch project and drawn in Debian Chromium
 * against a real datafeed server. Install is `--offline`-first from npm's cache (`npm ci` filled it)
 * and `--ignore-scripts` (native builds are not what this checks; nothing here opens SQLite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../helpers/data.js';
import { simEngine, type SimFixture } from '../../indicators/testing/sim-bars.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { ensureChromium, CHROMIUM_ARGS } from './global-setup.js';
import { DARK } from '../../indicators/render/theme.js';

const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

let dir = '';
let fx: SimFixture;
let srv: DatafeedServer;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tapeflow-scratch-'));
  // dist/ is already built by tests/global-build.ts: pack without running prepack again
  npm(['pack', '--ignore-scripts', '--pack-destination', dir], REPO_ROOT);
  const tgz = readdirSync(dir).find((f) => /^tapeflow-.*\.tgz$/.test(f));
  if (!tgz) throw new Error('npm pack wrote no tarball');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  const base = ['install', `./${tgz}`, '--ignore-scripts', '--no-audit', '--no-fund'];
  try { npm([...base, '--offline'], dir); } catch { npm([...base, '--prefer-offline'], dir); }
  fx = simEngine(180, 11);
  srv = await createServer({ engine: fx.engine, service: fx.service, port: 0, host: '127.0.0.1', staticDir: dir });
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack → npm install in a scratch project', () => {
  it('ships dist/ and types, and no sources', () => {
    const pkg = join(dir, 'node_modules', 'tapeflow');
    for (const f of ['dist/cli.js', 'dist/engine.js', 'dist/alerts-worker.js', 'dist/tapeflow-lightweight-charts.mjs', 'dist/tapeflow-lightweight-charts.iife.js', 'dist/tapeflow-datafeed.mjs',
      'dist/types/engine/src/index.d.ts', 'dist/types/indicators/lightweight-charts/index.d.ts', 'indicators/lightweight-charts/README.md', 'datafeed-adapter/README.md']) {
      expect(existsSync(join(pkg, f)), f).toBe(true);
    }
    expect(existsSync(join(pkg, 'engine'))).toBe(false);
    expect(existsSync(join(pkg, 'tests'))).toBe(false);
  });

  it('npx tapeflow --help runs with production dependencies only', () => {
    expect(existsSync(join(dir, 'node_modules', 'esbuild'))).toBe(false);
    const r = spawnSync('npx', ['--no-install', 'tapeflow', '--help'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/Cannot find package/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: tapeflow <command>/);
    expect(r.stdout).toMatch(/replay/);
  });

  it('tapeflow/engine replays a file from a plain Node script (no bundler)', () => {
    // 600 trades over 10 minutes: prices 60000.0 … 60059.9, sizes 0.001 … 0.010, alternating sides
    const lines = ['time,price,qty,side'];
    const t0 = Date.UTC(2024, 7, 8, 10, 0, 0);
    let buy = 0, sell = 0;
    for (let k = 0; k < 600; k++) {
      const qty = (k % 10) + 1;
      if (k % 2) sell += qty; else buy += qty;
      lines.push(`${t0 + k * 1000},${(60000 + (k % 600) / 10).toFixed(1)},${(qty / 1000).toFixed(3)},${k % 2 ? 'sell' : 'buy'}`);
    }
    writeFileSync(join(dir, 'trades.csv'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'replay.mjs'), [
      "import { Engine, InstrumentRegistry, replayFile, pipelineReport, VENUES } from 'tapeflow/engine';",
      "const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });",
      "const stats = await replayFile(process.argv[2], engine.onEvent, { registry: engine.registry, instrument: 'BTCUSDT' });",
      'engine.finish();',
      "const r = pipelineReport(engine.pipelines.get('BTCUSDT'));",
      'console.log(JSON.stringify({ format: stats.format, trades: stats.trades, bars: r.bars, volume: r.volume, buy: r.buyVolume, sell: r.sellVolume, checksum: engine.checksum(), venues: VENUES.map((v) => v.id) }));',
    ].join('\n'));
    const out = JSON.parse(execFileSync(process.execPath, ['replay.mjs', 'trades.csv'], { cwd: dir, encoding: 'utf8' }));
    expect(out).toMatchObject({ format: 'generic-csv', trades: 600, bars: 10 });
    expect(out.venues).toContain('binance-usdm');
    expect(out.buy).toBeCloseTo(buy / 1000, 9);
    expect(out.sell).toBeCloseTo(sell / 1000, 9);
    expect(out.volume).toBeCloseTo((buy + sell) / 1000, 9);
    const again = JSON.parse(execFileSync(process.execPath, ['replay.mjs', 'trades.csv'], { cwd: dir, encoding: 'utf8' }));
    expect(again.checksum).toBe(out.checksum);
  });

  it('import("tapeflow/indicators/lightweight-charts") resolves in Node', () => {
    writeFileSync(join(dir, 'imp.mjs'), "const m = await import('tapeflow/indicators/lightweight-charts'); console.log(typeof m.attachOrderFlow, typeof m.fromApiBar);");
    expect(execFileSync(process.execPath, ['imp.mjs'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('function function');
  });

  const snippets = (): string[] => {
    const md = readFileSync(join(REPO_ROOT, 'indicators/lightweight-charts/README.md'), 'utf8');
    return [...md.matchAll(/```html\n([\s\S]*?)```/g)].map((m) => m[1]);
  };

  it.each([['ESM', 0], ['iife (TapeFlowLWC global)', 1]])('the README %s snippet, pasted as a page, draws a readable footprint', async (_name, k) => {
    const html = snippets()[k as number];
    expect(html).toBeTruthy();
    writeFileSync(join(dir, `snippet-${k}.html`), html);
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${srv.url}/snippet-${k}.html`);
    await page.waitForFunction(() => (window as any).orderFlow?.of?.footprint?.bars?.length > 0, null, { timeout: 30_000 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const m = await page.evaluate(() => {
      const { chart, of } = (window as any).orderFlow;
      const heights = chart.panes().map((p: any) => p.getHeight());
      const ts = chart.timeScale();
      const last = of.footprint.bars[of.footprint.bars.length - 1];
      return { heights, spacing: ts.options().barSpacing, width: ts.width(), lastX: ts.timeToCoordinate(Math.floor(last.time / 1000)), bars: of.footprint.bars.length, drawn: of.footprint.view.stats.cells ?? null };
    });
    expect(errors).toEqual([]);
    const total = m.heights.reduce((a: number, b: number) => a + b, 0);
    // the footprint pane is the main one, not a third of the chart
    expect(m.heights[0] / total).toBeGreaterThan(0.65);
    expect(m.spacing).toBeGreaterThanOrEqual(60);
    expect(m.bars).toBeGreaterThan(100);
    // the newest bar is on screen, left of the reserved profile strip
    expect(m.lastX).not.toBeNull();
    expect(m.lastX).toBeLessThan(m.width - 100);
    // real pixels: dark background, and cells in the theme's buy/sell colours in the main pane
    const shot = await page.screenshot({ clip: { x: 0, y: 0, width: 1200, height: Math.floor(m.heights[0]) } });
    const { createCanvas, loadImage } = await import('@napi-rs/canvas');
    const img = await loadImage(shot);
    const c = createCanvas(img.width, img.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, img.width, img.height).data;
    const counts = new Map<string, number>();
    for (let i = 0; i < d.length; i += 4) {
      const h = '#' + [d[i], d[i + 1], d[i + 2]].map((v) => v.toString(16).padStart(2, '0')).join('');
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
    expect(top).toBe('#131722');
    const lit = [...counts.entries()].filter(([h]) => h !== '#131722').reduce((a, [, n]) => a + n, 0);
    expect(lit / (img.width * img.height)).toBeGreaterThan(0.05);
    void DARK;
    await page.close();
  });
});

/**
 * Host-independent renderers in Node: preparation vs the engine's definitions, level of detail, text
 * fitting (never overflows its cell), draw work bounded by visible bars, and the PNG snapshot (decoded:
 * size and POC-row colour).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadImage, createCanvas } from '@napi-rs/canvas';
import { simEngine, apiFootprint, apiProfile, type SimFixture } from '../../indicators/testing/sim-bars.js';
import { fromApiBar, fromApiProfile, prepareSeries, prepareBar, mergeRows, valueAreaOf, profileFromBars } from '../../indicators/render/prepare.js';
import { drawFootprint, detailFor, compact, DEFAULT_FOOTPRINT, ZoneIndex, newStats, type RenderView } from '../../indicators/render/footprint.js';
import { DARK, LIGHT } from '../../indicators/render/theme.js';
import { renderFootprintPng, renderFootprintPngWithLayout } from '../../indicators/render/node-png.js';
import type { Ctx2D, FootprintBarData } from '../../indicators/render/types.js';

let fx: SimFixture;
let bars: FootprintBarData[];

beforeAll(() => {
  fx = simEngine(180, 3);
  bars = apiFootprint(fx).map(fromApiBar);
});

/** A recording Ctx2D with a fixed-width font model (6 px per char at 10px). */
function recorder() {
  const calls = { rect: 0, text: [] as { s: string; x: number; w: number }[] };
  const ctx = {
    fillStyle: '', strokeStyle: '', lineWidth: 1, font: '10px sans-serif', textAlign: 'left', textBaseline: 'middle', globalAlpha: 1,
    fillRect() { calls.rect++; }, strokeRect() { calls.rect++; },
    fillText(s: string, x: number) { calls.text.push({ s, x, w: this.measureText(s).width }); },
    measureText(s: string) { const px = Number(/(\d+)px/.exec(this.font)?.[1] ?? 10); return { width: s.length * px * 0.6 }; },
    beginPath() {}, moveTo() {}, lineTo() {}, closePath() {}, stroke() {}, fill() {}, save() {}, restore() {}, setLineDash() {},
  };
  return { ctx: ctx as unknown as Ctx2D, calls };
}

function view(n: number, spacing: number, lo: number, hi: number, height = 600, from = 0, to = n - 1, pr = 1): RenderView {
  return { hpr: pr, vpr: pr, width: 1000, height, barSpacing: spacing, from, to, priceToY: (p) => ((hi - p) / (hi - lo)) * height, xOf: (i) => (i - from + 0.5) * spacing };
}

describe('preparation', () => {
  it('uses the server per-bar POC and computes the same value area as the engine when absent', () => {
    let checked = 0;
    for (const b of bars) {
      if (b.rows.length < 3 || b.poc == null) continue;
      const withServer = prepareBar(b);
      const own = prepareBar({ ...b, poc: null, vah: null, val: null });
      const rs = b.rowSize;
      expect((withServer.row0 + withServer.poc) * rs).toBeCloseTo(b.poc, 6);
      expect((own.row0 + own.poc) * rs).toBeCloseTo(b.poc, 6);
      expect((own.row0 + own.vah) * rs).toBeCloseTo(b.vah!, 6);
      expect((own.row0 + own.val) * rs).toBeCloseTo(b.val!, 6);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('counts diagonal imbalances like the engine (bar stats from /api/v1/footprint)', () => {
    const api = apiFootprint(fx);
    let checked = 0;
    for (const j of api) {
      const p = prepareBar(fromApiBar(j));
      let buy = 0, sell = 0;
      for (let i = 0; i < p.n; i++) { if (p.imb[i] & 1) buy++; if (p.imb[i] & 2) sell++; }
      expect(buy).toBe(j.buyImbalances);
      expect(sell).toBe(j.sellImbalances);
      checked++;
    }
    expect(checked).toBe(api.length);
  });

  it('value area: POC tie closest to the centre, expansion tie goes up', () => {
    expect(valueAreaOf([1, 5, 5, 1, 0], 5, 0.7)).toEqual({ poc: 2, val: 1, vah: 2, total: 12 });
    expect(valueAreaOf([2, 2, 9, 2, 2], 5, 0.7)).toMatchObject({ poc: 2, val: 2, vah: 4 });
  });

  it('stacked-imbalance zones end at the first later bar that trades into them', () => {
    const mk = (t: number, lo: number, hi: number, rows: [number, number, number][]): FootprintBarData => ({ time: t, open: lo, high: hi, low: lo, close: hi, volume: 1, delta: 0, rowSize: 1, rows: rows.map(([price, bid, ask]) => ({ price, bid, ask })) });
    const s = prepareSeries([
      mk(0, 100, 104, [[100, 1, 0], [101, 1, 9], [102, 1, 9], [103, 1, 9], [104, 1, 1]]),
      mk(1, 106, 108, [[106, 1, 1], [107, 1, 1], [108, 1, 1]]),
      mk(2, 103, 106, [[103, 1, 1], [104, 1, 1], [105, 1, 1], [106, 1, 1]]),
    ]);
    const z = s.zones.find((x) => x.side === 'buy' && x.from === 0)!;
    expect(z).toMatchObject({ low: 101, high: 104, to: 2 });
  });

  it('merges rows into coarser rows without losing volume', () => {
    const b = bars.find((x) => x.rows.length > 6)!;
    const m = mergeRows(b, 5);
    const sum = (x: FootprintBarData) => x.rows.reduce((a, r) => a + r.bid + r.ask, 0);
    expect(m.rowSize).toBeCloseTo(b.rowSize * 5, 9);
    expect(sum(m)).toBeCloseTo(sum(b), 6);
    expect(m.rows.length).toBeLessThan(b.rows.length);
  });
});

describe('footprint renderer', () => {
  it('level of detail follows bar spacing and row height', () => {
    const o = DEFAULT_FOOTPRINT;
    expect(detailFor(1.5, 100, o)).toBe('candles');
    expect(detailFor(14, 100, o)).toBe('full');
    expect(detailFor(14, 40, o)).toBe('compact');
    expect(detailFor(14, 10, o)).toBe('color');
    expect(detailFor(5, 100, o)).toBe('color');
    expect(compact(12345)).toBe('12k');
    expect(compact(1234)).toBe('1.2k');
    expect(compact(2_500_000)).toBe('2.5M');
  });

  it('never draws text wider than its cell', () => {
    const s = prepareSeries(bars.slice(0, 12));
    let lo = Infinity, hi = -Infinity;
    for (const b of bars.slice(0, 12)) { lo = Math.min(lo, b.low); hi = Math.max(hi, b.high + b.rowSize); }
    for (const spacing of [40, 70, 120]) {
      const { ctx, calls } = recorder();
      const v = view(12, spacing, lo - 1, hi + 1);
      drawFootprint(ctx, s, v, { showBarStats: false }, DARK);
      expect(calls.text.length).toBeGreaterThan(0);
      const body = spacing * DEFAULT_FOOTPRINT.bodyFraction;
      for (const t of calls.text) expect(t.w).toBeLessThanOrEqual(body / (DEFAULT_FOOTPRINT.mode === 'bidask' ? 2 : 1));
    }
  });

  it('draw work depends on the visible bars, not the history length', () => {
    const many: FootprintBarData[] = [];
    for (let k = 0; many.length < 50_000; k++) for (const b of bars) { if (many.length >= 50_000) break; many.push({ ...b, time: many.length * 60_000 }); }
    const small = prepareSeries(many.slice(0, 200)), big = prepareSeries(many);
    const lo = Math.min(...bars.map((b) => b.low)) - 1, hi = Math.max(...bars.map((b) => b.high)) + 2;
    const a = recorder(), b = recorder();
    const sa = drawFootprint(a.ctx, small, view(200, 12, lo, hi, 600, 100, 179), {}, DARK, new ZoneIndex(small.zones, 200), newStats());
    const sb = drawFootprint(b.ctx, big, view(50_000, 12, lo, hi, 600, 49_900, 49_979), {}, DARK, new ZoneIndex(big.zones, 50_000), newStats());
    expect(sa.bars).toBe(sb.bars);
    expect(Math.abs(a.calls.rect - b.calls.rect)).toBeLessThan(a.calls.rect * 0.5 + 50);
    expect(b.calls.rect).toBeLessThan(80 * 60 + 200);
  });
});

describe('Node PNG', () => {
  it('renders footprint + profile to a PNG whose POC row carries the POC colour', async () => {
    const sel = bars.slice(30, 42);
    const prof = fromApiProfile(apiProfile(fx));
    const r = renderFootprintPngWithLayout(sel, null, { width: 1100, height: 640, title: 'BTCUSDT 1m (simulator)' });
    expect(r.png.subarray(1, 4).toString()).toBe('PNG');
    mkdirSync('artifacts', { recursive: true });
    writeFileSync('artifacts/indicators-node.png', r.png);
    const img = await loadImage(r.png);
    expect([img.width, img.height]).toEqual([1100, 640]);
    const c = createCanvas(img.width, img.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    // per-bar POC of a bar with several rows: its top edge row is POC-coloured
    const i = sel.findIndex((b) => b.rows.length >= 4 && b.poc != null);
    const b = sel[i];
    const y = Math.round(r.layout.priceToY(b.poc! + b.rowSize));
    const x = Math.round(r.layout.xOf(i));
    const px = ctx.getImageData(x, y, 1, 1).data;
    expect([px[0], px[1], px[2]]).toEqual([0xff, 0xb3, 0x00]);
    // the profile's POC line at the profile POC price, in the profile area
    const p = r.layout.profile!;
    const yp = Math.round(r.layout.priceToY(p.poc! + p.rowSize / 2));
    const line = ctx.getImageData(r.layout.plotWidth + 20, yp - 1, 1, 3).data;
    const found = [0, 4, 8].some((k) => line[k] === 0xff && line[k + 1] === 0xb3 && line[k + 2] === 0x00);
    expect(found).toBe(true);
    // the simpler API returns the same bytes, and the light theme / DPR 2 work
    expect(renderFootprintPng(sel, null, { width: 1100, height: 640, title: 'BTCUSDT 1m (simulator)' }).equals(r.png)).toBe(true);
    const hi = await loadImage(renderFootprintPng(sel, prof, { width: 500, height: 300, pixelRatio: 2, theme: 'light' }));
    expect([hi.width, hi.height]).toEqual([1000, 600]);
    expect(LIGHT.background).toBe('#ffffff');
  });

  it('draws an alert\'s levels (near ones kept in view, far ones pinned to the edge) and its marker at the alert\'s bar', async () => {
    const sel = bars.slice(30, 42);
    const hiPx = Math.max(...sel.map((b) => b.high + b.rowSize)), loPx = Math.min(...sel.map((b) => b.low)), span = hiPx - loPx;
    const entry = sel[8].close, sl = loPx - 0.5 * span, tp = hiPx + 0.5 * span, far = hiPx + 5 * span; // stop and target beyond the bars, one level far away
    const levels = [
      { price: entry, label: `ENTRY ${entry}`, role: 'entry' as const }, { price: sl, label: `SL ${sl}`, role: 'sl' as const },
      { price: tp, label: `TP ${tp}`, role: 'tp' as const }, { price: far, label: `FAR ${far}`, role: 'level' as const },
    ];
    const r = renderFootprintPngWithLayout(sel, null, { width: 1000, height: 600, levels, marker: { time: sel[8].time + 1, side: 'buy' } });
    writeFileSync('artifacts/indicators-node-alert.png', r.png);
    const img = await loadImage(r.png);
    const c = createCanvas(img.width, img.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const rgb = (x: number, y: number): string => { const d = ctx.getImageData(x, y, 1, 1).data; return `#${[d[0], d[1], d[2]].map((v) => v.toString(16).padStart(2, '0')).join('')}`; };
    // each near line sits at its price, inside the plot, its label tag at the left edge filled with its role's colour
    for (const [price, colour] of [[sl, DARK.sell], [tp, DARK.buy], [entry, DARK.text]] as const) {
      const y = Math.round(r.layout.priceToY(price));
      expect(y).toBeGreaterThan(0);
      expect(y).toBeLessThan(600);
      expect(rgb(4, y)).toBe(colour);
    }
    // the far level did not stretch the range: it is off the scale, its tag pinned inside the top edge
    expect(r.layout.priceToY(far)).toBeLessThan(0);
    expect(rgb(4, 16)).toBe(DARK.vah);
    // the buy marker: a triangle below bar 8's low, in the marker colour
    const x = Math.round(r.layout.xOf(8));
    const yTip = r.layout.priceToY(sel[8].low) + 6;
    expect([4, 6, 8, 10].some((dy) => rgb(x, Math.round(yTip + dy)) === DARK.markerBuy)).toBe(true);
    // without levels the stop and target are off the chart: the near levels are what widened it
    const plain = renderFootprintPngWithLayout(sel, null, { width: 1000, height: 600 });
    expect(plain.layout.priceToY(tp)).toBeLessThan(0);
    expect(plain.layout.priceToY(sl)).toBeGreaterThan(600);
  });

  it('profileFromBars matches the server fixed-range profile POC', () => {
    const s = prepareSeries(bars);
    const p = profileFromBars(s.bars)!;
    const api = apiFootprint(fx);
    const total = api.reduce((a, b) => a + b.volume, 0);
    expect(p.rows.reduce((a, r) => a + r.volume, 0)).toBeCloseTo(total, 3);
  });
});

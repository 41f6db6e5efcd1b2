/**
 * Every scripted event kind must leave its footprint in the emitted data, inside its label bracket.
 * The checks below use only the event stream plus the label (times, side, key prices).
 */
import { describe, expect, it } from 'vitest';
import type { BookDelta, MarketEvent, Trade } from '../../engine/src/core/events.js';
import { MarketSimulator, SCRIPT_KINDS, type GroundTruthLabel, type LabelSide, type ScriptKind, type ScriptedEvent } from '../../engine/src/sim/index.js';

const T0 = Date.UTC(2026, 0, 5, 14, 0, 0);
const MIN = 60_000;

// two of each kind, one per side, spaced so nothing has to wait
const KINDS: ScriptKind[] = ['absorption', 'sweep', 'iceberg', 'exhaustion', 'divergence', 'stop_run'];
const scenario: ScriptedEvent[] = [];
let off = 4 * MIN;
for (const side of ['buy', 'sell'] as LabelSide[]) {
  for (const kind of KINDS) {
    scenario.push({ kind, side, offsetMs: off });
    off += kind === 'exhaustion' || kind === 'divergence' ? 8 * MIN : 3 * MIN;
  }
}

interface Variant { name: string; levelTicks: number; sizeScale: number; startPrice: number; seeds: number[] }
const VARIANTS: Variant[] = [
  { name: 'unit levels', levelTicks: 1, sizeScale: 1, startPrice: 100_000, seeds: Array.from({ length: 12 }, (_, i) => i + 1) },
  { name: 'BTC-like (10-tick levels, 20x sizes)', levelTicks: 10, sizeScale: 20, startPrice: 650_000, seeds: [101, 102, 103, 104] },
];

function simulate(seed: number, v: Variant): { events: MarketEvent[]; trades: Trade[]; labels: GroundTruthLabel[] } {
  const sim = new MarketSimulator({
    seed, instrument: 'SIMX', startTs: T0, startPrice: v.startPrice, levelTicks: v.levelTicks, durationMs: off + 5 * MIN, scenario,
    flow: { limitSizeMedian: 7 * v.sizeScale, marketSizeMedian: 8 * v.sizeScale },
  });
  const events: MarketEvent[] = [];
  sim.run((e) => events.push(e));
  return { events, trades: events.filter((e): e is Trade => e.type === 'trade'), labels: sim.labels };
}

const inWin = (t: Trade, a: number, b: number): boolean => t.ts >= a && t.ts <= b;
const sgn = (s: LabelSide): number => (s === 'buy' ? 1 : -1);
const other = (s: LabelSide): LabelSide => (s === 'buy' ? 'sell' : 'buy');

interface Bar { vol: number; delta: number; high: number; low: number }
function bars(trades: Trade[], from: number, barMs: number, n: number): Bar[] {
  const out: Bar[] = Array.from({ length: n }, () => ({ vol: 0, delta: 0, high: -Infinity, low: Infinity }));
  for (const t of trades) {
    const i = Math.floor((t.ts - from) / barMs);
    if (i < 0 || i >= n) continue;
    const b = out[i];
    b.vol += t.size;
    b.delta += t.side === 'buy' ? t.size : -t.size;
    b.high = Math.max(b.high, t.price);
    b.low = Math.min(b.low, t.price);
  }
  return out;
}

function checkAbsorption(l: GroundTruthLabel, events: MarketEvent[], trades: Trade[]): void {
  const L = l.params.level;
  const passiveBids = l.side === 'buy';
  const end = l.params.absorbEndTs;
  const hits = trades.filter((t) => inWin(t, l.startTs, end) && t.price === L && t.side === other(l.side));
  const absorbed = hits.reduce((s, t) => s + t.size, 0);
  let maxShown = 0;
  for (const e of events) {
    if (e.type !== 'book_delta' || e.ts < l.startTs || e.ts > end) continue;
    for (const [p, s] of passiveBids ? e.bids : e.asks) if (p === L) maxShown = Math.max(maxShown, s);
  }
  expect(maxShown).toBeGreaterThan(0);
  expect(absorbed).toBeGreaterThan(5 * maxShown); // executed >> displayed
  // no progress beyond N ticks against the absorber while it absorbs
  const during = trades.filter((t) => inWin(t, l.startTs, end));
  const worst = passiveBids ? Math.min(...during.map((t) => t.price)) : Math.max(...during.map((t) => t.price));
  expect(sgn(l.side) * (L - worst)).toBeLessThanOrEqual(l.params.maxTicks);
  // then a bounce of bounceTicks in the label side's direction
  const after = trades.filter((t) => inWin(t, end, l.endTs));
  const best = passiveBids ? Math.max(...after.map((t) => t.price)) : Math.min(...after.map((t) => t.price));
  expect(sgn(l.side) * (best - L)).toBeGreaterThanOrEqual(l.params.bounceTicks);
}

function checkSweep(l: GroundTruthLabel, events: MarketEvent[], trades: Trade[]): void {
  const at = l.params.sweepTs;
  const sweepTrades = trades.filter((t) => t.ts === at && t.side === l.side);
  const prices = new Set(sweepTrades.map((t) => t.price));
  expect(prices.size).toBeGreaterThanOrEqual(3);
  // one delta at the sweep instant removes >= 3 levels on the hit side
  let removed = 0;
  for (const e of events) {
    if (e.type !== 'book_delta' || e.ts !== at) continue;
    const d = e as BookDelta;
    removed = Math.max(removed, (l.side === 'buy' ? d.asks : d.bids).filter(([, s]) => s === 0).length);
  }
  expect(removed).toBeGreaterThanOrEqual(3);
  // consecutive ids: it is one walk of the book
  const ids = sweepTrades.map((t) => t.id).sort((a, b) => a - b);
  expect(ids[ids.length - 1] - ids[0]).toBeLessThan(ids.length + 3);
  expect(at).toBeGreaterThanOrEqual(l.startTs);
  expect(at).toBeLessThanOrEqual(l.endTs);
  expect(l.endTs - l.startTs).toBeLessThan(2_000);
}

function checkIceberg(l: GroundTruthLabel, events: MarketEvent[]): void {
  const P = l.params.price;
  const bidSide = l.side === 'buy';
  let shown = NaN;
  let executedSinceDelta = 0;
  let refills = 0;
  let executed = 0;
  let maxShown = 0;
  for (const e of events) {
    if (e.ts < l.startTs || e.ts > l.endTs) continue;
    if (e.type === 'trade' && e.price === P && e.side === other(l.side)) {
      executedSinceDelta += e.size;
      executed += e.size;
    } else if (e.type === 'book_delta') {
      for (const [p, s] of bidSide ? e.bids : e.asks) {
        if (p !== P) continue;
        // traded at least the shown size, yet the level is back with a similar size: a refill
        if (shown === shown && executedSinceDelta >= shown && s > 0 && s >= 0.5 * shown) refills++;
        if (s > 0) maxShown = Math.max(maxShown, s);
        shown = s;
        executedSinceDelta = 0;
      }
    }
  }
  expect(refills).toBeGreaterThanOrEqual(3);
  expect(executed).toBeGreaterThan(3 * maxShown);
  expect(maxShown).toBeLessThanOrEqual(Math.ceil(l.params.display * 1.2) + 0);
}

function checkExhaustion(l: GroundTruthLabel, trades: Trade[]): void {
  const n = l.params.bars;
  const bs = bars(trades, l.params.firstBarTs, l.params.barMs, n);
  const trend = -sgn(l.side); // side buy = down leg exhausted, reversal up
  for (let i = 1; i < n; i++) {
    expect(bs[i].vol).toBeLessThan(0.7 * bs[i - 1].vol); // volume declines > 30 % bar over bar
    expect(Math.abs(bs[i].delta)).toBeLessThan(Math.abs(bs[i - 1].delta)); // delta weakens
    if (trend < 0) expect(bs[i].low).toBeLessThan(bs[i - 1].low);
    else expect(bs[i].high).toBeGreaterThan(bs[i - 1].high);
  }
  for (const b of bs) expect(Math.sign(b.delta)).toBe(trend);
  // reversal after the leg
  const after = trades.filter((t) => inWin(t, l.params.legEndTs, l.endTs)).map((t) => t.price);
  const extreme = trend < 0 ? Math.min(...bs.map((b) => b.low)) : Math.max(...bs.map((b) => b.high));
  const best = trend < 0 ? Math.max(...after) : Math.min(...after);
  expect(sgn(l.side) * (best - extreme)).toBeGreaterThanOrEqual(l.params.reversalTicks);
}

function checkDivergence(l: GroundTruthLabel, trades: Trade[]): void {
  const b0 = l.params.firstBarTs;
  const ms = l.params.barMs;
  const up = l.side === 'sell'; // bearish divergence is made at a high
  let cvd = 0;
  let px1 = up ? -Infinity : Infinity;
  let px3 = up ? -Infinity : Infinity;
  let cvd1 = up ? -Infinity : Infinity;
  let cvd3 = up ? -Infinity : Infinity;
  const pick = up ? Math.max : Math.min;
  for (const t of trades) {
    if (t.ts < l.startTs || t.ts > l.endTs) continue;
    cvd += t.side === 'buy' ? t.size : -t.size;
    const bar = Math.floor((t.ts - b0) / ms);
    if (bar === 0) { px1 = pick(px1, t.price); cvd1 = pick(cvd1, cvd); }
    if (bar === 2) { px3 = pick(px3, t.price); cvd3 = pick(cvd3, cvd); }
  }
  if (up) {
    expect(px3).toBeGreaterThan(px1); // new high
    expect(cvd3).toBeLessThan(cvd1); // lower CVD high
  } else {
    expect(px3).toBeLessThan(px1);
    expect(cvd3).toBeGreaterThan(cvd1);
  }
  // reversal in the label side's direction after the second push
  const after = trades.filter((t) => inWin(t, l.params.secondPushEndTs, l.endTs)).map((t) => t.price);
  const best = up ? Math.min(...after) : Math.max(...after);
  expect(sgn(l.side) * (best - px3)).toBeGreaterThanOrEqual(5 * l.params.levelTicks);
}

function checkStopRun(l: GroundTruthLabel, trades: Trade[]): void {
  const up = l.side === 'sell'; // run above a high (buy stops), then reverse down
  const H = l.params.priorExtreme;
  const prior = trades.filter((t) => t.ts >= l.startTs - l.params.lookbackMs && t.ts < l.startTs).map((t) => t.price);
  expect(prior.length).toBeGreaterThan(0);
  // H is the recent extreme
  if (up) expect(Math.max(...prior)).toBeLessThanOrEqual(H);
  else expect(Math.min(...prior)).toBeGreaterThanOrEqual(H);
  const win = trades.filter((t) => inWin(t, l.startTs, l.endTs));
  const beyond = win.filter((t) => (up ? t.price > H : t.price < H));
  expect(beyond.length).toBeGreaterThan(0);
  // the burst: many same-side aggressive prints beyond H within about a second
  const burst = beyond.filter((t) => t.side === other(l.side) && t.ts >= l.params.burstStartTs && t.ts <= l.params.burstEndTs);
  expect(burst.length).toBeGreaterThanOrEqual(5);
  expect(l.params.burstEndTs - l.params.burstStartTs).toBeLessThanOrEqual(1_500);
  // then a quick reversal through the prior extreme
  const extremeTrade = beyond.reduce((a, t) => ((up ? t.price > a.price : t.price < a.price) ? t : a));
  const back = win.filter((t) => t.ts >= extremeTrade.ts && (up ? t.price <= H - l.params.reversalTicks : t.price >= H + l.params.reversalTicks));
  expect(back.length).toBeGreaterThan(0);
  expect(back[0].ts - extremeTrade.ts).toBeLessThan(15_000);
}

function checkAll(labels: GroundTruthLabel[], events: MarketEvent[], trades: Trade[]): void {
  for (const l of labels) {
    expect(l.done, l.id).toBe(true);
    expect(l.endTs).toBeGreaterThan(l.startTs);
    // the price bracket is the trade range inside the time bracket
    const px = trades.filter((t) => inWin(t, l.startTs, l.endTs)).map((t) => t.price);
    expect(l.priceLow).toBeGreaterThanOrEqual(Math.min(...px));
    expect(l.priceHigh).toBeLessThanOrEqual(Math.max(...px));
    expect(l.priceLow).toBeLessThanOrEqual(l.priceHigh);
    switch (l.kind) {
      case 'absorption': checkAbsorption(l, events, trades); break;
      case 'sweep': checkSweep(l, events, trades); break;
      case 'iceberg': checkIceberg(l, events); break;
      case 'exhaustion': checkExhaustion(l, trades); break;
      case 'divergence': checkDivergence(l, trades); break;
      case 'stop_run': checkStopRun(l, trades); break;
    }
  }
}

describe('scripted events leave their footprint inside the label bracket', () => {
  for (const v of VARIANTS) for (const seed of v.seeds) {
    it(`${v.name}, seed ${seed}: every kind, both sides`, () => {
      const { events, trades, labels } = simulate(seed, v);
      expect(labels.length).toBe(scenario.length);
      expect(new Set(labels.map((l) => l.kind))).toEqual(new Set(SCRIPT_KINDS));
      checkAll(labels, events, trades);
      // scripted events never overlap
      const sorted = [...labels].sort((a, b) => a.startTs - b.startTs);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i].startTs).toBeGreaterThanOrEqual(sorted[i - 1].endTs);
    });
  }

  it("'random' scenario: seeded schedule covering every kind, all labels completed", () => {
    const sim = new MarketSimulator({ seed: 21, instrument: 'SIMX', startTs: T0, startPrice: 100_000, durationMs: 12 * 3_600_000, scenario: 'random', eventsPerHour: 6 });
    const planned = sim.labels.map((l) => ({ ...l, params: { ...l.params } }));
    expect(planned.length).toBeGreaterThan(20);
    expect(planned.every((l) => !l.done && Number.isNaN(l.priceLow))).toBe(true);
    const events: MarketEvent[] = [];
    sim.run((e) => events.push(e));
    const trades = events.filter((e): e is Trade => e.type === 'trade');
    checkAll(sim.labels, events, trades);
    expect(new Set(sim.labels.map((l) => l.kind))).toEqual(new Set(SCRIPT_KINDS));
    expect(new Set(sim.labels.map((l) => l.side))).toEqual(new Set(['buy', 'sell']));
    for (const l of sim.labels) {
      expect(l.done).toBe(true);
      expect(Number.isFinite(l.priceLow) && Number.isFinite(l.priceHigh)).toBe(true);
    }
    // planned starts are kept (events never have to wait for each other in a random schedule)
    expect(sim.labels.map((l) => l.startTs)).toEqual(planned.map((l) => l.startTs));
  });

  it('events scheduled on top of each other wait for the previous one; bar-aligned kinds start on a bar', () => {
    const sim = new MarketSimulator({
      seed: 5, instrument: 'SIMX', startTs: T0 + 7_000, startPrice: 100_000, durationMs: 20 * MIN,
      scenario: [{ kind: 'iceberg', side: 'buy', offsetMs: 3 * MIN }, { kind: 'sweep', side: 'sell', offsetMs: 3 * MIN }, { kind: 'divergence', side: 'sell', offsetMs: 3 * MIN + 10_000 }],
    });
    const events: MarketEvent[] = [];
    sim.run((e) => events.push(e));
    const [ice, sw, div] = sim.labels;
    expect(ice.kind).toBe('iceberg');
    expect(sw.startTs).toBeGreaterThanOrEqual(ice.endTs);
    expect(div.startTs).toBeGreaterThanOrEqual(sw.endTs);
    expect(div.startTs % 60_000).toBe(0);
    checkAll(sim.labels, events, events.filter((e): e is Trade => e.type === 'trade'));
  });
});

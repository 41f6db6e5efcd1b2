import { describe, expect, it } from 'vitest';
import {
  DeltaMismatchAbsorption, DivergenceDetector, ExhaustionDetector, fixedThresholds, icebergSignal, InitiativeDetector,
  LevelAbsorptionDetector, SweepDetector,
} from '../../engine/src/signals/detectors.js';
import { Thresholds } from '../../engine/src/signals/thresholds.js';
import { clamp } from '../../engine/src/signals/types.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { OrderBook } from '../../engine/src/book/order-book.js';
import { BarMaker, trade } from '../../engine/src/signals/testing.js';

const th = fixedThresholds(100, 200);

describe('absorption (a) delta/close mismatch', () => {
  it('positive delta on a down bar = sellers absorbing, strength |delta|/min × 40', () => {
    const m = new BarMaker();
    const cb = m.bar(0, [[100, 50, 'buy'], [101, 30, 'buy'], [99, 20, 'sell'], [98, 0, 'sell']]);
    // buys 80, sells 20 → delta +60; open 100, close 98
    const d = new DeltaMismatchAbsorption('TEST', th);
    const ev = d.onBar(cb)!;
    expect(ev.kind).toBe('absorption');
    expect(ev.variant).toBe('delta-mismatch');
    expect(ev.side).toBe('sell');
    expect(ev.strength).toBe(24);
    expect(ev.evidence.delta).toBe(60);
    expect([ev.priceLow, ev.priceHigh]).toEqual([98, 101]);
    expect(ev.confirmedAt).toBe(60_000);
    expect(ev.reasoning.length).toBeGreaterThan(1);
  });
  it('negative delta on an up bar is bullish; aligned or small delta does not fire', () => {
    const m = new BarMaker();
    const d = new DeltaMismatchAbsorption('TEST', th);
    const bull = d.onBar(m.bar(0, [[100, 10, 'buy'], [101, 130, 'sell'], [103, 10, 'buy']]))!;
    expect(bull.side).toBe('buy');
    expect(bull.strength).toBe(clamp((110 / 100) * 40));
    expect(d.onBar(m.bar(60_000, [[100, 10, 'sell'], [103, 90, 'buy']]))).toBeNull(); // aligned
    expect(d.onBar(m.bar(120_000, [[100, 45, 'buy'], [98, 5, 'sell']]))).toBeNull(); // delta 40 < 0.5 × 100
  });
});

describe('absorption (b) volume at a level', () => {
  it('fires after repeated attempts with no displacement: vol/min × 30 + attempts × 15', () => {
    const d = new LevelAbsorptionDetector('TEST', th);
    expect(d.onTrade(trade(0, 100, 30, 'sell'))).toBeNull();
    expect(d.onTrade(trade(10, 100, 30, 'sell'))).toBeNull();
    expect(d.onTrade(trade(1500, 101, 5, 'buy'))).toBeNull();
    const ev = d.onTrade(trade(3000, 100, 50, 'sell'))!;
    expect(ev.side).toBe('buy');
    expect(ev.evidence.aggressiveVolume).toBe(110);
    expect(ev.evidence.attempts).toBe(2);
    expect(ev.strength).toBe(63);
    expect(ev.firstSeenAt).toBe(0);
    expect(ev.confirmedAt).toBe(3000);
    // no refire at the same level within the window
    expect(d.onTrade(trade(6000, 100, 50, 'sell'))).toBeNull();
  });
  it('does not fire when price is displaced through the level or with a single attempt', () => {
    const a = new LevelAbsorptionDetector('TEST', th);
    a.onTrade(trade(0, 100, 60, 'sell'));
    a.onTrade(trade(100, 95, 1, 'sell'));
    expect(a.onTrade(trade(3000, 100, 60, 'sell'))).toBeNull(); // 5 ticks below > 4
    const b = new LevelAbsorptionDetector('TEST', th);
    b.onTrade(trade(0, 100, 60, 'sell'));
    expect(b.onTrade(trade(50, 100, 60, 'sell'))).toBeNull(); // one attempt (gap < 100 ms)
  });
  it('volume leaves the rolling window', () => {
    const d = new LevelAbsorptionDetector('TEST', th, { windowMs: 10_000 });
    d.onTrade(trade(0, 100, 60, 'sell'));
    expect(d.onTrade(trade(11_000, 100, 60, 'sell'))).toBeNull(); // first trade evicted: 60 < 100
  });
});

describe('initiative', () => {
  it('fires with delta, volume, body, alignment and imbalance bonus', () => {
    const m = new BarMaker();
    const d = new InitiativeDetector('TEST', th);
    for (let i = 0; i < 3; i++) expect(d.onBar(m.bar(i * 60_000, [[100, 50, 'buy'], [100, 50, 'sell']]))).toBeNull();
    const ev = d.onBar(m.bar(180_000, [[100, 50, 'sell'], [101, 100, 'buy'], [105, 100, 'buy'], [110, 100, 'buy']]))!;
    // delta 250 / 200 × 20 = 25; acceleration 250/200 → 1 × 15; body 10/3 → 3 × 5 = 15; 2 buy imbalances × 10
    expect(ev.side).toBe('buy');
    expect(ev.evidence.imbalances).toBe(2);
    expect(ev.strength).toBe(75);
    expect(ev.evidence.avgVolume).toBe(100);
  });
  it('does not fire on low volume, small body, or delta against the bar', () => {
    const m = new BarMaker();
    const d = new InitiativeDetector('TEST', th);
    for (let i = 0; i < 3; i++) d.onBar(m.bar(i * 60_000, [[100, 100, 'buy'], [100, 100, 'sell']]));
    expect(d.onBar(m.bar(180_000, [[100, 10, 'sell'], [110, 240, 'buy']]))).toBeNull(); // volume 250 < 1.5 × 200
    expect(d.onBar(m.bar(240_000, [[100, 10, 'sell'], [102, 400, 'buy']]))).toBeNull(); // body 2 < 3
    expect(d.onBar(m.bar(300_000, [[110, 10, 'buy'], [100, 400, 'buy']]))).toBeNull(); // down bar, positive delta
  });
});

describe('exhaustion', () => {
  const bars = (m: BarMaker, last: [number, number, 'buy' | 'sell'][]) => [
    m.bar(0, [[100, 50, 'sell'], [110, 250, 'buy'], [108, 0, 'buy']]),
    m.bar(60_000, [[108, 50, 'sell'], [115, 200, 'buy']]),
    m.bar(120_000, last),
  ];
  it('fires against an uptrend with declining volume, weakening delta and a contrarian imbalance at the high', () => {
    const d = new ExhaustionDetector('TEST');
    const [a, b, c] = bars(new BarMaker(), [[113, 50, 'buy'], [116, 10, 'buy'], [117, 30, 'sell'], [117, 10, 'buy']]);
    expect(d.onBar(a)).toBeNull();
    expect(d.onBar(b)).toBeNull();
    const ev = d.onBar(c)!;
    expect(ev.side).toBe('sell');
    expect(ev.evidence.contrarianImbalance).toBe(true);
    expect(ev.evidence.volumeDecline).toBe(0.67);
    // 25 + (1 − 100/300) × 50 + (200 − 40)/200 × 15 + 15
    expect(ev.strength).toBe(85.33);
  });
  it('does not fire when volume did not decline by > 30 %', () => {
    const d = new ExhaustionDetector('TEST');
    for (const cb of bars(new BarMaker(), [[113, 200, 'buy'], [117, 50, 'sell']])) expect(d.onBar(cb)).toBeNull();
  });
});

describe('divergence', () => {
  it('new high with a CVD peak < 80 % of the prior one', () => {
    const m = new BarMaker();
    const d = new DivergenceDetector('TEST');
    expect(d.onBar(m.bar(0, [[100, 500, 'buy', 500], [110, 1, 'buy', 500]]))).toBeNull();
    expect(d.onBar(m.bar(60_000, [[105, 400, 'sell', 100], [104, 1, 'buy', 100]]))).toBeNull();
    const ev = d.onBar(m.bar(120_000, [[106, 200, 'buy', 300], [112, 1, 'buy', 300]]))!;
    expect(ev.side).toBe('sell');
    expect(ev.evidence.ratio).toBe(0.6);
    expect(ev.strength).toBe(56); // 30 + 0.4 × 40 + 10
  });
  it('does not fire when CVD confirms the high', () => {
    const m = new BarMaker();
    const d = new DivergenceDetector('TEST');
    d.onBar(m.bar(0, [[100, 500, 'buy', 500], [110, 1, 'buy', 500]]));
    d.onBar(m.bar(60_000, [[105, 400, 'sell', 100], [104, 1, 'buy', 100]]));
    expect(d.onBar(m.bar(120_000, [[106, 200, 'buy', 450], [112, 1, 'buy', 450]]))).toBeNull();
  });
  it('new low with a shallower CVD trough is bullish', () => {
    const m = new BarMaker();
    const d = new DivergenceDetector('TEST');
    d.onBar(m.bar(0, [[100, 500, 'sell', -500], [90, 1, 'sell', -500]]));
    d.onBar(m.bar(60_000, [[95, 400, 'buy', -100], [96, 1, 'buy', -100]]));
    const ev = d.onBar(m.bar(120_000, [[94, 100, 'sell', -200], [88, 1, 'sell', -200]]))!;
    expect(ev.side).toBe('buy');
    expect(ev.evidence.ratio).toBe(0.4); // (0 − (−200)) / (0 − (−500))
    expect(ev.strength).toBe(64);
  });
});

describe('sweep', () => {
  const burst = (d: SweepDetector) => {
    for (const p of [100, 101, 102, 103]) expect(d.onTrade(trade(1000, p, 10, 'buy'))).toBeNull();
    return d.onTrade(trade(1010, 103, 1, 'sell'));
  };
  it('fires on a fast burst through >= 4 levels (no book: confirmation 0)', () => {
    const ev = burst(new SweepDetector('TEST', th))!;
    // min(4, 5) × 12 + (1 − 10/50) × 20 + 3 + 0
    expect(ev.strength).toBe(67);
    expect(ev.side).toBe('buy');
    expect(ev.evidence.levels).toBe(4);
    expect(ev.confirmedAt).toBe(1010);
  });
  it('thin-book confirmation (consumed levels small vs the median) adds 10; a thick book or crumbs veto it', () => {
    const thin = new SweepDetector('TEST', th);
    thin.book = new OrderBook();
    // top 20 asks: 4 × 2 then 16 × 10 → median 10; 2 <= 0.25 × 10
    thin.book.applySnapshot({ bids: [[99, 100]], asks: [[100, 2], [101, 2], [102, 2], [103, 2], ...Array.from({ length: 16 }, (_, i) => [104 + i, 10] as [number, number])] });
    const ev = burst(thin)!;
    expect(ev.strength).toBe(77);
    expect(ev.evidence).toMatchObject({ consumedLevels: 3, smallLevels: 3, pulledLevels: 0, confirmation: 1, bookMedian: 10 });
    const thick = new SweepDetector('TEST', th);
    thick.book = new OrderBook();
    thick.book.applySnapshot({ bids: [[99, 100]], asks: Array.from({ length: 20 }, (_, i) => [100 + i, 10] as [number, number]) });
    expect(burst(thick)).toBeNull();
    // crumbs: thin levels, but 40 lots < 3 × the median 100
    const crumbs = new SweepDetector('TEST', th);
    crumbs.book = new OrderBook();
    crumbs.book.applySnapshot({ bids: [[99, 100]], asks: [[100, 5], [101, 5], [102, 5], [103, 5], ...Array.from({ length: 16 }, (_, i) => [104 + i, 100] as [number, number])] });
    expect(burst(crumbs)).toBeNull();
  });
  it('levels pulled (reduced without trades) within 500 ms before the hit count as thin; later bursts on that side merge', () => {
    const mk = () => {
      const d = new SweepDetector('TEST', th);
      d.book = new OrderBook();
      d.book.applySnapshot({ bids: [[99, 100]], asks: Array.from({ length: 20 }, (_, i) => [100 + i, 10] as [number, number]) });
      return d;
    };
    const pull = (d: SweepDetector, ts: number) => { for (const p of [100, 101, 102]) { const prev = d.book!.applyLevel('ask', p, 4); d.onLevel('ask', p, 4, prev, ts); } };
    const d = mk();
    pull(d, 700);                        // 60 % of levels 100–102 pulled 300 ms before the sweep
    const ev = burst(d)!;
    expect(ev.evidence).toMatchObject({ consumedLevels: 3, pulledLevels: 3, smallLevels: 0, confirmation: 1 });
    // a second buy burst 500 ms later merges into the first (cool-down 2 s)
    for (const p of [100, 101, 102]) { const prev = d.book!.applyLevel('ask', p, 4); d.onLevel('ask', p, 4, prev, 1400); }
    for (const p of [100, 101, 102, 103]) d.onTrade(trade(1500, p, 10, 'buy'));
    expect(d.advance(1600)).toBeNull();
    const late = mk();
    pull(late, 200);                     // pulled 800 ms before: too old
    expect(burst(late)).toBeNull();
    const traded = mk();
    // reductions explained by trades at the level are consumption, not pulls
    [100, 101, 102].forEach((p, i) => traded.onTrade(trade(500 + i * 60, p, 6, 'buy'))); // three separate one-level bursts
    for (const p of [100, 101, 102]) { const prev = traded.book!.applyLevel('ask', p, 4); traded.onLevel('ask', p, 4, prev, 700); }
    expect(burst(traded)).toBeNull();
  });
  it('does not fire through 2 levels or with heavy volume per level; advance() ends a burst', () => {
    const d = new SweepDetector('TEST', th);
    d.onTrade(trade(0, 100, 10, 'buy'));
    d.onTrade(trade(0, 101, 10, 'buy'));
    expect(d.advance(100)).toBeNull();
    for (const p of [100, 101, 102]) d.onTrade(trade(200, p, 60, 'buy'));
    expect(d.advance(300)).toBeNull(); // 60 per level > 50
  });
});

describe('iceberg signal and thresholds', () => {
  it('wraps a confirmed iceberg', () => {
    const ev = icebergSignal('TEST', { price: 100, side: 'bid', firstSeenAt: 1, confirmedAt: 5, executed: 30, displayedMax: 10, refills: 2, evidence: [], confidence: 0.875, exact: false }, 1, 4.2);
    expect(ev.side).toBe('buy');
    expect(ev.strength).toBe(87.5);
    expect(ev.evidence.institutionalRatio).toBe(4.2);
    expect(ev.id).toBe('TEST:iceberg:1');
  });
  it('registry thresholds in lots; auto mode from rolling SD', () => {
    const inst = new InstrumentRegistry().get('BTCUSDT');
    const t = new Thresholds(inst);
    expect(t.absorptionMin()).toBe(20_000); // 20 BTC at lot 0.001
    expect(t.initiativeMin()).toBe(10_000);
    const a = new Thresholds(inst, { mode: 'auto', minSamples: 4, absorptionSd: 1, initiativeSd: 2 });
    for (const [v, dl] of [[100, 10], [200, -10], [300, 10], [400, -10]]) a.onBar(v, dl);
    expect(a.source).toBe('auto');
    expect(a.absorptionMin()).toBe(112); // SD(100..400) = 111.8
    expect(a.initiativeMin()).toBe(20);
  });
});

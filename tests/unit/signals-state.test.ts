import { describe, expect, it } from 'vitest';
import { dailyBias, levelNear, qualifiedLevels, valueAreaOverlap, type SessionLevels } from '../../engine/src/signals/framing.js';
import { compositeScore, grade } from '../../engine/src/signals/scoring.js';
import { scan, stopsFor, strategyStatus, TradeStateMachine, type Transition } from '../../engine/src/signals/state.js';
import { ruleSignal } from '../../engine/src/signals/rule-mode.js';
import type { SignalEvent } from '../../engine/src/signals/types.js';

const sess = (x: Partial<SessionLevels>): SessionLevels => ({ shape: 'D', pocPct: 50, pocPrice: 150, vahPrice: 200, valPrice: 100, lowPrice: 80, highPrice: 220, ...x });

function sig(kind: SignalEvent['kind'], side: 'buy' | 'sell', strength: number, at: number, lo = 100, hi = lo): SignalEvent {
  return { id: `T:${kind}:${at}`, kind, variant: 'x', instrument: 'T', side, priceLow: lo, priceHigh: hi, strength, firstSeenAt: at, confirmedAt: at, evidence: {}, reasoning: [`${kind} test`] };
}

describe('framing: daily bias', () => {
  it('P → long 40 + pocPct × 30; b → short 40 + (1 − pocPct) × 30; D 20; double 30', () => {
    expect(dailyBias(sess({ shape: 'P', pocPct: 80 }))).toMatchObject({ direction: 'long', confidence: 64 });
    expect(dailyBias(sess({ shape: 'b', pocPct: 20 }))).toMatchObject({ direction: 'short', confidence: 64 });
    expect(dailyBias(sess({ shape: 'D' }))).toMatchObject({ direction: 'neutral', confidence: 20 });
    expect(dailyBias(sess({ shape: 'double' }))).toMatchObject({ direction: 'neutral', confidence: 30, transition: true });
    expect(dailyBias(null)).toMatchObject({ direction: 'neutral', confidence: 0 });
  });
  it('value accepted higher adds 15 to a long bias; not to a short one', () => {
    const cur = sess({ pocPrice: 210 });
    expect(dailyBias(sess({ shape: 'P', pocPct: 80 }), cur)).toMatchObject({ acceptance: 'higher', confidence: 79 });
    expect(dailyBias(sess({ shape: 'b', pocPct: 20 }), cur)).toMatchObject({ acceptance: 'higher', confidence: 64 });
  });
  it('a VAH rejection across days against a long bias is a WARNING', () => {
    const earlier = sess({ vahPrice: 200, valPrice: 100 });
    const prior = sess({ shape: 'P', pocPct: 70, highPrice: 230, pocPrice: 180 });
    const b = dailyBias(prior, null, earlier);
    expect(b.warning).toBe(true);
    expect(b.reasoning.some((r) => r.startsWith('WARNING'))).toBe(true);
    expect(dailyBias(sess({ shape: 'P', pocPct: 70, highPrice: 230, pocPrice: 210 }), null, earlier).warning).toBe(false);
  });
});

describe('qualified levels', () => {
  it('merges value areas overlapping > 30 % (strength 70)', () => {
    const before = sess({ key: 'd1', valPrice: 150, vahPrice: 260 });
    const prior = sess({ key: 'd2', valPrice: 100, vahPrice: 200, pocPrice: 160, lvn: [] });
    expect(valueAreaOverlap(prior, before)).toBe(0.5);
    const lv = qualifiedLevels([before, prior]);
    expect(lv.map((l) => [l.kind, l.price, l.strength, l.merged])).toEqual([['VAL', 100, 70, true], ['POC', 160, 70, true], ['VAH', 260, 70, true]]);
  });
  it('separate sessions give 50-strength levels; confluence +20; LVNs included', () => {
    const before = sess({ key: 'd1', valPrice: 200, vahPrice: 300, pocPrice: 250 });
    const prior = sess({ key: 'd2', valPrice: 100, vahPrice: 200, pocPrice: 160, lvn: [{ lowPrice: 120, highPrice: 130, peakPrice: 125 }] });
    const lv = qualifiedLevels([before, prior]);
    const at200 = lv.filter((l) => l.price === 200);
    expect(at200.map((l) => [l.kind, l.strength, l.confluence])).toEqual([['VAH', 70, true], ['VAL', 70, true]]);
    expect(lv.find((l) => l.kind === 'LVN')).toMatchObject({ price: 125, strength: 50 });
    expect(lv.find((l) => l.kind === 'POC' && l.price === 250)!.strength).toBe(50);
    expect(levelNear(lv, 205, 10, 50)!.price).toBe(200);
    expect(levelNear(lv, 230, 10, 50)).toBeNull();
  });
});

describe('composite score and grades', () => {
  it('weights × strength + level × 0.25 + alignment × 0.20 − 10 on WARNING', () => {
    const long = dailyBias(sess({ shape: 'P', pocPct: 80 }));
    expect(compositeScore({ kind: 'absorption', strength: 60, side: 'buy' }, 70, long).score).toBe(48.3); // 18 + 17.5 + 12.8
    expect(compositeScore({ kind: 'absorption', strength: 60, side: 'sell' }, 70, long).score).toBe(22.7); // 18 + 17.5 − 12.8
    expect(compositeScore({ kind: 'divergence', strength: 100, side: 'buy' }, 100, null).score).toBe(50);
    expect(compositeScore({ kind: 'exhaustion', strength: 100, side: 'buy' }, 0, null).score).toBe(15);
    expect(compositeScore({ kind: 'absorption', strength: 60, side: 'buy' }, 70, { ...long, warning: true }).score).toBe(38.3);
  });
  it('grades A+ >= 85, A >= 70, B >= 55, C below', () => {
    expect([85, 84.99, 70, 69.9, 55, 54.99, 0].map(grade)).toEqual(['A+', 'A', 'A', 'B', 'B', 'C', 'C']);
  });
});

describe('SL/TP formulas', () => {
  const long = dailyBias(sess({ shape: 'P', pocPct: 80 }));
  it('with bias: SL beyond VAL/VAH by 10 % of the value area, TP at the opposite edge', () => {
    expect(stopsFor('buy', 105, long, { vah: 200, val: 100 })).toEqual({ sl: 90, tp: 200, stops: 'value-area' });
    expect(stopsFor('sell', 195, long, { vah: 200, val: 100 })).toEqual({ sl: 210, tp: 100, stops: 'value-area' });
  });
  it('without bias (or invalid VA stops): ±0.3 % / ±0.6 %', () => {
    expect(stopsFor('buy', 10000, null, { vah: 200, val: 100 })).toEqual({ sl: 9970, tp: 10060, stops: 'percent' });
    expect(stopsFor('sell', 10000, dailyBias(sess({ shape: 'D' })), { vah: 200, val: 100 })).toEqual({ sl: 10030, tp: 9940, stops: 'percent' });
    expect(stopsFor('buy', 250, long, { vah: 200, val: 100 }).stops).toBe('percent'); // TP below entry
  });
});

describe('state machine', () => {
  const setup = () => {
    const m = new TradeStateMachine('T');
    const bias = dailyBias(sess({ shape: 'P', pocPct: 80 }));
    m.setFraming(bias, [
      { kind: 'VAL', price: 100, strength: 70, sources: ['d'], merged: true, confluence: false },
      { kind: 'VAH', price: 200, strength: 70, sources: ['d'], merged: true, confluence: false },
    ], { vah: 200, val: 100 });
    const log: Transition[] = [];
    m.onTransition((t) => log.push(t));
    return { m, log };
  };
  it('NO_TRADE → WATCHING → POSITION_OPEN → BREAK_EVEN → TRAILING → CLOSED (SL) → NO_TRADE', () => {
    const { m, log } = setup();
    expect(strategyStatus(m).label).toBe('NO_DATA');
    m.onPrice(1, 150);
    expect(m.state).toBe('NO_TRADE');
    expect(strategyStatus(m).label).toBe('WAITING_FOR_PRICE');
    m.onPrice(2, 105);
    expect(m.state).toBe('WATCHING');
    expect(strategyStatus(m)).toMatchObject({ label: 'WATCHING', completedSteps: 3, priority: 69 });
    m.onSignal(sig('absorption', 'buy', 60, 3, 100), 105);
    expect(m.state).toBe('POSITION_OPEN');
    expect(m.position).toMatchObject({ side: 'buy', entry: 105, sl: 90, tp: 200, score: 48.3, grade: 'C', stops: 'value-area' });
    expect(strategyStatus(m)).toMatchObject({ label: 'IN_TRADE', completedSteps: 5, priority: 115 });
    m.onSignal(sig('initiative', 'buy', 50, 4, 106, 118));
    expect(m.state).toBe('BREAK_EVEN');
    expect(m.position!.sl).toBe(105);
    m.onSignal(sig('initiative', 'buy', 50, 5, 120, 140));
    expect(m.state).toBe('TRAILING');
    expect(m.position!.sl).toBe(120);
    m.onSignal(sig('initiative', 'buy', 50, 6, 110, 150));
    expect(m.position!.sl).toBe(120); // never loosened
    expect(strategyStatus(m)).toMatchObject({ label: 'TRAILING', completedSteps: 6, priority: 113 });
    m.onSignal(sig('initiative', 'sell', 90, 7, 110, 150)); // opposite initiative: no effect
    m.onPrice(8, 125, 130, 119);
    expect(m.state).toBe('CLOSED');
    expect(m.closed[0]).toMatchObject({ exit: 120, exitReason: 'sl', r: 1 });
    expect(strategyStatus(m).label).toBe('IDLE');
    m.onPrice(9, 150);
    expect(m.state).toBe('NO_TRADE');
    expect(log.map((t) => t.to)).toEqual(['WATCHING', 'POSITION_OPEN', 'BREAK_EVEN', 'TRAILING', 'TRAILING', 'CLOSED', 'NO_TRADE']);
    expect(log[1].reasoning.join(' ')).toContain('composite 48.3');
  });
  it('TP hit, opposite exhaustion >= 70 closes, weaker one does not; sweeps only alert', () => {
    const { m } = setup();
    const alerts: string[] = [];
    m.onAlert((a) => alerts.push(a.signal.id));
    m.onPrice(1, 105);
    m.onSignal(sig('sweep', 'buy', 90, 2, 100, 104));
    expect(m.state).toBe('WATCHING');
    expect(alerts).toEqual(['T:sweep:2']);
    m.onSignal(sig('absorption', 'buy', 60, 3, 100), 105);
    m.onSignal(sig('divergence', 'sell', 60, 4), 150);
    expect(m.state).toBe('POSITION_OPEN');
    m.onSignal(sig('exhaustion', 'sell', 75, 5), 150);
    expect(m.closed[0]).toMatchObject({ exitReason: 'opposite-signal', exit: 150, r: 3 });
    m.onPrice(6, 150);
    m.onPrice(7, 102);
    m.onSignal(sig('absorption', 'buy', 60, 8, 100), 102);
    m.onPrice(9, 201, 201, 150);
    expect(m.closed[1]).toMatchObject({ exitReason: 'tp', exit: 200 });
  });
  it('hysteresis: a price hovering at the edge of a level does not flap NO_TRADE ↔ WATCHING', () => {
    const m = new TradeStateMachine('H');
    m.setFraming(null, [{ kind: 'POC', price: 100, strength: 50, sources: ['d'], merged: false, confluence: false }], null);
    const moves: string[] = [];
    m.onTransition((t) => moves.push(`${t.from}->${t.to}`));
    for (let i = 0; i < 200; i++) m.onPrice(i, i % 2 ? 109 : 112); // in and out of nearTicks (10) every trade
    expect(moves).toEqual(['NO_TRADE->WATCHING']);
    m.onPrice(300, 125);
    expect(moves).toEqual(['NO_TRADE->WATCHING', 'WATCHING->NO_TRADE']);
    // and back only once it is near again
    m.onPrice(301, 115);
    expect(m.state).toBe('NO_TRADE');
    m.onPrice(302, 110);
    expect(m.state).toBe('WATCHING');
  });
  it('a stop fills at the breaching trade, not at the stop price', () => {
    const m = new TradeStateMachine('S');
    m.setFraming(null, [{ kind: 'POC', price: 100, strength: 90, sources: ['d'], merged: false, confluence: false }], null);
    m.onPrice(1, 100);
    m.onSignal(sig('absorption', 'buy', 100, 2, 100), 100);
    expect(m.state).toBe('POSITION_OPEN');
    const sl = m.position!.sl;
    m.onPrice(3, sl - 7); // a gap through the stop
    expect(m.state).toBe('CLOSED');
    expect(m.closed[0]!.exit).toBe(sl - 7);
    expect(m.closed[0]!.exitReason).toBe('sl');
  });
  it('a weak absorption is scanned but does not enter; leaving the level returns to NO_TRADE', () => {
    const m = new TradeStateMachine('T');
    m.setFraming(null, [{ kind: 'POC', price: 100, strength: 50, sources: ['d'], merged: false, confluence: false }], null);
    m.onPrice(1, 100);
    m.onSignal(sig('absorption', 'buy', 20, 2, 100), 100); // 6 + 12.5 = 18.5 < 40
    expect(m.state).toBe('WATCHING');
    expect(strategyStatus(m)).toMatchObject({ label: 'AT_LEVEL_SCANNING', completedSteps: 3 }); // levels, price, scan
    m.onSignal(sig('absorption', 'buy', 100, 3, 300), 100); // not at the level
    expect(m.state).toBe('WATCHING');
    m.onPrice(4, 120); // 20 ticks away: within the hysteresis band (leaveTicks = 2 × nearTicks)
    expect(m.state).toBe('WATCHING');
    m.onPrice(5, 121);
    expect(m.state).toBe('NO_TRADE');
    const none = new TradeStateMachine('U');
    none.onPrice(1, 5);
    expect(strategyStatus(none)).toMatchObject({ label: 'NO_LEVELS', priority: 20 });
  });
  it('autoEnter false stops at ENTRY_READY; percent stops without bias; scanner ordering', () => {
    const m = new TradeStateMachine('A', { autoEnter: false });
    m.setFraming(null, [{ kind: 'POC', price: 10000, strength: 90, sources: ['d'], merged: false, confluence: true }], null);
    m.onPrice(1, 10000);
    m.onSignal(sig('absorption', 'sell', 100, 2, 10000), 10000); // 30 + 22.5 = 52.5
    expect(strategyStatus(m)).toMatchObject({ label: 'ENTRY_READY', priority: 85 + 3 * 4 });
    expect(m.enter(10001, 3)).toBe(true);
    expect(m.position).toMatchObject({ side: 'sell', sl: 10031, tp: 9941, stops: 'percent' });
    const b = new TradeStateMachine('B');
    const c = new TradeStateMachine('C');
    c.offline = true;
    expect(scan([strategyStatus(b), strategyStatus(c), strategyStatus(m)]).map((s) => [s.instrument, s.label])).toEqual([['A', 'IN_TRADE'], ['B', 'NO_DATA'], ['C', 'OFFLINE']]);
  });
});

describe('rule mode', () => {
  const ts = Date.UTC(2024, 0, 10, 12, 0); // Wednesday 12:00 UTC: London open, NY closed
  const abs = sig('absorption', 'buy', 80, ts - 1000);
  it('LONG with all factors; confidence terms', () => {
    const r = ruleSignal({ ts, symbol: 'X', price: 100.1, cvd: [0, 500, 1000], imbalance: 0.5, vwap: 100, absorption: abs });
    expect(r).toMatchObject({ signal: 'LONG', confidence: 85.5, confidence_level: 'high', session_active: true, metrics: { cvd: 1000, imbalance: 0.5, vwap: 100, absorption: 8 } });
    expect(r.timestamp).toBe('2024-01-10T12:00:00.000Z');
    expect(r.reasoning.length).toBeGreaterThanOrEqual(4);
  });
  it('SHORT mirrored; WAIT on mixed factors; session filter', () => {
    expect(ruleSignal({ ts, symbol: 'X', price: 99.9, cvd: [1000, 0], imbalance: -0.2, vwap: 100, absorption: abs })).toMatchObject({ signal: 'SHORT', confidence: 72.14, confidence_level: 'medium' }) // 50 + 15 + 0.05/0.35 × 15 + 5 + 0 (absorption on the other side);
    expect(ruleSignal({ ts, symbol: 'X', price: 99, cvd: [0, 10], imbalance: 0.5, vwap: 100, absorption: null })).toMatchObject({ signal: 'WAIT', confidence: 50, confidence_level: 'insufficient' });
    const ny = ruleSignal({ ts, symbol: 'X', price: 100.1, cvd: [0, 1000], imbalance: 0.5, vwap: 100, absorption: null }, { sessions: ['ny'] });
    expect(ny).toMatchObject({ signal: 'WAIT', session_active: false });
    expect(ruleSignal({ ts, symbol: 'X', price: 100.1, cvd: [0, 1000], imbalance: 0.5, vwap: 100, absorption: null }, { sessions: ['london'] }).signal).toBe('LONG');
  });
});

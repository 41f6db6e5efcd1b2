import { describe, expect, it } from 'vitest';
import { SideClassifier } from '../../engine/src/core/classify.js';
import { newQuote, newTrade, type Trade } from '../../engine/src/core/events.js';

function trade(price: number, side: Trade['side'] = 'unknown', src: Trade['sideSource'] = 'none'): Trade {
  const t = newTrade('X');
  t.price = price; t.size = 1; t.side = side; t.sideSource = src;
  return t;
}

describe('classification ladder', () => {
  it('keeps an exchange flag', () => {
    const c = new SideClassifier();
    const q = newQuote('X'); q.bid = 100; q.ask = 102; c.onQuote(q);
    const t = trade(100, 'buy', 'flag'); // at the bid but flagged buy: the flag wins
    c.classify(t);
    expect([t.side, t.sideSource]).toEqual(['buy', 'flag']);
  });

  it('quote rule: above the mid is a buy, below a sell', () => {
    const c = new SideClassifier();
    const q = newQuote('X'); q.bid = 100; q.ask = 104; c.onQuote(q);
    const a = trade(103); c.classify(a);
    const b = trade(101); c.classify(b);
    expect([a.side, a.sideSource]).toEqual(['buy', 'quote']);
    expect([b.side, b.sideSource]).toEqual(['sell', 'quote']);
  });

  it('Lee–Ready: a trade at the mid falls back to the tick rule', () => {
    const c = new SideClassifier();
    c.classify(trade(100)); // first trade, no quote, no prior price -> none
    const q = newQuote('X'); q.bid = 100; q.ask = 104; c.onQuote(q);
    const t = trade(102); c.classify(t); // at mid (102), uptick from 100
    expect([t.side, t.sideSource]).toEqual(['buy', 'tick']);
  });

  it('tick rule without quotes; zero tick carries the previous sign; the first trade is unclassified', () => {
    const c = new SideClassifier();
    const seq = [100, 101, 101, 99, 99, 100].map((p) => trade(p));
    seq.forEach((t) => c.classify(t));
    expect(seq.map((t) => t.side)).toEqual(['unknown', 'buy', 'buy', 'sell', 'sell', 'buy']);
    expect(seq.map((t) => t.sideSource)).toEqual(['none', 'tick', 'tick', 'tick', 'tick', 'tick']);
  });

  it('flags can be disabled and then the ladder decides', () => {
    const c = new SideClassifier({ useFlags: false });
    const q = newQuote('X'); q.bid = 100; q.ask = 102; c.onQuote(q);
    const t = trade(100, 'buy', 'flag'); c.classify(t);
    expect([t.side, t.sideSource]).toEqual(['sell', 'quote']);
  });

  it('stale quotes are ignored when maxQuoteAgeMs is set', () => {
    const c = new SideClassifier({ maxQuoteAgeMs: 1000 });
    const q = newQuote('X'); q.bid = 100; q.ask = 102; q.ts = 0; c.onQuote(q);
    c.classify(trade(105));
    const t = trade(101); t.ts = 5000; c.classify(t);
    expect([t.side, t.sideSource]).toEqual(['sell', 'tick']);
  });

  it('mid-tick rule for quote-only feeds: one unit per quote update, labelled midtick', () => {
    const c = new SideClassifier();
    const out = newTrade();
    const mids: [number, number][] = [[100, 102], [101, 103], [101, 103], [100, 101]];
    const res = mids.map(([b, a]) => {
      const q = newQuote('EURUSD'); q.bid = b; q.ask = a;
      c.quoteActivity(q, 100, out);
      return [out.side, out.sideSource, out.price, out.size];
    });
    expect(res).toEqual([
      ['unknown', 'none', 100, 100],
      ['buy', 'midtick', 101, 100],
      ['buy', 'midtick', 101, 100], // unchanged mid keeps the previous sign
      ['sell', 'midtick', 100, 100],
    ]);
  });
});

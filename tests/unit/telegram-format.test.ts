import { describe, expect, it } from 'vitest';
import { escapeHtml, fitCaption, formatAlert, splitHtml, stripHtml, truncateLine, visibleLength, CAPTION_LIMIT, TEXT_LIMIT } from '../../engine/src/alerts/format.js';
import type { AlertPayload } from '../../engine/src/alerts/types.js';
import { htmlParseError, htmlVisibleLength } from '../helpers/bot-api-server.js';

const TS = Date.UTC(2024, 0, 10, 0, 7, 0);

export const FIXTURES: Record<string, AlertPayload> = {
  entry: {
    kind: 'entry', symbol: 'BTCUSDT', ts: TS, key: 'entry:BTCUSDT:buy:1', side: 'buy', score: 72.5, grade: 'A', pattern: 'absorption/level',
    delta: -12.345, volume: 48.2, avgVolume: 20.1, bias: { direction: 'long', confidence: 62.5, shape: 'P' },
    entry: '42010.5', sl: '41980.0', tp: '42100.0', rr: 2.9344, level: { kind: 'VAL', price: '42000.0', strength: 70 },
    reasoning: ['LONG at 42010.5: absorption BTCUSDT:absorption/level:3 at VAL 42000', 'composite 72.5 (grade A)'],
  },
  break_even: { kind: 'break_even', symbol: 'BTCUSDT', ts: TS + 60_000, key: 'be:BTCUSDT:buy:1', side: 'buy', grade: 'A', entry: '42010.5', sl: '42010.5', tp: '42100.0', reasoning: ['same-direction initiative (strength 61): stop to break-even'] },
  trail: { kind: 'trail', symbol: 'BTCUSDT', ts: TS + 120_000, key: 'trail:BTCUSDT:buy:1:2', side: 'buy', grade: 'A', entry: '42010.5', sl: '42030.0', tp: '42100.0', reasoning: ['initiative: stop trailed to the bar low 42030'] },
  exit: { kind: 'exit', symbol: 'BTCUSDT', ts: TS + 302_000, key: 'exit:BTCUSDT:buy:1', side: 'buy', grade: 'A', entry: '42010.5', exit: '42100.0', reason: 'tp', pnl: '89.5', r: 2.93, durationMs: 302_000, summary: ['target 42100 reached', 'closed at 42100: 2.93 R'] },
  exit_sl: { kind: 'exit', symbol: 'ES', ts: TS, key: 'exit:ES:sell:1', side: 'sell', grade: 'B', entry: '4800.25', exit: '4802.00', reason: 'sl', pnl: '-1.75', r: -1, durationMs: 3_723_000, summary: ['stop 4802 touched'] },
  exit_warning: { kind: 'exit_warning', symbol: 'BTCUSDT', ts: TS + 200_000, key: 'warn:1', side: 'buy', grade: 'A', signalKind: 'divergence', strength: 55.25, closeThreshold: 70, price: '42060.0', entry: '42010.5', reasoning: ['new high 42070 with CVD peak 62 % of the prior'] },
  daily_bias: {
    kind: 'daily_bias', symbol: 'BTCUSDT', ts: TS, key: 'bias:BTCUSDT:2024-01-09:2024-01-10', session: '2024-01-10', priorSession: '2024-01-09', shape: 'P', direction: 'long', confidence: 62.5,
    acceptance: 'inside', warning: true, poc: '42050.0', vah: '42200.0', val: '41900.0', lvns: ['41950.0', '42150.0'],
    levels: [{ kind: 'VAL', price: '41900.0', strength: 70, merged: true, confluence: false }, { kind: 'POC', price: '42050.0', strength: 90, merged: true, confluence: true }],
    reasoning: ['prior session P-shaped (POC at 75 %): long bias 62.5', 'WARNING: VAH 42200 rejected the day before'],
  },
  rule: {
    kind: 'rule', symbol: 'BTCUSDT', ts: TS, key: 'rule:BTCUSDT:LONG:1', signal: 'LONG', confidence: 82.4, level: 'high', price: '42010.5', cvd: 1234.5, imbalance: 0.32, vwap: 42001.27,
    absorption: 8.5, sessionActive: true, session: '2024-01-10', reasoning: ['CVD rising (slope 250 per bar)', 'book imbalance 0.32 (threshold ±0.15)', 'price 42010.5 >= VWAP 42001.27'],
  },
  rule_short: {
    kind: 'rule', symbol: 'EURUSD', ts: TS, key: 'rule:EURUSD:SHORT:1', signal: 'SHORT', confidence: 61, level: 'low', price: '1.0921', cvd: -40, imbalance: null, vwap: null,
    absorption: 0, sessionActive: false, session: '', reasoning: ['CVD falling'],
  },
  sweep: { kind: 'sweep', symbol: 'BTCUSDT', ts: TS, key: 'sweep:1', side: 'sell', low: '42000.0', high: '42012.5', strength: 64, reasoning: ['sell sweep through 6 levels'] },
};

const GOLDEN: Record<string, string[]> = {
  entry: [
    '🟢 <b>ENTRY SIGNAL · LONG</b> <code>BTCUSDT</code>',
    'Score <b>72.5</b> · grade <b>A</b> · absorption/level',
    'Delta <b>-12.34</b> · volume 48.2 (2.4× avg 20.1)',
    'Bias long 62.5 (P)',
    'Entry <code>42010.5</code> · SL <code>41980.0</code> · TP <code>42100.0</code>',
    'R:R <b>2.93</b>',
    'Level VAL <code>42000.0</code> (strength 70)',
    '• LONG at 42010.5: absorption BTCUSDT:absorption/level:3 at VAL 42000',
    '• composite 72.5 (grade A)',
    '🕒 2024-01-10 00:07:00 UTC',
  ],
  break_even: [
    '🛡 <b>BREAK EVEN</b> <code>BTCUSDT</code> · LONG (grade A)',
    'Stop moved to entry <code>42010.5</code> · TP <code>42100.0</code>',
    '• same-direction initiative (strength 61): stop to break-even',
    '🕒 2024-01-10 00:08:00 UTC',
  ],
  trail: [
    '📐 <b>TRAIL UPDATE</b> <code>BTCUSDT</code> · LONG (grade A)',
    'New SL <code>42030.0</code> · entry <code>42010.5</code> · TP <code>42100.0</code>',
    '• initiative: stop trailed to the bar low 42030',
    '🕒 2024-01-10 00:09:00 UTC',
  ],
  exit: [
    '✅ <b>EXIT · LONG</b> <code>BTCUSDT</code> · target hit',
    'Entry <code>42010.5</code> → exit <code>42100.0</code>',
    'PnL <b>+89.5</b> · <b>+2.93 R</b> · held 5m 2s',
    '• target 42100 reached',
    '• closed at 42100: 2.93 R',
    '🕒 2024-01-10 00:12:02 UTC',
  ],
  exit_sl: [
    '❌ <b>EXIT · SHORT</b> <code>ES</code> · stop hit',
    'Entry <code>4800.25</code> → exit <code>4802.00</code>',
    'PnL <b>-1.75</b> · <b>-1 R</b> · held 1h 2m',
    '• stop 4802 touched',
    '🕒 2024-01-10 00:07:00 UTC',
  ],
  exit_warning: [
    '⚠️ <b>EXIT WARNING</b> <code>BTCUSDT</code> · LONG open (grade A)',
    'Opposite divergence, strength <b>55.25</b> (closes at 70)',
    'Price <code>42060.0</code> · entry <code>42010.5</code>',
    '• new high 42070 with CVD peak 62 % of the prior',
    '🕒 2024-01-10 00:10:20 UTC',
  ],
  daily_bias: [
    '🧭 <b>DAILY BIAS</b> <code>BTCUSDT</code> · 2024-01-10',
    'Prior session 2024-01-09: shape <b>P</b> → <b>LONG</b>, confidence <b>62.5</b>',
    'Value acceptance inside · ⚠️ <b>WARNING</b>',
    'POC <code>42050.0</code> · VAH <code>42200.0</code> · VAL <code>41900.0</code>',
    'LVNs <code>41950.0</code>, <code>42150.0</code>',
    'Qualified levels:',
    '  VAL <code>41900.0</code> strength 70 merged',
    '  POC <code>42050.0</code> strength 90 merged confluence',
    '• prior session P-shaped (POC at 75 %): long bias 62.5',
    '• WARNING: VAH 42200 rejected the day before',
    '🕒 2024-01-10 00:07:00 UTC',
  ],
  rule: [
    '🟢 <b>LONG</b> <code>BTCUSDT</code> · confidence <b>82.4</b> (high)',
    'Price <code>42010.5</code>',
    'CVD +1234.5 · imbalance +0.32 · VWAP <code>42001.27</code>',
    'Absorption +8.5 · session 2024-01-10 active',
    '• CVD rising (slope 250 per bar)',
    '• book imbalance 0.32 (threshold ±0.15)',
    '• price 42010.5 &gt;= VWAP 42001.27',
    '🕒 2024-01-10 00:07:00 UTC',
  ],
  rule_short: [
    '🔴 <b>SHORT</b> <code>EURUSD</code> · confidence <b>61</b> (low)',
    'Price <code>1.0921</code>',
    'CVD -40 · imbalance n/a · VWAP n/a',
    'Absorption 0 · session inactive',
    '• CVD falling',
    '🕒 2024-01-10 00:07:00 UTC',
  ],
  sweep: [
    '⚡ <b>SWEEP</b> <code>BTCUSDT</code> · sell side (bearish) <code>42000.0</code>–<code>42012.5</code> · strength <b>64</b>',
    '• sell sweep through 6 levels',
    '🕒 2024-01-10 00:07:00 UTC',
  ],
};

describe('alert formats (golden)', () => {
  for (const name of Object.keys(FIXTURES)) {
    it(`${name}`, () => {
      const html = formatAlert(FIXTURES[name]);
      expect(html).toBe(GOLDEN[name].join('\n'));
      expect(htmlParseError(html)).toBeNull();
    });
  }
  it('covers every alert kind', () => {
    expect(new Set(Object.values(FIXTURES).map((f) => f.kind))).toEqual(new Set(['entry', 'break_even', 'trail', 'exit', 'exit_warning', 'daily_bias', 'rule', 'sweep']));
  });
});

describe('HTML escaping', () => {
  it('escapes <, >, & (and ") in symbols and reasoning, keeping markup valid', () => {
    expect(escapeHtml('a<b>&c"d')).toBe('a&lt;b&gt;&amp;c&quot;d');
    const evil = 'X<b>&Y';
    const r = { ...FIXTURES.rule, symbol: evil, reasoning: ['price < VWAP & CVD > 0', '<script>alert(1)</script> &amp;'] } as AlertPayload;
    const html = formatAlert(r);
    expect(html.split('\n')[0]).toBe('🟢 <b>LONG</b> <code>X&lt;b&gt;&amp;Y</code> · confidence <b>82.4</b> (high)');
    expect(html).toContain('• price &lt; VWAP &amp; CVD &gt; 0');
    expect(html).toContain('• &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;');
    expect(htmlParseError(html)).toBeNull();
    expect(stripHtml(html)).toContain('🟢 LONG X<b>&Y · confidence 82.4 (high)');
    expect(stripHtml(html)).toContain('• <script>alert(1)</script> &amp;');
    for (const f of Object.values(FIXTURES)) {
      const x = formatAlert({ ...f, symbol: '<&>' } as AlertPayload);
      expect(htmlParseError(x)).toBeNull();
      expect(x).toContain('<code>&lt;&amp;&gt;</code>');
    }
  });
  it('counts visible length like Telegram (tags removed, entities one character)', () => {
    expect(visibleLength('<b>a&lt;b</b> &amp;')).toBe(5);
    const html = formatAlert(FIXTURES.entry);
    expect(visibleLength(html)).toBe(htmlVisibleLength(html));
  });
});

describe('length limits', () => {
  const long = { ...FIXTURES.entry, reasoning: Array.from({ length: 120 }, (_, i) => `reason ${i} <${'x'.repeat(40)}> & more`) } as AlertPayload;
  it('splits long messages on line boundaries into parts of at most 4096 visible characters', () => {
    const html = formatAlert(long);
    expect(visibleLength(html)).toBeGreaterThan(TEXT_LIMIT);
    const parts = splitHtml(html);
    expect(parts.length).toBe(2);
    for (const p of parts) { expect(visibleLength(p)).toBeLessThanOrEqual(TEXT_LIMIT); expect(htmlParseError(p)).toBeNull(); }
    expect(parts.join('\n')).toBe(html);
  });
  it('truncates a single overlong line cleanly (no broken tag or entity)', () => {
    const line = `<b>${'&amp;'.repeat(5000)}</b>`;
    const t = truncateLine(line, 100);
    expect(visibleLength(t)).toBe(100);
    expect(t.endsWith('…')).toBe(true);
    expect(htmlParseError(t)).toBeNull();
    expect(t).toBe('&amp;'.repeat(99) + '…');
    const parts = splitHtml(`head\n${line}\ntail`, 100);
    expect(parts.map(visibleLength)).toEqual([4, 100, 4]);
  });
  it('fits captions to 1024: leading lines, the rest returned for a follow-up message', () => {
    const short = formatAlert(FIXTURES.entry);
    expect(fitCaption(short)).toEqual({ caption: short, rest: null });
    const html = formatAlert(long);
    const { caption, rest } = fitCaption(html);
    expect(visibleLength(caption)).toBeLessThanOrEqual(CAPTION_LIMIT);
    expect(visibleLength(caption)).toBeGreaterThan(CAPTION_LIMIT - 70);
    expect(`${caption}\n${rest}`).toBe(html);
    expect(htmlParseError(caption)).toBeNull();
  });
});

/**
 * analytics.imbalance.minDominant / minOther are instrument units like every other size setting: each
 * pipeline converts them to its own lots (rounded up, so the comparison stays exact), trade counts with
 * metric 'trades' (validated as whole numbers), and the served row flags follow.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateConfig, pipelineOptions } from '../../engine/src/config/index.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { HistoryService } from '../../datafeed-adapter/src/service/history.js';
import { newTrade } from '../../engine/src/core/events.js';

const cfg = (y: string) => validateConfig(parse(y));

describe('imbalance minimums in instrument units', () => {
  it('each instrument converts the config value to its own lots', () => {
    const c = cfg('analytics:\n  imbalance:\n    minDominant: 0.5\n    minOther: 0.0015\n').config!;
    const reg = new InstrumentRegistry();
    const e = new Engine(reg, pipelineOptions(c.analytics));
    const btc = e.pipeline('BTCUSDT'); // lot 0.001
    expect(btc.instrument.lotStep).toBe('0.001');
    expect(btc.opts.imbalance.minDominant).toBe(500);
    expect(btc.opts.imbalance.minOther).toBe(2); // 0.0015 → 1.5 lots → 2 (dominant ≥ 0.0015 ⇔ lots ≥ 2)
    const eur = e.pipeline('EURUSD'); // lot 0.01
    expect(eur.instrument.lotStep).toBe('0.01');
    expect(eur.opts.imbalance.minDominant).toBe(50);
  });

  it('with metric trades the minimums are whole trade counts, validated by key path', () => {
    expect(cfg('analytics:\n  imbalance:\n    metric: trades\n    minDominant: 1.5\n').errors.map((x) => x.path)).toEqual(['analytics.imbalance.minDominant']);
    const c = cfg('analytics:\n  imbalance:\n    metric: trades\n    minDominant: 4\n').config!;
    const e = new Engine(new InstrumentRegistry(), pipelineOptions(c.analytics));
    expect(e.pipeline('BTCUSDT').opts.imbalance.minDominant).toBe(4);
  });

  it('served row flags follow the instrument-unit minimum', () => {
    const flags = (min: number): number[] => {
      const c = cfg(`analytics:\n  imbalance:\n    minDominant: ${min}\n`).config!;
      const e = new Engine(new InstrumentRegistry(), pipelineOptions(c.analytics));
      const s = new HistoryService(e);
      const t0 = Date.UTC(2024, 7, 8, 10, 0, 0);
      const t = newTrade('BTCUSDT');
      // one buy of 0.3 BTC at 60000.0, nothing below it: a buy imbalance when 0.3 ≥ minDominant
      Object.assign(t, { ts: t0, id: 1, price: 600000, size: 300, side: 'buy', sideSource: 'flag' });
      e.onEvent(t);
      const fp = s.footprint('BTCUSDT', { agg: 'time', resolution: '1', from: t0 - 60_000, to: t0 + 60_000, countback: 0, rows: true }) as { bars: { rows: { imbalance: number }[] }[] };
      return fp.bars[0].rows.map((r) => r.imbalance);
    };
    expect(flags(0.3)).toEqual([1]);
    expect(flags(0.301)).toEqual([0]);
  });
});

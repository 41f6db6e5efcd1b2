import { describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { replayFile } from '../../engine/src/replay/index.js';
import { runReplay } from '../../engine/src/cli/commands/replay.js';
import { dataFile } from '../helpers/data.js';

const CAPTURES: [string, string][] = [
  ['binance/usdm_btcusdt_20240808.gz', 'BTCUSDT'],
  ['binance/spot_btcusdt_20240808.gz', 'BINANCE_SPOT:BTCUSDT'],
  ['binance/spot_btcusdt_20240809.gz', 'BINANCE_SPOT:BTCUSDT'],
  ['binance/cm_btcusd_perp_20240808.gz', 'BINANCE_COINM:BTCUSD_PERP'],
  ['binance/cm_btcusd_perp_20240809.gz', 'BINANCE_COINM:BTCUSD_PERP'],
];

async function replay(file: string, opts: { cvdReset?: 'session' | 'never' } = {}) {
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', cvdReset: opts.cvdReset ?? 'never' });
  const ids: number[] = [];
  let tapeVolume = 0, tapeBuy = 0, tapeSell = 0;
  await replayFile(dataFile(file), (ev) => {
    if (ev.type === 'trade') {
      ids.push(ev.id); tapeVolume += ev.size;
      if (ev.side === 'buy') tapeBuy += ev.size; else if (ev.side === 'sell') tapeSell += ev.size;
    }
    engine.onEvent(ev);
  }, { registry });
  engine.finish();
  return { engine, ids, tapeVolume, tapeBuy, tapeSell };
}

describe.each(CAPTURES)('Binance capture %s', (file, instrument) => {
  it('trade ids are contiguous; buy − sell = final CVD; 1m bar volumes sum to the tape; identical across two replays', async () => {
    const a = await replay(file);
    expect(a.ids.length).toBeGreaterThan(1000);
    for (let i = 1; i < a.ids.length; i++) if (a.ids[i] !== a.ids[i - 1] + 1) throw new Error(`id gap at ${i}: ${a.ids[i - 1]} → ${a.ids[i]}`);
    const p = a.engine.pipeline(instrument);
    expect(p.counters.idGaps).toBe(0);
    expect(p.counters.sourceVolume[0]).toBe(a.tapeVolume); // every side from the exchange flag
    expect(p.cvd.value).toBe(a.tapeBuy - a.tapeSell);
    expect(p.counters.buyVolume - p.counters.sellVolume).toBe(p.cvd.value);
    const barVolume = p.bars.reduce((s, b) => s + b.bar.volume, 0);
    expect(barVolume).toBe(a.tapeVolume);
    const rowVolume = p.bars.reduce((s, b) => { let v = 0; for (let i = 0; i < b.bar.rows.length; i++) v += b.bar.rows.volumeAt(i); return s + v; }, 0);
    expect(rowVolume).toBe(a.tapeVolume);
    expect(p.bars.every((b) => b.bar.end - b.bar.start === 60_000)).toBe(true);
    const b = await replay(file);
    expect(b.engine.checksum()).toBe(a.engine.checksum());
    expect(b.engine.pipeline(instrument).checksum()).toBe(p.checksum());
  });
});

describe('session CVD reset on real data', () => {
  it('the COIN-M pair crosses 00:00 UTC: CVD restarts at midnight and equals buy − sell since then', async () => {
    const registry = new InstrumentRegistry();
    const engine = new Engine(registry, { timeframe: '1m', cvdReset: 'session' });
    for (const f of ['binance/cm_btcusd_perp_20240808.gz', 'binance/cm_btcusd_perp_20240809.gz']) await replayFile(dataFile(f), engine.onEvent, { registry });
    engine.finish();
    const p = engine.pipeline('BINANCE_COINM:BTCUSD_PERP');
    const midnight = Date.UTC(2024, 7, 9);
    const after = p.bars.filter((b) => b.bar.start >= midnight);
    const before = p.bars.filter((b) => b.bar.start < midnight);
    expect(after.length).toBeGreaterThan(2);
    expect(before.length).toBeGreaterThan(2);
    expect(p.cvd.value).toBe(after.reduce((x, b) => x + b.bar.delta, 0));
    expect(after[0].bar.cvdOpen).toBe(0);
    expect(before.at(-1)!.bar.cvdClose).toBe(before.reduce((x, b) => x + b.bar.delta, 0));
    expect(p.profiles.sessions.map((x) => x.key)).toEqual(['2024-08-08', '2024-08-09']);
  });
});

describe('the two-file pairs replay as one tape', () => {
  it('spot 08 + 09 join with contiguous ids and one checksum regardless of run', async () => {
    const files = [dataFile('binance/spot_btcusdt_20240808.gz'), dataFile('binance/spot_btcusdt_20240809.gz')];
    const r1 = await runReplay(files, {});
    const r2 = await runReplay(files, {});
    expect(r1.checksum).toBe(r2.checksum);
    const i = r1.instruments.find((x) => x.instrument === 'BINANCE_SPOT:BTCUSDT')!;
    expect(i.tradeIdGaps).toBe(0);
    expect(i.sideSources).toEqual({ flag: 100 });
  });
});

describe('forex quote files: quote-activity provenance', () => {
  it.each([
    ['forex/truefx_audusd_20200130_31_ticks.csv.gz', 'AUDUSD', 100000],
    ['forex/histdata_eurusd_ticks_9500.csv', 'EURUSD', 9500],
    ['forex/truefx_usdjpy_ticks_1000.csv', 'USDJPY', 1000],
  ])('%s replays as %s with every unit labelled midtick/none', async (file, inst, rows) => {
    const r = await runReplay([dataFile(file)], { instrument: inst });
    const i = r.instruments.find((x) => x.instrument === inst)!;
    expect(r.badLines).toBe(0);
    expect(i.quotes).toBe(rows);
    expect(i.trades).toBe(rows); // one tick-volume unit per quote update
    expect(i.flow).toMatch(/^quote-activity/);
    expect(Object.keys(i.sideSources).sort()).toEqual(expect.arrayContaining(['midtick']));
    expect(Object.keys(i.sideSources).every((k) => k === 'midtick' || k === 'none')).toBe(true);
    expect(i.sideSources.midtick).toBeGreaterThan(99);
    const r2 = await runReplay([dataFile(file)], { instrument: inst });
    expect(r2.checksum).toBe(r.checksum);
  });
});

import { describe, expect, it } from 'vitest';
import { Checksum } from '../../engine/src/analytics/checksum.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { newTrade } from '../../engine/src/core/events.js';

describe('Checksum.nums', () => {
  it('equals num() value by value, including -0, NaN, infinities and values with the top bit set', () => {
    let a = 7;
    const r = (): number => { a = (a * 1103515245 + 12345) % 2147483648; return a / 2147483648; };
    const xs = new Float64Array(5000);
    for (let i = 0; i < xs.length; i++) xs[i] = (r() - 0.5) * 10 ** Math.floor(r() * 12);
    xs[3] = -0; xs[9] = NaN; xs[10] = Infinity; xs[11] = -Infinity; xs[12] = -1; xs[13] = -(2 ** 40);
    const one = new Checksum().num(1);
    for (let i = 0; i < xs.length; i++) one.num(xs[i]);
    const bulk = new Checksum().num(1).nums(xs, 0, xs.length);
    expect(bulk.hex()).toBe(one.hex());
    expect(new Checksum().nums(xs, 100, 50).hex()).toBe(xs.subarray(100, 150).reduce((h, x) => h.num(x), new Checksum()).hex());
    expect(new Checksum().num(-0).hex()).toBe(new Checksum().num(0).hex());
  });
});

describe('Engine routing', () => {
  it('onEventAt with a resolved route index gives the same bars as onEvent by instrument id', () => {
    const reg = new InstrumentRegistry();
    const ids = ['BTCUSDT', 'BINANCE_SPOT:BTCUSDT', 'BINANCE_COINM:BTCUSD_PERP'];
    const byId = new Engine(reg, { footprintRowTicks: 1, profileRowTicks: 1 });
    const byIx = new Engine(reg, { footprintRowTicks: 1, profileRowTicks: 1 });
    const routes = ids.map((id) => byIx.route(id));
    expect(routes).toEqual([0, 1, 2]);
    expect(byIx.route('BTCUSDT')).toBe(0);
    let p = 600_000;
    for (let i = 0; i < 30_000; i++) {
      const k = (i * 7919) % 3;
      // a fresh id string each time for the string path: compares must be by value, not pointer
      const t = newTrade(String(ids[k]));
      p += ((i * 31) % 7) - 3;
      t.ts = 1_700_000_000_000 + i * 50; t.id = i + 1; t.price = p; t.size = 1 + (i % 13); t.side = i % 3 === 0 ? 'sell' : 'buy'; t.sideSource = 'flag';
      byId.onEvent(t);
      byIx.onEventAt(routes[k], t);
    }
    byId.finish(); byIx.finish();
    expect(byIx.events).toBe(30_000);
    expect(byIx.pipelines.get('BTCUSDT')!.bars.length).toBeGreaterThan(20);
    expect(byIx.checksum()).toBe(byId.checksum());
    for (const id of ids) expect(byIx.pipeline(id).counters.trades).toBe(byId.pipeline(id).counters.trades);
    expect(byId.pipeline('BTCUSDT').counters.trades).toBe(10_000);
  });
});

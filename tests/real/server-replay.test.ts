/**
 * Real data through the replay-to-server path: the Binance spot BTCUSDT capture (two files that join
 * across 00:00 UTC) is replayed at max speed into a live server with a store; UDF /history, the
 * footprint API and the store agree with the engine's own figures.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Store } from '../../engine/src/store/store.js';
import { serveReplay, type ServeReplayHandle } from '../../datafeed-adapter/src/service/serve-replay.js';

const DATA = process.env.TAPEFLOW_DATA ?? resolve(__dirname, '../../../shared/data');
const files = ['binance/spot_btcusdt_20240808.gz', 'binance/spot_btcusdt_20240809.gz'].map((f) => join(DATA, f));
const dir = mkdtempSync(join(tmpdir(), 'tf-real-'));
let h: ServeReplayHandle | undefined;
let store: Store | undefined;
afterAll(async () => { await h?.close(); store?.close(); rmSync(dir, { recursive: true, force: true }); });

describe('serveReplay on real Binance spot data', () => {
  it('serves history, footprints and stored bars consistent with the engine', async () => {
    expect(files.every(existsSync)).toBe(true);
    store = Store.open({ path: join(dir, 'real.sqlite') });
    h = await serveReplay(files, { speed: 'max', store, server: { port: 0, staticDir: false } });
    const fed = await h.done;
    expect(fed.events).toBeGreaterThan(10_000);
    const p = h.engine.pipelines.get('BINANCE_SPOT:BTCUSDT')!;
    expect(p.counters.trades).toBeGreaterThan(1000);
    const sym = encodeURIComponent('BINANCE_SPOT:BTCUSDT');
    const from = Math.floor(Date.UTC(2024, 7, 8, 23, 50) / 1000), to = Math.floor(Date.UTC(2024, 7, 9, 0, 10) / 1000);
    const hist = await (await fetch(`${h.url}/history?symbol=${sym}&resolution=1&from=${from}&to=${to}`)).json() as { s: string; t: number[]; v: number[] };
    expect(hist.s).toBe('ok');
    expect(hist.t[0]).toBe(Math.floor(Date.UTC(2024, 7, 8, 23, 54) / 1000));
    expect(hist.t[hist.t.length - 1]).toBe(Math.floor(Date.UTC(2024, 7, 9, 0, 5) / 1000));
    const vol = hist.v.reduce((a, b) => a + b, 0);
    expect(vol).toBeCloseTo(p.instrument.qty.toNumber(p.counters.volume), 6);
    const daily = await (await fetch(`${h.url}/history?symbol=${sym}&resolution=1D&from=${from - 86400}&to=${to}`)).json() as { t: number[] };
    expect(daily.t).toEqual([Date.UTC(2024, 7, 8) / 1000, Date.UTC(2024, 7, 9) / 1000]);
    const fp = await (await fetch(`${h.url}/api/v1/footprint?symbol=${sym}&resolution=5&from=${from * 1000}&to=${to * 1000}`)).json() as { bars: { buyVolume: number; sellVolume: number; rows: { ask: number; bid: number }[] }[] };
    for (const b of fp.bars) {
      expect(b.rows.reduce((a, r) => a + r.ask, 0)).toBeCloseTo(b.buyVolume, 6);
      expect(b.rows.reduce((a, r) => a + r.bid, 0)).toBeCloseTo(b.sellVolume, 6);
    }
    await store.flush();
    expect(store.tradeCount('BINANCE_SPOT:BTCUSDT')).toBe(p.counters.trades);
    expect(store.barCount('BINANCE_SPOT:BTCUSDT', '1m')).toBe(p.bars.length);
    expect(store.integrityCheck()).toBe('ok');
  });
});

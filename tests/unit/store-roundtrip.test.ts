import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { Checksum } from '../../engine/src/analytics/checksum.js';
import { Store } from '../../engine/src/store/store.js';
import { decodeBar, encodeBar, Writer, writeGrid } from '../../engine/src/store/codec.js';
import type { RowGrid } from '../../engine/src/analytics/row-grid.js';
import { recordEngine, restoreEngine } from '../../engine/src/store/recorder.js';
import { randomTape } from '../helpers/tape.js';

const dirs: string[] = [];
function tmp(): string { const d = mkdtempSync(join(tmpdir(), 'tf-store-')); dirs.push(d); return d; }
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function digest(b: Parameters<typeof encodeBar>[0]): string { const h = new Checksum(); b.digest(h); return h.hex(); }

describe('store codec', () => {
  it('bar blobs round-trip every field and row cell exactly, and reject truncation', () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    for (const t of randomTape(7, 5000)) engine.onEvent(t);
    engine.finish();
    const bars = engine.pipelines.get('BTCUSDT')!.bars;
    expect(bars.length).toBeGreaterThan(10);
    let bytes = 0, rows = 0;
    for (const { bar } of bars) {
      const blob = encodeBar(bar);
      bytes += blob.length; rows += bar.rows.length;
      const back = decodeBar('BTCUSDT', blob);
      expect(digest(back)).toBe(digest(bar));
      expect(() => decodeBar('BTCUSDT', blob.subarray(0, blob.length - 1))).toThrow();
    }
    // compact: well under 8 bytes per row cell (6 cells per row) plus the header
    expect(bytes).toBeLessThan(bars.length * 80 + rows * 6 * 3);
  });
});

describe('store codec at 1-tick rows', () => {
  it('a spot-like bar (0.01 tick, most rows of the range empty) is stored sparse: bytes follow traded rows, not the range', () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', footprintRowTicks: 1, profileRowTicks: 1 });
    // prices jump around a wide range (falling and rising): a bar spans thousands of 1-tick rows
    const tape = randomTape(21, 6000).map((t, k) => ({ ...t, price: 6_000_000 + Math.round(Math.sin(k / 40) * 3000) + (k % 7) * 13 }));
    for (const t of tape) engine.onEvent(t);
    engine.finish();
    const bars = engine.pipelines.get('BTCUSDT')!.bars;
    let sparse = 0, dense = 0, span = 0, traded = 0;
    for (const { bar } of bars) {
      const blob = encodeBar(bar);
      sparse += blob.length;
      const back = decodeBar('BTCUSDT', blob);
      expect(digest(back)).toBe(digest(bar));
      expect((back.rows as RowGrid).capacity).toBe(back.rows.length); // decoded bars hold no free rows
      const w = new Writer();
      writeGrid(w, bar.rows);
      dense += w.bytes().length;
      span += bar.rows.length;
      for (let i = 0; i < bar.rows.length; i++) if (bar.rows.volumeAt(i) > 0) traded++;
    }
    expect(span).toBeGreaterThan(traded * 3);
    expect(sparse).toBeLessThan(dense / 2);
    expect(sparse).toBeLessThan(bars.length * 120 + traded * 6 * 4);
  });

  it('version-1 blobs (dense rows) still decode to the same bar', () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    for (const t of randomTape(5, 3000)) engine.onEvent(t);
    engine.finish();
    const { bar } = engine.pipelines.get('BTCUSDT')!.bars[2];
    const v2 = encodeBar(bar);
    // rebuild the same header with the dense grid and version byte 1
    const w = new Writer();
    writeGrid(w, bar.rows);
    const denseGrid = w.bytes();
    // the header ends with the session key's bytes (after its length)
    const headerLen = v2.indexOf(Buffer.from(bar.sessionKey)) + bar.sessionKey.length;
    expect(headerLen).toBeGreaterThan(bar.sessionKey.length);
    const v1 = Buffer.concat([Buffer.from([1]), v2.subarray(1, headerLen), denseGrid]);
    expect(digest(decodeBar('BTCUSDT', v1))).toBe(digest(bar));
  });
});

describe('store', () => {
  it('round-trips instruments, trades, bars, profiles, signals, journal, gaps; flush means committed', async () => {
    const path = join(tmp(), 'a.sqlite');
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    const store = Store.open({ path, flushIntervalMs: 0 });
    recordEngine(engine, store);
    const tape = randomTape(3, 8000);
    for (const t of tape) engine.onEvent(t);
    store.putSignal('BTCUSDT', tape[10].ts, 'absorption', { side: 'buy', price: 60000 });
    store.putJournal('BTCUSDT', tape[11].ts, 'entry', { qty: 1 });
    engine.onEvent({ type: 'gap', instrument: 'BTCUSDT', ts: tape[12].ts, from: 5, to: 9, reason: 'id gap' });
    expect(store.queued).toBeGreaterThan(8000);
    const reader = Store.open({ path, flushIntervalMs: 0 });
    expect(reader.tradeCount()).toBe(0); // nothing acknowledged yet
    await store.flush();
    expect(store.queued).toBe(0);
    expect(reader.tradeCount('BTCUSDT')).toBe(8000);
    const p = engine.pipelines.get('BTCUSDT')!;
    const stored = reader.bars('BTCUSDT', '1m', 0, Infinity);
    expect(stored.length).toBe(p.bars.length);
    stored.forEach((b, k) => expect(digest(b)).toBe(digest(p.bars[k].bar)));
    const tr = reader.trades('BTCUSDT', tape[100].ts, tape[200].ts);
    expect(tr[0]).toMatchObject({ id: tape[100].id, price: tape[100].price, size: tape[100].size, side: tape[100].side, sideSource: 'flag' });
    const profs = reader.profiles('BTCUSDT');
    const live = p.profiles.sessions.filter((s) => profs.some((x) => x.key === s.key));
    expect(live.length).toBeGreaterThan(0);
    for (const s of live) {
      const x = profs.find((y) => y.key === s.key)!;
      // stored at the last bar close of that session: totals match the bars of that session
      const vol = p.bars.filter((b) => b.bar.sessionKey === s.key).reduce((a, b) => a + b.bar.volume, 0);
      expect(x.profile.totalVolume).toBe(vol);
    }
    expect(reader.signals('BTCUSDT')[0]).toMatchObject({ kind: 'absorption', data: { side: 'buy', price: 60000 } });
    expect(reader.journal('BTCUSDT')[0]).toMatchObject({ kind: 'entry', data: { qty: 1 } });
    expect(reader.gaps('BTCUSDT')[0]).toMatchObject({ from: 5, to: 9, reason: 'id gap' });
    expect(reader.instruments().map((i) => i.id)).toEqual(['BTCUSDT']);
    expect(reader.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    reader.close(); store.close();
  });

  it('retention deletes trades older than retentionDays before the newest trade', async () => {
    const store = Store.open({ path: join(tmp(), 'r.sqlite'), flushIntervalMs: 0, retentionDays: 1 });
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    recordEngine(engine, store);
    const a = randomTape(1, 100, { start: Date.UTC(2024, 0, 1) });
    const b = randomTape(2, 100, { start: Date.UTC(2024, 0, 3) });
    for (const t of [...a, ...b]) engine.onEvent(t);
    await store.flush(); // the first commit applies retention
    expect(store.tradeCount()).toBe(100);
    expect(store.tradeSpan('BTCUSDT')!.first).toBe(b[0].ts);
    expect(store.prune().trades).toBe(0);
    expect(store.barCount('BTCUSDT', '1m')).toBeGreaterThan(0);
    store.close();
  });

  it('restart restore: bars, profiles, CVD, VWAP and the open bar continue exactly as an uninterrupted run', async () => {
    const path = join(tmp(), 'c.sqlite');
    const tape = randomTape(11, 30000); // 23:00 → ~00:40 UTC: crosses the session change; the cut is after it
    const cut = 21000;
    const ref = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    for (const t of tape) ref.onEvent({ ...t });

    const e1 = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    const s1 = Store.open({ path, flushIntervalMs: 0 });
    recordEngine(e1, s1);
    for (const t of tape.slice(0, cut)) e1.onEvent({ ...t });
    await s1.flush();
    s1.close();

    const e2 = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    const s2 = Store.open({ path, flushIntervalMs: 0 });
    const rec = recordEngine(e2, s2);
    const rep = restoreEngine(e2, s2, { recorder: rec });
    expect(rep[0].instrument).toBe('BTCUSDT');
    expect(rep[0].trades).toBeGreaterThan(0);
    // the state snapshot of the last closed bar: only the open bar's trades are replayed, not the session
    expect(rep[0].snapshot).toBe(true);
    const lastClosedEnd = Math.floor(tape[cut - 1]!.ts / 60_000) * 60_000;
    expect(rep[0].resumeFrom).toBe(lastClosedEnd);
    expect(rep[0].trades).toBe(tape.slice(0, cut).filter((t) => t.ts >= lastClosedEnd).length);
    for (const t of tape.slice(cut)) e2.onEvent({ ...t });
    const a = ref.pipelines.get('BTCUSDT')!, b = e2.pipelines.get('BTCUSDT')!;
    expect(b.bars.length).toBe(a.bars.length);
    a.bars.forEach((x, k) => expect(digest(b.bars[k].bar), `bar ${k}`).toBe(digest(x.bar)));
    expect(digest(b.openBar!)).toBe(digest(a.openBar!));
    expect(b.cvd.value).toBe(a.cvd.value);
    expect(b.sessionVwap.value).toBeCloseTo(a.sessionVwap.value, 9);
    expect(b.sessionVwap.stdev).toBeCloseTo(a.sessionVwap.stdev, 9);
    expect(b.profiles.sessions.map((s) => s.key)).toEqual(a.profiles.sessions.map((s) => s.key));
    for (let k = 0; k < a.profiles.sessions.length; k++) {
      const x = a.profiles.sessions[k], y = b.profiles.sessions[k];
      expect(y.profile.summary()).toEqual(x.profile.summary());
      expect(y.closed).toBe(x.closed);
    }
    // a snapshot that does not match the stored profile (a crash between the two writes) is not used:
    // the session is replayed from its start and the result is the same
    const e3 = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    const s3 = Store.open({ path, flushIntervalMs: 0 }); // a second connection to the same file
    const st = s3.state('BTCUSDT', '1m') as { profileVolume: number };
    expect(st.profileVolume).toBeGreaterThan(0);
    s3.putState('BTCUSDT', '1m', { ...st, profileVolume: st.profileVolume + 1 });
    await s3.flush();
    const rep3 = restoreEngine(e3, s3, { recorder: recordEngine(e3, s3) });
    expect(rep3[0].snapshot).toBe(false);
    expect(rep3[0].resumeFrom).toBe(Date.UTC(2024, 7, 9));
    const c3 = e3.pipelines.get('BTCUSDT')!;
    expect(c3.cvd.value).toBe(b.cvd.value - tape.slice(cut).reduce((x, t) => x + (t.side === 'buy' ? t.size : -t.size), 0));
    s3.close();
    // the restored store keeps recording: after the rest of the tape every trade is stored once
    await s2.flush();
    expect(s2.tradeCount('BTCUSDT')).toBe(tape.length);
    s2.close();
  });
});

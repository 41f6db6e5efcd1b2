/**
 * A full disk under a running server: the store lives on a small tmpfs (mounted by the test where it
 * may; otherwise a real SQLite trigger makes every trade insert fail, the same error path). While the
 * disk is full: /health is `degraded` naming the store, the log has the first error and then one line
 * per (simulated) minute, the queue stays within its bound, the engine keeps ingesting, and what is not
 * stored becomes a storage gap with its span. After space is freed: /health is ok, the gap is in the
 * gaps table and in /timescale_marks, and every trade is either stored or counted in the gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { Store } from '../../engine/src/store/store.js';
import { recordEngine } from '../../engine/src/store/recorder.js';
import { createLogger } from '../../engine/src/log.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { randomTape } from '../helpers/tape.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-diskfull-'));
let mounted = false;
beforeAll(() => {
  if (process.env.TAPEFLOW_TEST_NO_MOUNT) return; // exercise the fallback
  try { execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir], { stdio: 'ignore' }); mounted = true; } catch { mounted = false; }
});
afterAll(() => {
  if (mounted) try { execFileSync('umount', ['-l', dir], { stdio: 'ignore' }); } catch { /* already gone */ }
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fill the file system until ENOSPC. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try { for (;;) writeSync(fd, chunk); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e; } finally { closeSync(fd); }
}

describe('store on a full disk', () => {
  it('degrades /health, logs once a minute, bounds the queue, records a storage gap, and recovers', async () => {
    let skew = 0;
    const now = (): number => Date.now() + skew;
    const lines: { level: string; msg: string }[] = [];
    const log = createLogger({ env: {}, format: 'json', write: (l) => { const j = JSON.parse(l) as { level: string; msg: string }; lines.push({ level: j.level, msg: j.msg }); } });
    const MAXQ = 5000;
    const store = Store.open({ path: join(dir, 'tf.sqlite'), flushIntervalMs: 20, maxBatch: 2000, maxQueue: MAXQ, log, now });
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    recordEngine(engine, store);
    const srv: DatafeedServer = await createServer({ engine, store, port: 0, staticDir: false });
    const get = async (p: string): Promise<any> => (await fetch(srv.url + p)).json();
    try {
      const N = 60_000, FIRST = 2000;
      const tape = randomTape(7, N);
      for (let i = 0; i < FIRST; i++) engine.onEvent(tape[i]);
      await store.flush();
      expect((await get('/health')).status).toBe('ok');

      // the disk fills up (or, where tmpfs cannot be mounted, every trade insert fails)
      const filler = join(dir, 'filler');
      if (mounted) fill(filler);
      else store.db.exec(`CREATE TEMP TRIGGER full BEFORE INSERT ON main.trades BEGIN SELECT RAISE(ABORT, 'database or disk is full (injected)'); END;`);

      let k = FIRST;
      let degradedSeen = false;
      while (k < N) {
        const end = Math.min(N, k + 2000);
        for (; k < end; k++) engine.onEvent(tape[k]);
        await sleep(25);
        if (!degradedSeen && store.health().state === 'degraded') degradedSeen = true;
        expect(store.queued).toBeLessThanOrEqual(MAXQ);
      }
      await sleep(300);
      console.log(`disk-full test: ${mounted ? 'tmpfs 3 MB mounted' : 'injected SQLite error (mount not permitted)'}`);
      // the engine kept ingesting everything
      expect(engine.pipelines.get('BTCUSDT')!.counters.trades).toBe(N);
      expect(degradedSeen).toBe(true);

      const h = await get('/health');
      expect(h.status).toBe('degraded');
      expect(h.problems[0].component).toBe('store');
      expect(h.problems[0].reason).toMatch(/store writes failing \(SQLITE_/);
      expect(h.problems[0].reason).toMatch(/trades not stored \(storage gap\)/);
      expect(h.store.queued).toBeLessThanOrEqual(MAXQ);
      expect(h.store.notStoredOps).toBeGreaterThan(0);
      const sys = await get('/api/v1/system');
      expect(sys.status).toBe('degraded');
      const gap = sys.storage.storageGaps[0];
      expect(sys.storage.storageGaps).toHaveLength(1);
      expect(gap).toMatchObject({ instrument: 'BTCUSDT', persisted: false });
      expect(gap.trades).toBeGreaterThan(0);
      expect(gap.to).toBe(tape[N - 1].ts); // the newest trades are the ones the full queue could not take
      expect(gap.from).toBeGreaterThan(tape[FIRST].ts);

      // retries of the failing store start with a small probe, not the whole backlog (which would hold the event loop)
      expect(store.queued).toBeGreaterThan(1000);
      expect(store.stats().lastFailedOps).toBeLessThanOrEqual(256);

      // the log: the first error, then one line per minute of failure, however many retries failed
      const errorsBefore = store.stats().errors;
      expect(errorsBefore).toBeGreaterThan(1);
      expect(lines.filter((l) => l.level === 'error' && /store writes failing/.test(l.msg))).toHaveLength(1);
      expect(lines.filter((l) => /still failing/.test(l.msg))).toHaveLength(0);
      for (let m = 1; m <= 2; m++) {
        skew += 61_000;
        const e0 = store.stats().errors;
        while (store.stats().errors === e0) await sleep(20);
        expect(lines.filter((l) => /still failing/.test(l.msg))).toHaveLength(m);
        // another failed retry within the same minute: no new line
        skew += 6_000;
        const e1 = store.stats().errors;
        while (store.stats().errors === e1) await sleep(20);
        expect(lines.filter((l) => /still failing/.test(l.msg))).toHaveLength(m);
      }

      // space is freed: the queue commits, the gap is written, /health is ok again
      if (mounted) rmSync(filler); else store.db.exec('DROP TRIGGER temp.full');
      skew += 10_000;
      const deadline = Date.now() + 10_000;
      while (store.health().state !== 'ok' && Date.now() < deadline) await sleep(20);
      await store.flush();
      const ok = await get('/health');
      expect(ok.status).toBe('ok');
      expect(ok.problems).toEqual([]);
      expect(lines.some((l) => /store writes recovered/.test(l.msg))).toBe(true);
      expect(lines.filter((l) => /store writes/.test(l.msg))).toHaveLength(4); // first error, two minute lines, recovery
      expect(store.stats().errors).toBeGreaterThanOrEqual(errorsBefore + 4);
      const after = store.health().storageGaps[0];
      expect(after.persisted).toBe(true);
      const stored = store.gaps('BTCUSDT');
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ from: gap.from, to: gap.to, ts: gap.from });
      expect(stored[0].reason).toMatch(new RegExp(`^storage: ${gap.trades} trades`));
      // every trade is stored or counted in the gap, and the stored ones are exactly those outside its span
      expect(store.tradeCount('BTCUSDT') + gap.trades).toBe(N);
      // the stored trades are the prefix before the queue filled up; the gap spans the rest (and the bars it cut)
      const S = N - gap.trades;
      expect(store.lastTrades('BTCUSDT', Infinity, 1)[0].id).toBe(S);
      expect(gap.from).toBeLessThanOrEqual(tape[S].ts);
      const marks = await get(`/timescale_marks?symbol=BTCUSDT&from=${Math.floor(tape[0].ts / 1000)}&to=${Math.ceil(tape[N - 1].ts / 1000) + 60}&resolution=1`);
      expect(marks.some((m: { tooltip: string[] }) => /data gap: storage: \d+ trades/.test(m.tooltip[0]))).toBe(true);
      expect(store.integrityCheck()).toBe('ok');

      // live again: new trades are stored
      const more = randomTape(8, 500, { start: tape[N - 1].ts + 1000 }).map((t, i) => ({ ...t, id: N + i + 1 }));
      for (const t of more) engine.onEvent(t);
      await store.flush();
      expect(store.tradeCount('BTCUSDT') + gap.trades).toBe(N + 500);
    } finally {
      await srv.close();
      store.close();
    }
  }, 60_000);
});

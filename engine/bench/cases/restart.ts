/**
 * Restart time with a full day in the store: 2 M trades of one UTC session recorded as live (engine +
 * recorder + SQLite store). Measured: `tapeflow start --store` until /health answers (a child process,
 * the acceptance figure), the restore with the state snapshot (one bar replayed), and the same restore
 * with the snapshot removed (the session replayed trade by trade: how restarts worked before) — the
 * snapshot restore's floor is that replay's cost per trade times the trades of one bar.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Engine } from '../../src/analytics/engine.js';
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { newTrade } from '../../src/core/events.js';
import { Store } from '../../src/store/store.js';
import { recordEngine, restoreEngine } from '../../src/store/recorder.js';
import { emit, peakRssMB } from '../harness.js';

const TRADES = Number(process.env.BENCH_RESTART_TRADES ?? 2_000_000);

async function healthAfterStart(store: string, dir: string): Promise<number> {
  const cfg = join(dir, 'cfg.yaml');
  writeFileSync(cfg, 'feeds: []\nlog:\n  level: warn\n');
  const t0 = performance.now();
  const c = spawn(process.execPath, [resolve('bin/tapeflow.js'), 'start', '--config', cfg, '--store', store, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((res, rej) => {
      let out = '';
      c.stdout.on('data', (d: Buffer) => { out += d.toString(); const m = /serving on (http:\/\/\S+)/.exec(out); if (m) res(m[1]!); });
      c.once('exit', (code) => rej(new Error(`tapeflow start exited ${code}`)));
    });
    for (;;) {
      try { if ((await fetch(`${url}/health`)).ok) return (performance.now() - t0) / 1000; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    c.kill('SIGTERM');
  }
}

export async function benchRestart(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-bench-restart-'));
  try {
    const path = join(dir, 'store.sqlite');
    const day = Date.UTC(2024, 7, 8);
    const step = (86_400_000 - 60_000) / TRADES;
    {
      const e = new Engine(new InstrumentRegistry(), { timeframe: '1m', align: 'utc' });
      const s = Store.open({ path });
      recordEngine(e, s);
      const t = newTrade('BTCUSDT');
      let p = 600000, seed = 7;
      for (let i = 0; i < TRADES; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        p += (seed % 7) - 3;
        t.ts = day + Math.floor(i * step); t.id = i + 1; t.price = p; t.size = 1 + (seed % 300); t.side = seed & 1 ? 'buy' : 'sell'; t.sideSource = 'flag';
        e.onEvent(t);
        if (i % 200_000 === 0) await s.flush();
      }
      await s.flush();
      s.close();
    }
    const restore = (): { secs: number; trades: number; snapshot: boolean } => {
      const e = new Engine(new InstrumentRegistry(), { timeframe: '1m', align: 'utc', keepBars: 50_000 });
      const s = Store.open({ path });
      const rec = recordEngine(e, s);
      const t0 = performance.now();
      const r = restoreEngine(e, s, { recorder: rec })[0]!;
      const secs = (performance.now() - t0) / 1000;
      s.close();
      return { secs, trades: r.trades, snapshot: r.snapshot };
    };
    const withSnap = restore();
    const health = await healthAfterStart(path, dir);
    const db = new Database(path);
    db.prepare("DELETE FROM meta WHERE k LIKE 'state:%'").run();
    db.close();
    const full = restore();
    emit({
      name: `restart with a full day in the store (${TRADES} trades): tapeflow start → /health, restore from the state snapshot vs replaying the session`,
      trades: TRADES, startToHealthS: +health.toFixed(2), snapshotRestoreS: +withSnap.secs.toFixed(3), snapshotReplayedTrades: withSnap.trades,
      fullReplayRestoreS: +full.secs.toFixed(2), fullReplayedTrades: full.trades, ratio: +(full.secs / withSnap.secs).toFixed(1), peakRssMB: peakRssMB(),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

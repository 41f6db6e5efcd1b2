/**
 * `tapeflow demo`: a backfilled simulated session (history, not one bar), the first scripted event
 * within 60 s of the start, and a book that syncs (the demo's instruments follow the simulator's
 * sequencing, not Binance's, which used to leave every diff buffered behind one snapshot).
 */
import { describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { BookManager } from '../../engine/src/book/manager.js';
import { createDemoSimulators } from '../../engine/src/sim/index.js';
import { markSimulated } from '../../engine/src/cli/commands/demo.js';

describe('demo session', () => {
  it('backfills bars, syncs the book and schedules the first live scripted event within 60 s', () => {
    const registry = new InstrumentRegistry();
    markSimulated(registry);
    expect(registry.get('BTCUSDT').venue).toBe('simulator');
    const engine = new Engine(registry, { timeframe: '1m' });
    const books = new BookManager({ registry, emit: engine.onEvent });
    engine.observe(books.onEvent);
    const now = Date.UTC(2026, 11, 4, 12, 0, 0);
    const backfill = 40 * 60_000;
    const sims = createDemoSimulators(registry, now - backfill, 1, { durationMs: backfill + 3_600_000, liveFrom: now });
    const btc = sims.find((s) => s.instrument === 'BTCUSDT')!;
    btc.step(now, engine.onEvent);
    const sync = books.l2.get('BTCUSDT')!;
    expect(sync.synced).toBe(true);
    expect(sync.stats.buffered).toBe(0);
    expect(sync.stats.updatesApplied).toBeGreaterThan(1000);
    expect(engine.pipeline('BTCUSDT').bars.length).toBeGreaterThanOrEqual(39);
    const next = btc.labels.filter((l) => l.startTs >= now).sort((a, b) => a.startTs - b.startTs)[0]!;
    expect(next.startTs - now).toBeGreaterThan(0);
    expect(next.startTs - now).toBeLessThanOrEqual(60_000);
    expect(btc.labels.some((l) => l.startTs < now)).toBe(true); // the backfill has scripted events too
  });
});

/**
 * Order-book cases: level updates per second applying the real Binance USD-M depth diffs (snapshot +
 * 6.5k diffs, ~443k level updates, repeated), and the full capture (trades + book + quotes) replayed
 * end to end from the gzip file through parser, book and pipeline.
 */
import { join } from 'node:path';
import { InstrumentRegistry } from '../../src/core/instruments.js';
import type { BookDelta, BookSnapshot } from '../../src/core/events.js';
import { BinanceSync } from '../../src/venues/binance/book.js';
import { replayFile } from '../../src/replay/index.js';
import { runReplay } from '../../src/cli/commands/replay.js';
import { dataDir, emit, peakRssMB, timed } from '../harness.js';

const USDM = 'binance/usdm_btcusdt_20240808.gz';

export async function benchBook(targetLevelUpdates = 20_000_000): Promise<void> {
  const registry = new InstrumentRegistry();
  let snap: BookSnapshot | null = null;
  const diffs: BookDelta[] = [];
  await replayFile(join(dataDir(), USDM), (ev) => {
    if (ev.type === 'book_snapshot') snap = ev;
    else if (ev.type === 'book_delta') diffs.push(ev);
  }, { registry });
  if (!snap) throw new Error('no snapshot in the capture');
  const s0 = snap as BookSnapshot;
  const levelsPerPass = diffs.reduce((n, d) => n + d.bids.length + d.asks.length, 0);
  const passes = Math.ceil(targetLevelUpdates / levelsPerPass);
  let applied = 0, gaps = 0;
  const secs = timed(() => {
    for (let p = 0; p < passes; p++) {
      const sync = new BinanceSync('futures');
      sync.onEvent(s0);
      for (const d of diffs) sync.onEvent(d);
      applied += sync.stats.levelUpdates;
      gaps += sync.stats.gaps;
    }
  });
  emit({ name: 'book: Binance USD-M depth diffs applied (snapshot + diffs, repeated)', levelUpdates: applied, diffs: diffs.length * passes, passes, gaps, seconds: +secs.toFixed(3), levelUpdatesPerSec: Math.round(applied / secs), nsPerLevelUpdate: +((secs * 1e9) / applied).toFixed(1), peakRssMB: peakRssMB() });

  const t0 = process.hrtime.bigint();
  const r = await runReplay([join(dataDir(), USDM)], {});
  const e2e = Number(process.hrtime.bigint() - t0) / 1e9;
  const f = r.files[0];
  emit({ name: 'replay end to end: USD-M capture (gunzip + parse + book + trades + quotes + 1m pipeline)', lines: f.lines, events: f.events, trades: f.trades, bookEvents: f.bookEvents, quotes: f.quotes, seconds: +e2e.toFixed(3), eventsPerSec: Math.round(f.events / e2e), peakRssMB: peakRssMB() });
}

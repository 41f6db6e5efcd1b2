/**
 * Correctness across speed and memory work (issue 16): the bar checksum of every real capture, at the
 * instruments' default rows and at 1-tick footprint and profile rows, equals the one pinned in
 * checksums.json. The pins were written by the engine before the issue-16 memory and frame-parser
 * changes (UPDATE_CHECKSUMS=1 rewrites them: do that only for a change that is meant to move bars, and
 * say why in the commit). The bars held in memory afterwards (compact sealed rows) digest to the same.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { Checksum } from '../../engine/src/analytics/checksum.js';
import { BookManager } from '../../engine/src/book/manager.js';
import { replayFile } from '../../engine/src/replay/index.js';
import { DATA_DIR } from '../helpers/data.js';

const PINS = new URL('./checksums.json', import.meta.url).pathname;

interface Pin { checksum: string; trades: number; stats: Record<string, unknown> }

function files(d: string): string[] {
  return readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? files(p) : n === 'README.md' ? [] : [p]; }).sort();
}

/** `tapeflow replay <file>` (no config) with optional 1-tick rows: the engine's checksum, its trade count and the file's replay stats. */
async function checksum(file: string, oneTick: boolean): Promise<Pin> {
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', align: 'utc', cvdReset: 'session', ...(oneTick ? { footprintRowTicks: 1, profileRowTicks: 1 } : {}) });
  const books = new BookManager({ registry, emit: engine.onEvent });
  engine.observe(books.onEvent);
  const st = await replayFile(file, engine.onEvent, { registry });
  engine.finish();
  let trades = 0;
  for (const p of engine.pipelines.values()) {
    trades += p.counters.trades;
    // the bars held (sealed compact after their close) digest to the checksum taken while they closed
    const h = new Checksum();
    for (const { bar } of p.bars) bar.digest(h);
    expect(h.hex()).toBe(p.checksum());
  }
  // what the file's parser made of it (the frame parser must not change any of it)
  const stats = { lines: st.lines, events: st.events, trades: st.trades, quotes: st.quotes, bookEvents: st.bookEvents, badLines: st.badLines, offGrid: st.offGrid, instruments: st.instruments };
  return { checksum: engine.checksum(), trades, stats };
}

describe('bar checksums of every real capture equal the pinned ones (default and 1-tick rows)', () => {
  const update = process.env.UPDATE_CHECKSUMS === '1';
  const pins: Record<string, Pin> = update ? {} : JSON.parse(readFileSync(PINS, 'utf8'));
  const all = files(DATA_DIR);
  it('every file has pins', () => {
    if (update) return;
    expect(Object.keys(pins).length).toBe(all.length * 2);
  });
  for (const f of all) {
    for (const oneTick of [false, true]) {
      const key = `${relative(DATA_DIR, f)} ${oneTick ? '1-tick' : 'default'} rows`;
      it(key, async () => {
        const got = await checksum(f, oneTick);
        if (update) { pins[key] = got; writeFileSync(PINS, JSON.stringify(pins, null, 1) + '\n'); return; }
        expect(got).toEqual(pins[key]);
      }, 60_000);
    }
  }
});

/**
 * The seed preset inside `tapeflow backtest`: a recording of Kite frames (simulator NSE instrument, one
 * full packet a second) replays through the same pipeline as live; the preset runs at every bar close next
 * to the other detectors and its calls become `seed:<CALL>` groups of the report (BUY/SELL need a PCR, which this
 * recording has no chain for, so only ACCUMULATION/DISTRIBUTION can appear; without the PCR component their confidence
 * rarely reaches the minimum of 7, so on this tape every call is gated — counted in BacktestResult.seedPreset; the
 * same tape with a chain: tests/unit/seed-rule-mode.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest } from '../../engine/src/cli/commands/backtest.js';
import { parseInstrumentsCsv } from '../../engine/src/venues/kite/instruments.js';
import { KITE_CSV_HEADER, kiteTapeFromSim } from '../helpers/kite.js';

const cleanup: (() => void)[] = [];
afterEach(() => { while (cleanup.length) cleanup.pop()!(); });

describe('seed preset in the backtest', () => {
  it('replays a Kite recording and evaluates the preset calls as seed:* groups', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-seed-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const T0 = Date.UTC(2026, 11, 4, 3, 45);
    const tape = kiteTapeFromSim({ seed: 3, token: 738561, startTs: T0, durationMs: 3 * 3_600_000, intervalMs: 1000, startTicks: 28_250, paisePerTick: 5 });
    const rows = parseInstrumentsCsv(`${KITE_CSV_HEADER}\n738561,2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE`).instruments;
    const lines = [JSON.stringify({ recv: T0, venue: 'kite', frame: { kite: 'instruments', rows } }),
      ...tape.messages.map((m) => JSON.stringify({ recv: m.t, venue: 'kite', frame: { kite: 'bin', b64: Buffer.from(m.bytes).toString('base64') } }))];
    const file = join(dir, 'kite.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await runBacktest([file], { eval: { horizonMs: 10 * 60_000 } });
    const seed = r.report.signalTypes.filter((g) => g.group.startsWith('seed:'));
    const byGroup = Object.fromEntries(seed.map((g) => [g.group, g.count]));
    console.log(`seed preset on 3 h of simulated Kite snapshots: ${JSON.stringify(byGroup)} ${JSON.stringify(r.seedPreset)}`);
    expect(r.seedPreset!.bars).toBeGreaterThan(150); // ~180 one-minute bars, each evaluated
    expect(r.seedPreset!.withBook).toBe(r.seedPreset!.bars); // the 5-level Kite book is synced from the first packet
    expect(r.seedPreset!.maxInstitutionalRatio).toBeGreaterThan(3); // the Kite book's level changes reach the institutional tracker
    expect(r.seedPreset!.calls).toBeGreaterThan(0); // ACCUMULATION/DISTRIBUTION patterns are found …
    expect(r.seedPreset!.emitted).toBe(seed.reduce((s, g) => s + g.count + g.skipped, 0));
    expect(r.report.instruments.find((i) => i.instrument === 'KITE:NSE:RELIANCE')?.trades).toBeGreaterThan(1000);
    expect(seed.every((g) => g.group === 'seed:ACCUMULATION' || g.group === 'seed:DISTRIBUTION')).toBe(true);
  }, 120_000);
});

/**
 * Replay end to end from the gzip captures (all five real Binance files: trades, depth diffs, book
 * tickers, REST snapshots) through `tapeflow replay`'s path (runReplay: gunzip stream, line split,
 * frame parser, book sync, 1m pipeline), beside its floor measured in the same run: the same files
 * through the same streaming gunzip and line split, every JSON frame parsed, nothing else. Interleaved
 * rounds, best of each; the top self-time functions come from a separate profiled run.
 */
import { join } from 'node:path';
import { forEachLine, openInput } from '../../src/replay/input.js';
import { runReplay } from '../../src/cli/commands/replay.js';
import { dataDir, emit, peakRssMB } from '../harness.js';
import { profileTop } from '../cpu-profile.js';
import { FUTURES_FILES, SPOT_FILES } from '../trade-tape.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * The floor: the replay's own streaming gunzip and line splitter (replay/input.ts) and JSON.parse of
 * every frame (a capture line is `<receive ns> <frame>`), nothing else. (A one-shot gunzipSync of
 * the whole file measured slower than the stream here, so it would be a looser floor.)
 */
async function floorRun(files: string[]): Promise<{ lines: number; frames: number }> {
  let lines = 0, frames = 0;
  for (const f of files) {
    const input = await openInput(f);
    try {
      await forEachLine(input.stream, (line) => {
        if (line.length === 0) return;
        lines++;
        const b = line.indexOf('{');
        if (b >= 0 && JSON.parse(b === 0 ? line : line.slice(b)) !== null) frames++;
      });
    } finally {
      input.stream.destroy();
    }
  }
  return { lines, frames };
}

export async function benchReplay(): Promise<void> {
  const files = [...FUTURES_FILES, ...SPOT_FILES].map((f) => join(dataDir(), f));
  let e2eBest = Infinity, floorBest = Infinity, events = 0, trades = 0, lines = 0, frames = 0, checksum = '';
  for (let r = 0; r < ROUNDS; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    let t0 = performance.now();
    const fl = await floorRun(files);
    floorBest = Math.min(floorBest, (performance.now() - t0) / 1000);
    lines = fl.lines; frames = fl.frames;
    (globalThis as { gc?: () => void }).gc?.();
    t0 = performance.now();
    const res = await runReplay(files, {});
    e2eBest = Math.min(e2eBest, (performance.now() - t0) / 1000);
    events = res.files.reduce((s, f) => s + f.events, 0);
    trades = res.files.reduce((s, f) => s + f.trades, 0);
    checksum = res.checksum;
  }
  const topSelf = await profileTop(async () => { await runReplay(files, {}); });
  emit({
    name: 'replay end to end from gzip: 5 Binance captures (parse + book sync + quotes + 1m pipeline) vs gunzip + split + JSON.parse floor',
    files: files.length, lines, frames, events, trades, checksum,
    seconds: +e2eBest.toFixed(3), linesPerSec: Math.round(lines / e2eBest), floorSeconds: +floorBest.toFixed(3), floorLinesPerSec: Math.round(lines / floorBest),
    shareOfFloor: +(floorBest / e2eBest).toFixed(2), rounds: ROUNDS, peakRssMB: peakRssMB(), topSelf,
  });
}

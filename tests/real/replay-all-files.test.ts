/**
 * Acceptance of issue 13 §3: `tapeflow replay <file>` of EVERY file in the shared data, with no config
 * and no options, completes with exit 0 in under 5 s and under 300 MB of RSS, and every file yields
 * events (a 0-event result is an error now, so exit 0 means events were read). Each run is a child
 * process measured by /usr/bin/time (elapsed seconds, CPU seconds, max RSS). The 5 s bound is held on CPU
 * time always, and on wall time too when the machine is not overloaded (other work on a 2-core machine
 * stretches wall time without the replay doing more).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DATA_DIR, REPO_ROOT } from '../helpers/data.js';

function files(d: string): string[] {
  return readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? files(p) : n === 'README.md' ? [] : [p]; }).sort();
}

// a directory without a tapeflow.config.yaml: no config
const cwd = mkdtempSync(join(tmpdir(), 'replay-all-'));

describe('tapeflow replay of every shared data file, no config', () => {
  const all = files(DATA_DIR);
  it('finds the data', () => { expect(all.length).toBeGreaterThanOrEqual(20); });
  for (const f of all) {
    it(relative(DATA_DIR, f), () => {
      const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M %U %S', process.execPath, join(REPO_ROOT, 'bin', 'tapeflow.js'), 'replay', f], { cwd, encoding: 'utf8', env: { ...process.env, TAPEFLOW_CONFIG: '' } });
      const m = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      const seconds = Number(m![1]), rssMB = Number(m![2]) / 1024, cpuSeconds = Number(m![3]) + Number(m![4]);
      expect(r.status, r.stderr).toBe(0);
      const head = r.stdout.split('\n')[0]!;
      const ev = /, (\d+) events \(/.exec(head);
      expect(Number(ev?.[1] ?? 0), head).toBeGreaterThan(0);
      // the Bybit daily archive is newest first: it replays forward as one day of 1m bars (issue 19)
      if (f.endsWith('BTCUSD2019-10-01.csv.gz')) {
        expect(head).toContain('bybit-archive, 93599 lines, 93598 events');
        expect(r.stdout).toContain('BYBIT:BTCUSD  [orderflow]  1m bars: 1440   2019-10-01T00:00:00.719Z → 2019-10-01T23:59:56.557Z');
      }
      expect(rssMB, `${f}: ${rssMB.toFixed(0)} MB`).toBeLessThan(300);
      expect(cpuSeconds, `${f}: ${cpuSeconds.toFixed(2)} s of CPU`).toBeLessThan(5);
      if (loadavg()[0] <= cpus().length) expect(seconds, `${f}: ${seconds} s`).toBeLessThan(5);
    }, 30_000);
  }
});

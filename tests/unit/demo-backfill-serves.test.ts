/**
 * `tapeflow demo --serve`: the server answers while the backfilled session is being built (it used to
 * build two hours of four simulators in one synchronous step: the port was open but nothing answered).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/data.js';

describe('demo backfill', () => {
  it('answers /health while the backfill is still running', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/tapeflow.js'), 'demo', '--serve', '--port', '0', '--backfill', '30', '--seconds', '1'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let backfilled = false;
    const answered: number[] = [];
    try {
      const url = await new Promise<string>((res, rej) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /serving on (\S+)/.exec(out);
          if (m) res(m[1]);
          if (/min backfilled/.test(out)) backfilled = true;
        });
        child.on('exit', (c) => rej(new Error(`demo exited ${c}: ${out}`)));
      });
      // poll until the backfill line appears; count answers that came back before it
      while (!backfilled) {
        const r = await fetch(`${url}/health`).catch(() => null);
        if (r && !backfilled) { expect(r.status).toBeLessThan(600); answered.push(r.status); }
        await new Promise((r2) => setTimeout(r2, 50));
      }
      expect(answered.length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
  }, 400_000);
});

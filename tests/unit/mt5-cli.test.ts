/**
 * `tapeflow start` and `tapeflow config check` as a user runs them (bin/tapeflow.js, dist built by the
 * global setup), on configs with the MT5 bridge switched on: every mt5 error that start would hit is
 * reported by config check (exit 1, naming the key), and start exits non-zero on it instead of serving
 * without the bridge (or hanging with its HTTP server open).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = join(new URL('.', import.meta.url).pathname, '..', '..');
const BIN = join(REPO, 'bin', 'tapeflow.js');
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-mt5-cli-'));
const blockers: Server[] = [];
afterAll(async () => { for (const b of blockers) await new Promise((r) => b.close(r)); });

interface Ran { code: number | 'still running'; stdout: string; stderr: string }

/** Run the CLI; a process still running after `ms` is killed and reported as such. */
function tapeflow(args: string[], env: Record<string, string | undefined>, ms = 20_000): Promise<Ran> {
  const e: NodeJS.ProcessEnv = { ...process.env, TAPEFLOW_CONFIG: undefined, TAPEFLOW_MT5_SECRET: undefined, ...env };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: e });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => { child.kill('SIGKILL'); resolve({ code: 'still running', stdout, stderr }); }, ms);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code: code ?? 1, stdout, stderr }); });
  });
}

function cfg(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
  await new Promise((r) => s.close(r));
  return port;
}

const SECRET = { TAPEFLOW_MT5_SECRET: 'cli-secret' };

describe('mt5 configuration errors through the real CLI', () => {
  it('mt5.enabled with the secret unset: config check names mt5.secretEnv, start exits 1 without serving', async () => {
    const p = cfg('nosecret.yaml', `feeds: []\nstore:\n  path: ${join(dir, 'a', 'store.sqlite')}\nmt5:\n  enabled: true\n  port: 0\n`);
    const check = await tapeflow(['config', 'check', p], {});
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/mt5\.secretEnv: .*TAPEFLOW_MT5_SECRET/);
    const start = await tapeflow(['start', '--config', p, '--port', '0', '--no-store'], {});
    expect(start.code).toBe(1);
    expect(start.stderr).toContain('TAPEFLOW_MT5_SECRET');
    expect(start.stdout).not.toContain('TapeFlow serving');
    // with the secret the same file is valid
    expect((await tapeflow(['config', 'check', p], SECRET)).code).toBe(0);
  });

  it('mt5.port equal to server.port: config check names mt5.port, start exits 1', async () => {
    const port = await freePort();
    const p = cfg('sameport.yaml', `feeds: []\nserver:\n  port: ${port}\nstore:\n  path: ${join(dir, 'b', 'store.sqlite')}\nmt5:\n  enabled: true\n  port: ${port}\n`);
    const check = await tapeflow(['config', 'check', p], SECRET);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/mt5\.port: /);
    const start = await tapeflow(['start', '--config', p, '--no-store'], SECRET);
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/mt5\.port: /);
  });

  it('mt5.dbPath under a regular file: config check names mt5.dbPath, start exits 1 (it used to hang with its HTTP server open)', async () => {
    const file = cfg('not-a-dir', 'x');
    const p = cfg('baddb.yaml', `feeds: []\nstore:\n  path: ${join(dir, 'c', 'store.sqlite')}\nmt5:\n  enabled: true\n  port: 0\n  dbPath: ${join(file, 'ticks.sqlite')}\n`);
    const check = await tapeflow(['config', 'check', p], SECRET);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/mt5\.dbPath: .*not-a-dir/);
    const start = await tapeflow(['start', '--config', p, '--port', '0', '--no-store'], SECRET);
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/mt5\.dbPath: .*not-a-dir/);
  });

  it('a tick database that is not SQLite (config check cannot see inside it): start exits 1 instead of hanging with its HTTP server open', async () => {
    const junk = cfg('junk.sqlite', 'this is not a database\n'.repeat(100));
    const p = cfg('junkdb.yaml', `feeds: []\nstore:\n  path: ${join(dir, 'e', 'store.sqlite')}\nmt5:\n  enabled: true\n  port: 0\n  dbPath: ${junk}\n`);
    expect((await tapeflow(['config', 'check', p], SECRET)).code).toBe(0);
    const start = await tapeflow(['start', '--config', p, '--port', '0', '--no-store'], SECRET);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`mt5 bridge cannot open its tick database ${junk}`);
  });

  it('the bridge port taken by another process (not a config error, so config check passes): start exits 1', async () => {
    const b = createServer();
    blockers.push(b);
    const busy = await new Promise<number>((r) => b.listen(0, '127.0.0.1', () => r((b.address() as { port: number }).port)));
    const p = cfg('busy.yaml', `feeds: []\nstore:\n  path: ${join(dir, 'd', 'store.sqlite')}\nmt5:\n  enabled: true\n  port: ${busy}\n`);
    expect((await tapeflow(['config', 'check', p], SECRET)).code).toBe(0);
    const start = await tapeflow(['start', '--config', p, '--port', '0', '--no-store'], SECRET);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`mt5 bridge cannot listen on 127.0.0.1:${busy}`);
  });
});

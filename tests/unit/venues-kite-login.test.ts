/**
 * `tapeflow kite login` as a user runs it (bin/tapeflow.js) against a loopback server speaking Kite's
 * documented session API: form POST /session/token, X-Kite-Version 3, checksum = hex SHA-256 of
 * api_key + request_token + api_secret. A wrong secret gets Kite's TokenException and exit 1; the secret
 * never appears in the output.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/data.js';

const BIN = join(REPO_ROOT, 'bin', 'tapeflow.js');
const cleanup: (() => void)[] = [];
afterEach(() => { while (cleanup.length) cleanup.pop()!(); });

const KEY = 'kitekey123', SECRET = 'kitesecret456', REQ = 'reqTOKEN789';

async function kiteApi(): Promise<{ root: string; seen: Array<Record<string, string>> }> {
  const seen: Array<Record<string, string>> = [];
  const srv: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const f = Object.fromEntries(new URLSearchParams(body));
      seen.push({ ...f, method: req.method ?? '', path: req.url ?? '', version: String(req.headers['x-kite-version']), type: String(req.headers['content-type']) });
      res.setHeader('Content-Type', 'application/json');
      if (req.method !== 'POST' || req.url !== '/session/token') { res.statusCode = 404; res.end(JSON.stringify({ status: 'error', message: 'Route not found', error_type: 'GeneralException' })); return; }
      const want = createHash('sha256').update(f.api_key + f.request_token + SECRET).digest('hex');
      if (req.headers['x-kite-version'] !== '3' || f.checksum !== want || f.request_token !== REQ) {
        res.statusCode = 403; res.end(JSON.stringify({ status: 'error', message: 'Invalid `checksum`.', data: null, error_type: 'TokenException' })); return;
      }
      res.end(JSON.stringify({ status: 'success', data: { user_id: 'AB1234', access_token: 'acc3ssTOKEN', public_token: 'pub', login_time: '2026-12-04 08:00:00' } }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.push(() => srv.close());
  const a = srv.address() as { port: number };
  return { root: `http://127.0.0.1:${a.port}`, seen };
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '', err = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('tapeflow kite login', () => {
  it('exchanges the request token with the SHA-256 checksum and prints where the access token goes', async () => {
    const api = await kiteApi();
    const ok = await cli(['kite', 'login', '--request-token', REQ, '--root', api.root], { KITE_API_KEY: KEY, KITE_API_SECRET: SECRET });
    expect([ok.code, ok.out]).toEqual([0, 'export KITE_ACCESS_TOKEN=acc3ssTOKEN\n']);
    expect(ok.err).toMatch(/logged in as AB1234; set KITE_ACCESS_TOKEN/);
    expect(api.seen[0]).toEqual({
      api_key: KEY, request_token: REQ, checksum: createHash('sha256').update(KEY + REQ + SECRET).digest('hex'),
      method: 'POST', path: '/session/token', version: '3', type: 'application/x-www-form-urlencoded',
    });
    const bad = await cli(['kite', 'login', '--request-token', REQ, '--root', api.root], { KITE_API_KEY: KEY, KITE_API_SECRET: 'wrong' });
    expect([bad.code, bad.out]).toEqual([1, '']);
    expect(bad.err).toMatch(/HTTP 403 TokenException: Invalid `checksum`/);
    expect(bad.err + bad.out).not.toContain('wrong');
    const noEnv = await cli(['kite', 'login', '--request-token', REQ, '--root', api.root], {});
    expect([noEnv.code, noEnv.err]).toEqual([1, 'KITE_API_KEY and KITE_API_SECRET must be set in the environment (from your Kite Connect app)\n']);
    const usage = await cli(['kite', 'logout'], {});
    expect(usage.code).toBe(2);
  });
});

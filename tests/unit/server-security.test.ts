/**
 * Secure by default, against the real HTTP + WebSocket server on loopback: the Host allow-list
 * (DNS rebinding), browser origins (HTTP and /ws), constant-time tokens with per-address lock-out and
 * one security log line (never the guess), short-lived JWTs (mint, use, expire, revoke), `protect:
 * all`, the refusal to listen on a non-loopback address without a token, no paths or error text for
 * callers without a token, and the pino-http access log with the token redacted.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { PROTOCOL_VERSION } from '../../datafeed-adapter/src/ws/protocol.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { Store } from '../../engine/src/store/store.js';
import { createLogger } from '../../engine/src/log.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { createStreamServer, type StreamServer } from '../../datafeed-adapter/src/ws/server.js';
import { mintJwt, openBindRefusal } from '../../datafeed-adapter/src/http/security.js';
import { tokenCommand } from '../../engine/src/cli/commands/token.js';

const TOKEN = 'static-admin-token-0123456789';
const SECRET = 'jwt-secret-for-tests-0123456789-abcdef';
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-sec-'));
let lines: string[] = [];
const logger = createLogger({ level: 'debug', format: 'json', write: (l) => { lines.push(l); } });

interface Srv { http: DatafeedServer; ws: StreamServer; store?: Store }
async function start(o: Partial<Parameters<typeof createServer>[0]> = {}, store?: Store): Promise<Srv> {
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
  const srv = await createServer({ engine, store, port: 0, staticDir: false, logger, ...o });
  const ws = createStreamServer({ engine, server: srv.server, token: srv.guard.streamTokenCheck(), verifyUpgrade: (req) => srv.guard.upgradeAllowed(req), logger });
  return { http: srv, ws, store };
}
async function stop(s: Srv): Promise<void> { await s.ws.close(); await s.http.close(); s.store?.close(); }

/** A raw request (fetch cannot set Host). */
function raw(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => { let body: unknown = text; try { body = JSON.parse(text); } catch { /* text */ } resolve({ status: res.statusCode!, headers: res.headers, body }); });
    });
    req.on('error', reject);
    req.end();
  });
}

function wsOpen(port: number, headers: Record<string, string>): Promise<{ opened: boolean; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
    ws.on('open', () => { ws.close(); resolve({ opened: true }); });
    ws.on('unexpected-response', (_req, res) => { resolve({ opened: false, status: res.statusCode }); ws.terminate(); });
    ws.on('error', () => resolve({ opened: false }));
  });
}

let s: Srv;
beforeAll(async () => {
  s = await start({ authToken: TOKEN, jwt: { secret: SECRET }, cors: ['http://ok.example'], authThrottle: { maxFailures: 5, windowMs: 60_000, lockMs: 60_000 } });
});
afterAll(async () => { await stop(s); rmSync(dir, { recursive: true, force: true }); });

describe('Host allow-list (DNS rebinding)', () => {
  it('answers loopback names and refuses any other Host with 421, on every route and on /ws', async () => {
    const p = s.http.port;
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`]) expect((await raw(p, '/config', { host })).status, host).toBe(200);
    for (const path of ['/health', '/config', '/history?symbol=BTCUSDT&resolution=1&from=0&to=10', `/api/v1/system?token=${TOKEN}`]) {
      const r = await raw(p, path, { host: `evil.example:${p}` });
      expect(r.status, path).toBe(421);
      expect(r.body.param).toBe('Host');
    }
    expect(await wsOpen(p, { Host: `rebind.attacker.example:${p}` })).toEqual({ opened: false, status: 421 });
  });
});

describe('browser origins (HTTP and /ws)', () => {
  it('the own origin and configured origins pass; any other Origin, and cross-site requests without one, get 403', async () => {
    const p = s.http.port;
    expect((await raw(p, '/config', { origin: `http://127.0.0.1:${p}` })).status).toBe(200);
    const ok = await raw(p, '/config', { origin: 'http://ok.example' });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('http://ok.example');
    for (const path of ['/config', '/history?symbol=BTCUSDT&resolution=1T&from=0&to=2000000000&countback=20000', `/api/v1/system?token=${TOKEN}`]) {
      const r = await raw(p, path, { origin: 'http://evil.example' });
      expect(r.status, path).toBe(403);
      expect(r.body).toMatchObject({ error: 'forbidden', param: 'Origin' });
    }
    expect((await raw(p, '/api/v1/system', { origin: 'http://evil.example', 'access-control-request-method': 'GET' }, 'OPTIONS')).status).toBe(403);
    // an <img>/<script> GET from another site carries no Origin, but Sec-Fetch-Site says cross-site
    expect((await raw(p, '/config', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' })).status).toBe(403);
    expect((await raw(p, '/config', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' })).status).toBe(200);
    expect(await wsOpen(p, { Origin: 'http://evil.example', Authorization: `Bearer ${TOKEN}` })).toEqual({ opened: false, status: 403 });
    expect((await wsOpen(p, { Origin: 'http://ok.example' })).opened).toBe(true);
    expect((await wsOpen(p, { Origin: `http://127.0.0.1:${p}` })).opened).toBe(true);
    expect(lines.some((l) => l.includes('"event":"ws_refused"') && l.includes('evil.example'))).toBe(true);
  });
});

describe('short-lived tokens (JWT)', () => {
  it('minted with the static token, accepted on /api and /ws, refused once expired or revoked; a JWT cannot mint', async () => {
    const p = s.http.port;
    const m = await fetch(`${s.http.url}/api/v1/tokens?sub=site-a&ttl=120`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(m.status).toBe(200);
    const t = await m.json() as { token: string; jti: string; expiresAt: number; sub: string };
    expect(t.sub).toBe('site-a');
    expect(t.expiresAt - Date.now()).toBeGreaterThan(110_000);
    expect(t.expiresAt - Date.now()).toBeLessThanOrEqual(120_000);
    expect((await raw(p, '/api/v1/system', { authorization: `Bearer ${t.token}` })).status).toBe(200);
    expect((await raw(p, `/api/v1/system?token=${t.token}`)).status).toBe(200);
    expect((await fetch(`${s.http.url}/api/v1/tokens`, { method: 'POST', headers: { Authorization: `Bearer ${t.token}` } })).status).toBe(403);
    // /ws authenticates with the JWT (hello carries it; the welcome says authenticated)
    const ws = new WebSocket(`ws://127.0.0.1:${p}/ws`);
    await new Promise((resolve) => ws.on('open', resolve));
    ws.send(pack({ v: PROTOCOL_VERSION, op: 'hello', id: 1, token: t.token }));
    const welcome = await new Promise<Record<string, unknown>>((resolve) => { ws.on('message', (d) => resolve(unpack(d as Buffer) as Record<string, unknown>)); ws.on('close', (c) => resolve({ closed: c })); });
    expect(welcome).toMatchObject({ op: 'welcome', authenticated: true });
    ws.close();
    const expired = await mintJwt({ secret: SECRET }, 'old', 60, Date.now() - 3_600_000);
    const e = await raw(p, '/api/v1/system', { authorization: `Bearer ${expired.token}` });
    expect(e.status).toBe(401);
    expect(e.body.reason).toBe('token expired');
    const forged = await mintJwt({ secret: 'another-secret-another-secret-1234' }, 'x', 60);
    expect((await raw(p, '/api/v1/system', { authorization: `Bearer ${forged.token}` })).body.reason).toBe('invalid token');
    expect((await fetch(`${s.http.url}/api/v1/tokens/revoke?jti=${t.jti}`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const r = await raw(p, '/api/v1/system', { authorization: `Bearer ${t.token}` });
    expect(r.status).toBe(401);
    expect(r.body.reason).toBe('token revoked');
  });
});

describe('tapeflow token', () => {
  it('mints a JWT with the configured secret that the server accepts', async () => {
    const cfg = join(dir, 'jwt.yaml');
    writeFileSync(cfg, 'server:\n  jwt:\n    secretEnv: TEST_JWT_SECRET\n    ttlS: 300\n');
    vi.stubEnv('TEST_JWT_SECRET', SECRET);
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => { out += String(c); return true; });
    try {
      expect(await tokenCommand.run(['--config', cfg, '--sub', 'site-b', '--json'])).toBe(0);
    } finally { spy.mockRestore(); vi.unstubAllEnvs(); }
    const t = JSON.parse(out) as { token: string; sub: string; expiresAt: number };
    expect(t.sub).toBe('site-b');
    expect(Math.round((t.expiresAt - Date.now()) / 1000)).toBeGreaterThan(290);
    expect((await raw(s.http.port, '/api/v1/system', { authorization: `Bearer ${t.token}` })).status).toBe(200);
  });
});

describe('token guessing', () => {
  it('is throttled per address after maxFailures (429 with Retry-After, the right token too) and logged once, without the guesses', async () => {
    // its own server: the lock-out must not leak into the other tests
    const g = await start({ authToken: TOKEN, authThrottle: { maxFailures: 5, windowMs: 60_000, lockMs: 60_000 } });
    lines = [];
    try {
      const p = g.http.port;
      const statuses: number[] = [];
      for (let k = 0; k < 8; k++) statuses.push((await raw(p, '/api/v1/system', { authorization: `Bearer guess-${k}-secretish` })).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
      const locked = await raw(p, '/api/v1/system', { authorization: `Bearer ${TOKEN}` });
      expect(locked.status).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(50);
      // the WebSocket token check shares the lock-out
      const ws = new WebSocket(`ws://127.0.0.1:${p}/ws?token=${TOKEN}`);
      const closed = await new Promise<number>((resolve) => { ws.on('close', (c) => resolve(c)); ws.on('message', () => {}); });
      expect(closed).toBe(4001);
      const lockLines = lines.filter((l) => l.includes('"event":"auth_lockout"'));
      expect(lockLines).toHaveLength(1);
      expect(JSON.parse(lockLines[0])).toMatchObject({ level: 'warn', component: 'security', addr: '127.0.0.1', failures: 5, lockS: 60 });
      const all = lines.join('');
      expect(all).not.toContain('guess-');
      expect(all).not.toContain(TOKEN);
      // every refusal is in the access log, at warn, with the status
      expect(lines.filter((l) => l.includes('"component":"http"') && l.includes('"status":401')).length).toBe(5);
    } finally { await stop(g); }
  });
});

describe('one option protects every route; open binding refused', () => {
  it('protect: all needs the token on UDF, /openapi.json and /metrics; /health stays open', async () => {
    const a = await start({ authToken: TOKEN, protect: 'all', metrics: { contentType: 'text/plain', text: async () => 'x 1\n' } });
    try {
      const p = a.http.port;
      for (const path of ['/config', '/history?symbol=BTCUSDT&resolution=1&from=0&to=10', '/time', '/openapi.json', '/metrics', '/api/v1/system']) {
        expect((await raw(p, path)).status, path).toBe(401);
        expect((await raw(p, path, { authorization: `Bearer ${TOKEN}` })).status, path).toBe(200);
      }
      expect((await raw(p, '/health')).status).toBe(200);
    } finally { await stop(a); }
  });

  it('a non-loopback address without a token refuses to start, saying why; loopback and explicit override are fine', async () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    await expect(createServer({ engine, host: '0.0.0.0', port: 0, staticDir: false })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without a token.*server\.allowNoAuth: true/);
    expect(openBindRefusal('0.0.0.0', false, true)).toBe(null);
    expect(openBindRefusal('192.168.1.5', true, false)).toBe(null);
    expect(openBindRefusal('127.0.0.2', false, false)).toBe(null);
    expect(openBindRefusal('::', false, false)).toMatch(/refusing/);
  });
});

describe('status without a token', () => {
  it('/health and /api/v1/system carry no file paths or error text unless a valid token is presented', async () => {
    const store = Store.open({ path: join(dir, 'secret-dir', 'store.sqlite'), flushIntervalMs: 0 });
    const open = await start({}, store);
    try {
      const p = open.http.port;
      const sys = (await raw(p, '/api/v1/system')).body;
      expect(sys.uptimeS).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(sys)).not.toContain('secret-dir');
      expect((await raw(p, '/health')).body.status).toBe('ok');
      expect(JSON.stringify((await raw(p, '/health')).body)).not.toContain('secret-dir');
    } finally { await stop(open); }
    const store2 = Store.open({ path: join(dir, 'secret-dir', 'store2.sqlite'), flushIntervalMs: 0 });
    const authed = await start({ authToken: TOKEN }, store2);
    try {
      const with_ = (await raw(authed.http.port, '/api/v1/system', { authorization: `Bearer ${TOKEN}` })).body;
      expect(JSON.stringify(with_)).toContain('secret-dir');
    } finally { await stop(authed); }
  });

  it('the access log has one line per request with the token redacted', async () => {
    lines = [];
    await raw(s.http.port, `/api/v1/system?token=${TOKEN}&x=1`);
    const l = lines.map((x) => JSON.parse(x)).find((x) => x.component === 'http' && x.req?.url?.startsWith('/api/v1/system'));
    expect(l).toMatchObject({ level: 'info', req: { method: 'GET', url: '/api/v1/system?token=[redacted]&x=1', addr: '127.0.0.1' }, res: { status: 200 } });
    expect(typeof l.responseTime).toBe('number');
    expect(lines.join('')).not.toContain(TOKEN);
  });
});

/**
 * Who may talk to the server (HTTP and /ws), secure by default:
 *  - Host allow-list: the Host header must name the server (loopback names, the configured host,
 *    `allowedHosts`), which defeats DNS rebinding (a foreign name resolving to 127.0.0.1). 421 otherwise.
 *  - Browser origins: a request carrying an Origin must come from the server's own origin or one of
 *    `origins` (the CORS list; '*' = any); a cross-site request without Origin (an <img>/<script> GET,
 *    seen through Sec-Fetch-Site) is refused the same way, except top-level navigations. 403 otherwise.
 *  - Tokens: the static token (compared in constant time on SHA-256 digests) or a short-lived JWT
 *    (HS256 via `jose`, with `exp`, issuer "tapeflow" and a `jti` that can be revoked; rotating the
 *    secret revokes them all). `protect: 'all'` requires one on every route (UDF, /ws, /metrics too;
 *    /health stays open with no details); the default `'api'` protects /api/** and /ws.
 *  - Throttling: `maxFailures` wrong tokens from one address within `windowMs` lock that address out
 *    for `lockMs` (429 with Retry-After, even for a right token) and log one security line; guesses
 *    are never logged.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import type { Logger } from '../../../engine/src/log.js';

export interface JwtOptions {
  /** HMAC secret (≥ 32 bytes recommended) */
  secret: string;
  /** default lifetime of minted tokens, seconds (default 900) */
  ttlS?: number;
  /** longest lifetime a mint request may ask for, seconds (default 86 400) */
  maxTtlS?: number;
  /** revoked token ids (jti) */
  revoked?: readonly string[];
}

export interface SecurityOptions {
  /** static bearer token; unset and no jwt = no auth */
  token?: string;
  jwt?: JwtOptions;
  /** 'api' (default): /api/** and /ws need a token; 'all': every route but /health */
  protect?: 'api' | 'all';
  /** browser origins allowed besides the server's own ('*' = any) */
  origins?: readonly string[];
  /** Host header names allowed besides the loopback names and the listen host */
  allowedHosts?: readonly string[];
  /** the listen host (allowed as a Host name unless it is a wildcard address) */
  listenHost?: string;
  /** wrong tokens from one address before it is locked out (default 10) */
  maxFailures?: number;
  /** failure counting window, ms (default 60 000) */
  windowMs?: number;
  /** lock-out, ms (default 60 000) */
  lockMs?: number;
  log?: Logger;
  now?: () => number;
}

export type AuthResult = { ok: true; via: 'none' | 'token' | 'jwt'; sub?: string } | { ok: false; status: 401 | 429; reason: string; retryAfterS?: number };

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1', '[::1]'];
const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '']);

export function isLoopbackHost(h: string): boolean {
  const x = h.replace(/^\[|\]$/g, '').toLowerCase();
  return x === 'localhost' || x === '::1' || (isIP(x) === 4 && x.startsWith('127.'));
}

function digest(s: string): Buffer { return createHash('sha256').update(s).digest(); }

/** Constant-time string equality (digests first, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean { return timingSafeEqual(digest(a), digest(b)); }

export function tokenFrom(headers: IncomingHttpHeaders, url: string | undefined): string | null {
  const h = headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(h.trim());
    if (m) return m[1].trim();
  }
  if (url) {
    const q = url.indexOf('?');
    if (q >= 0) {
      const t = new URLSearchParams(url.slice(q + 1)).get('token');
      if (t !== null) return t;
    }
  }
  return null;
}

/** The hostname of a Host header ("a.b:8080" → "a.b", "[::1]:80" → "::1"), lower case. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) { const e = h.indexOf(']'); return e > 0 ? h.slice(1, e) : h; }
  const c = h.lastIndexOf(':');
  return c >= 0 && h.indexOf(':') === c ? h.slice(0, c) : h;
}

/** A configured host name: IPv6 with or without brackets, a name with or without a port. */
function normHost(h: string): string {
  const x = h.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return isIP(x) ? x : hostName(x);
}

interface Strikes { times: number[]; lockedUntil: number }

export class Guard {
  readonly protect: 'api' | 'all';
  readonly authRequired: boolean;
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;
  private readonly anyOrigin: boolean;
  private readonly key: Uint8Array | null;
  private readonly revoked: Set<string>;
  private readonly strikes = new Map<string, Strikes>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockMs: number;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  /** refused requests by reason (for /api/v1/system) */
  readonly stats = { badHost: 0, badOrigin: 0, unauthorized: 0, throttled: 0, lockouts: 0 };

  constructor(private readonly o: SecurityOptions = {}) {
    this.protect = o.protect ?? 'api';
    this.authRequired = !!o.token || !!o.jwt;
    this.hosts = new Set([...LOOPBACK_NAMES, ...(o.allowedHosts ?? [])].map(normHost));
    if (o.listenHost && !WILDCARD.has(o.listenHost)) this.hosts.add(normHost(o.listenHost));
    this.origins = new Set((o.origins ?? []).filter((x) => x !== '*').map((x) => x.toLowerCase()));
    this.anyOrigin = (o.origins ?? []).includes('*');
    this.key = o.jwt ? new TextEncoder().encode(o.jwt.secret) : null;
    this.revoked = new Set(o.jwt?.revoked ?? []);
    this.maxFailures = o.maxFailures ?? 10;
    this.windowMs = o.windowMs ?? 60_000;
    this.lockMs = o.lockMs ?? 60_000;
    this.now = o.now ?? Date.now;
    this.log = o.log;
  }

  hostAllowed(host: string | undefined): boolean {
    if (!host) return false;
    return this.hosts.has(hostName(host));
  }

  /** Browser-origin rule (see the module comment); `host` is the request's (already allowed) Host. */
  originAllowed(headers: IncomingHttpHeaders): boolean {
    const origin = headers.origin;
    if (typeof origin === 'string' && origin !== '') {
      if (this.anyOrigin) return true;
      const o = origin.toLowerCase();
      if (this.origins.has(o)) return true;
      const host = headers.host?.toLowerCase();
      return !!host && (o === `http://${host}` || o === `https://${host}`);
    }
    const site = headers['sec-fetch-site'];
    if (site === 'cross-site' && !this.anyOrigin) return headers['sec-fetch-mode'] === 'navigate' && headers['sec-fetch-dest'] === 'document';
    return true;
  }

  /** Check the request's token (if auth is configured) with per-address throttling. */
  async authorize(headers: IncomingHttpHeaders, url: string | undefined, addr: string | undefined): Promise<AuthResult> {
    if (!this.authRequired) return { ok: true, via: 'none' };
    return this.check(tokenFrom(headers, url), addr ?? 'unknown');
  }

  /** Check one presented token from `addr`. */
  async check(token: string | null, addr: string): Promise<AuthResult> {
    const now = this.now();
    const st = this.strikes.get(addr);
    if (st && st.lockedUntil > now) {
      this.stats.throttled++;
      return { ok: false, status: 429, reason: 'too many wrong tokens from this address; retry later', retryAfterS: Math.ceil((st.lockedUntil - now) / 1000) };
    }
    if (token !== null && token.length > 0 && token.length <= 4096) {
      if (this.o.token && safeEqual(token, this.o.token)) return { ok: true, via: 'token' };
      if (this.key && token.split('.').length === 3) {
        const r = await this.verifyJwt(token);
        if (r.ok) return r;
        return this.fail(addr, now, r.reason);
      }
    }
    return this.fail(addr, now, token === null ? 'missing token (Authorization: Bearer <token> or ?token=)' : 'wrong token');
  }

  private async verifyJwt(token: string): Promise<AuthResult> {
    try {
      const { payload } = await jwtVerify(token, this.key!, { issuer: 'tapeflow', algorithms: ['HS256'], currentDate: new Date(this.now()) });
      if (!payload.jti || this.revoked.has(payload.jti)) return { ok: false, status: 401, reason: 'token revoked' };
      return { ok: true, via: 'jwt', sub: typeof payload.sub === 'string' ? payload.sub : undefined };
    } catch (e) {
      return { ok: false, status: 401, reason: e instanceof joseErrors.JWTExpired ? 'token expired' : 'invalid token' };
    }
  }

  private fail(addr: string, now: number, reason: string): AuthResult {
    this.stats.unauthorized++;
    let st = this.strikes.get(addr);
    if (!st) {
      if (this.strikes.size >= 10_000) this.prune(now);
      st = { times: [], lockedUntil: 0 };
      this.strikes.set(addr, st);
    }
    st.times = st.times.filter((t) => t > now - this.windowMs);
    st.times.push(now);
    if (st.times.length >= this.maxFailures) {
      st.lockedUntil = now + this.lockMs;
      st.times = [];
      this.stats.lockouts++;
      this.log?.warn('security: too many wrong tokens, address locked out', { event: 'auth_lockout', addr, failures: this.maxFailures, windowS: this.windowMs / 1000, lockS: this.lockMs / 1000 });
    }
    return { ok: false, status: 401, reason };
  }

  private prune(now: number): void {
    for (const [k, v] of this.strikes) if (v.lockedUntil <= now && v.times.every((t) => t <= now - this.windowMs)) this.strikes.delete(k);
    // still full: forget the oldest entries (a flood of addresses must not grow this without bound)
    let n = this.strikes.size - 9_000;
    for (const k of this.strikes.keys()) { if (n-- <= 0) break; this.strikes.delete(k); }
  }

  // ------------------------------------------------------------------ short-lived tokens

  get jwtEnabled(): boolean { return this.key !== null; }

  /** Mint a JWT for `sub`, valid `ttlS` seconds (capped at maxTtlS). */
  async mint(sub: string, ttlS?: number): Promise<{ token: string; jti: string; expiresAt: number }> {
    if (!this.key) throw new Error('short-lived tokens are not configured (server.jwt.secretEnv)');
    return mintJwt(this.o.jwt!, sub, ttlS, this.now());
  }

  revoke(jti: string): void { this.revoked.add(jti); }

  // ------------------------------------------------------------------ express / ws glue

  /** Host and Origin checks for every route. */
  requestGuard() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (!this.hostAllowed(req.headers.host)) {
        this.stats.badHost++;
        res.status(421).json({ error: 'misdirected request', param: 'Host', reason: 'this server does not answer for that host name (add it to server.allowedHosts)' });
        return;
      }
      if (!this.originAllowed(req.headers)) {
        this.stats.badOrigin++;
        res.status(403).json({ error: 'forbidden', param: 'Origin', reason: 'cross-origin requests are accepted only from server.cors.origins' });
        return;
      }
      next();
    };
  }

  /** Token check (when auth is configured); marks res.locals.authed. */
  authGuard() {
    return (req: Request, res: Response, next: NextFunction): void => {
      this.authorize(req.headers, req.originalUrl, req.socket.remoteAddress).then((r) => {
        if (r.ok) { res.locals.authed = r.via !== 'none'; res.locals.via = r.via; next(); return; }
        if (r.status === 429) res.set('Retry-After', String(r.retryAfterS ?? 60));
        else res.set('WWW-Authenticate', 'Bearer');
        res.status(r.status).json({ error: r.status === 429 ? 'too many requests' : 'unauthorized', param: 'token', reason: r.reason });
      }, next);
    };
  }

  /** Whether a request carries a valid token (for details on open routes); never counts as a failure. */
  async authedQuietly(headers: IncomingHttpHeaders, url: string | undefined): Promise<boolean> {
    if (!this.authRequired) return false;
    const t = tokenFrom(headers, url);
    if (t === null) return false;
    if (this.o.token && safeEqual(t, this.o.token)) return true;
    return this.key !== null && t.split('.').length === 3 && (await this.verifyJwt(t)).ok;
  }

  /** For the WebSocket upgrade: Host and Origin rules (the token is checked by the stream server). */
  upgradeAllowed(req: IncomingMessage): { ok: true } | { ok: false; status: number; reason: string } {
    if (!this.hostAllowed(req.headers.host)) { this.stats.badHost++; return { ok: false, status: 421, reason: 'host not allowed' }; }
    if (!this.originAllowed(req.headers)) { this.stats.badOrigin++; return { ok: false, status: 403, reason: 'origin not allowed' }; }
    return { ok: true };
  }

  /** The stream server's token check: constant time, JWT, throttled per address. */
  streamTokenCheck(): ((token: string, req: IncomingMessage) => Promise<boolean>) | undefined {
    if (!this.authRequired) return undefined;
    return async (token, req) => (await this.check(token, req.socket.remoteAddress ?? 'unknown')).ok;
  }
}

/** Mint an HS256 JWT (issuer "tapeflow", random jti). */
export async function mintJwt(o: JwtOptions, sub: string, ttlS: number | undefined, now = Date.now()): Promise<{ token: string; jti: string; expiresAt: number }> {
  const ttl = Math.min(Math.max(1, Math.floor(ttlS ?? o.ttlS ?? 900)), o.maxTtlS ?? 86_400);
  const jti = randomUUID();
  const iat = Math.floor(now / 1000);
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuer('tapeflow').setSubject(sub).setJti(jti).setIssuedAt(iat).setExpirationTime(iat + ttl).sign(new TextEncoder().encode(o.secret));
  return { token, jti, expiresAt: (iat + ttl) * 1000 };
}

/** Refuse a non-loopback listen address without a token unless explicitly overridden; returns the reason. */
export function openBindRefusal(host: string, hasAuth: boolean, allowNoAuth: boolean): string | null {
  if (hasAuth || allowNoAuth || isLoopbackHost(host)) return null;
  return `refusing to listen on ${host} without a token: anyone who can reach this address could read the API and load the server. Set server.authTokenEnv (or server.jwt.secretEnv), listen on 127.0.0.1, or set server.allowNoAuth: true to accept this`;
}

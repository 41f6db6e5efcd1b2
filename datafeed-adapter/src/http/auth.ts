/**
 * Optional token auth and CORS.
 * Token: `Authorization: Bearer <token>` or `?token=<token>`, compared in constant time. Applied to
 * /api/**; the same check is exported for the WebSocket upgrade (`isAuthorized(req.headers, req.url)`)
 * so HTTP and WS share one token. UDF routes stay open (the bundled UDF client cannot send headers);
 * bind to loopback or put a proxy in front if they must be private.
 * CORS: `cors` = list of allowed origins ('*' = any). Allowed origins get Access-Control-Allow-Origin
 * (and preflight answers); others get no CORS headers (the browser blocks them).
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

function digest(s: string): Buffer { return createHash('sha256').update(s).digest(); }

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

/** True when no token is configured or the request carries the right one. */
export function isAuthorized(headers: IncomingHttpHeaders, url: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const got = tokenFrom(headers, url);
  return got !== null && timingSafeEqual(digest(got), digest(token));
}

export function authMiddleware(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (isAuthorized(req.headers, req.originalUrl, token)) { next(); return; }
    res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized', param: 'token', reason: 'missing or wrong token (Authorization: Bearer <token> or ?token=)' });
  };
}

export function corsMiddleware(origins: readonly string[]) {
  const any = origins.includes('*');
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (origin && (any || origins.includes(origin))) {
      res.set('Access-Control-Allow-Origin', any ? '*' : origin);
      if (!any) res.append('Vary', 'Origin');
      res.set('Access-Control-Expose-Headers', 'X-Cache');
      if (req.method === 'OPTIONS') {
        res.set('Access-Control-Allow-Methods', 'GET, OPTIONS');
        res.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
        res.set('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

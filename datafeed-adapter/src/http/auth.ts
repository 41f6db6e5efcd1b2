/**
 * CORS and the synchronous static-token check. The full rules (Host allow-list, browser origins,
 * JWT, throttling) live in security.ts.
 * CORS: `cors` = list of allowed origins ('*' = any). Allowed origins get Access-Control-Allow-Origin
 * (and preflight answers); requests from other origins are refused before this by security.ts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { safeEqual, tokenFrom } from './security.js';

export { tokenFrom };

/** True when no token is configured or the request carries the right static one (constant time). */
export function isAuthorized(headers: IncomingHttpHeaders, url: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const got = tokenFrom(headers, url);
  return got !== null && safeEqual(got, token);
}

export function corsMiddleware(origins: readonly string[]) {
  const any = origins.includes('*');
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    const same = origin !== undefined && req.headers.host !== undefined && (origin === `http://${req.headers.host}` || origin === `https://${req.headers.host}`);
    if (origin && (any || origins.includes(origin) || same)) {
      res.set('Access-Control-Allow-Origin', any ? '*' : origin);
      if (!any) res.append('Vary', 'Origin');
      res.set('Access-Control-Expose-Headers', 'X-Cache, X-TapeFlow-Limits');
      if (req.method === 'OPTIONS') {
        res.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
        res.set('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

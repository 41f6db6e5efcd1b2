/**
 * The datafeed HTTP server: UDF routes at the root, the order-flow API under /api/v1, /openapi.json,
 * /health, /metrics (Prometheus, when given), and `examples/` served statically when present. The WebSocket server (datafeed-adapter/src/ws)
 * mounts on the exported `server` (http.Server) and shares the token check via `isAuthorized`.
 */
import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import type { Engine } from '../../engine/src/analytics/engine.js';
import type { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import type { Store } from '../../engine/src/store/store.js';
import { HistoryService, type ServiceOptions } from './service/history.js';
import { UDF_ROUTES, udfRouter, type CacheStats } from './http/udf.js';
import { apiRouter } from './http/api.js';
import { openapiDocument } from './http/openapi.js';
import { corsMiddleware, isAuthorized } from './http/auth.js';
import { paperRouter } from './http/paper.js';
import { Guard, openBindRefusal, type JwtOptions } from './http/security.js';
import { accessLog } from './http/access-log.js';
import { publicView } from './http/redact.js';
import type { Logger } from '../../engine/src/log.js';
import { Scheduler, type SchedulerOptions } from './service/work.js';

export { isAuthorized };

export interface ServerOptions {
  engine: Engine;
  store?: Store;
  /** defaults to engine.registry */
  registry?: InstrumentRegistry;
  /** default 127.0.0.1 */
  host?: string;
  /** default 8080; 0 = any free port */
  port?: number;
  /** allowed CORS origins ('*' = any); default none */
  cors?: readonly string[];
  /** bearer token for /api/** (and the WS); unset = no auth */
  authToken?: string;
  /** short-lived signed tokens (JWT) accepted besides authToken; minted at POST /api/v1/tokens */
  jwt?: JwtOptions;
  /** 'api' (default): /api/** and /ws need a token; 'all': every route but /health (UDF, /metrics, static files) */
  protect?: 'api' | 'all';
  /** Host header names accepted besides loopback names and `host` (DNS-rebinding defence) */
  allowedHosts?: readonly string[];
  /** listen on a non-loopback address without any token (refused otherwise) */
  allowNoAuth?: boolean;
  /** wrong-token throttling per address (defaults 10 failures / 60 s → locked 60 s) */
  authThrottle?: { maxFailures?: number; windowMs?: number; lockMs?: number };
  /** access and security log (pino-http into this logger); absent = none */
  logger?: Logger;
  /** directory served at / (default ./examples when it exists); false disables */
  staticDir?: string | false;
  /** reuse an existing service (e.g. one that already recorded trades) */
  service?: HistoryService;
  serviceOptions?: ServiceOptions;
  /** how heavy queries share the event loop (slice length, most queries at once) */
  scheduler?: SchedulerOptions;
  /** UDF /history cache entries (default 2000) */
  cacheEntries?: number;
  /**
   * Web-standard handlers mounted at exact paths outside /api (no API token: they authenticate
   * themselves, e.g. the Telegram webhook with its secret header); bodies up to 1 MB
   */
  handlers?: { path: string; handle: (request: globalThis.Request) => Promise<globalThis.Response> }[];
  /** Prometheus metrics served at GET /metrics (engine/src/status/metrics.ts); absent = no route */
  metrics?: { contentType: string; text(): Promise<string> };
}

export interface DatafeedServer {
  app: Express;
  server: Server;
  service: HistoryService;
  cache: CacheStats;
  url: string;
  port: number;
  authToken: string | undefined;
  /** Host/Origin/token rules, shared with the WebSocket server (verifyUpgrade, streamTokenCheck) */
  guard: Guard;
  close(): Promise<void>;
}

/** An express route around a (Request) => Response handler. */
function webHandler(handle: (request: globalThis.Request) => Promise<globalThis.Response>) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      const body = Buffer.isBuffer(req.body) && req.body.length && req.method !== 'GET' && req.method !== 'HEAD' ? new Uint8Array(req.body) : undefined;
      const r = await handle(new globalThis.Request(`http://${req.get('host') ?? 'localhost'}${req.originalUrl}`, { method: req.method, headers, body }));
      res.status(r.status);
      r.headers.forEach((v, k) => { res.setHeader(k, v); });
      res.end(Buffer.from(await r.arrayBuffer()));
    } catch (err) {
      next(err);
    }
  };
}

export async function createServer(o: ServerOptions): Promise<DatafeedServer> {
  if (o.registry && o.registry !== o.engine.registry) throw new Error('createServer: registry must be the engine\'s registry');
  const service = o.service ?? new HistoryService(o.engine, o.store, o.serviceOptions);
  const host = o.host ?? '127.0.0.1';
  const refusal = openBindRefusal(host, !!o.authToken || !!o.jwt, !!o.allowNoAuth);
  if (refusal) throw new Error(refusal);
  const log = o.logger;
  const guard = new Guard({ token: o.authToken, jwt: o.jwt, protect: o.protect, origins: o.cors, allowedHosts: o.allowedHosts, listenHost: host, log: log?.child({ component: 'security' }), ...o.authThrottle });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (log) app.use(accessLog(log.child({ component: 'http' })));
  app.use(guard.requestGuard());
  app.use(corsMiddleware(o.cors ?? []));
  const sched = new Scheduler(o.scheduler);
  const onError = (e: unknown, req: Request): void => { log?.error('http: request failed', { url: req.path, err: e }); };
  const { router: udf, cache } = udfRouter(service, sched, { cacheEntries: o.cacheEntries, onError });
  // open to everyone (load balancers, the page); details such as error text only with a token
  app.get('/health', (req, res, next) => {
    guard.authedQuietly(req.headers, req.originalUrl).then((authed) => { const h = service.health(); res.json(authed ? h : publicView(h)); }, next);
  });
  const all = guard.protect === 'all' ? guard.authGuard() : (_req: Request, _res: Response, next: NextFunction) => { next(); };
  const metrics = o.metrics;
  if (metrics) app.get('/metrics', all, (_req, res, next) => { metrics.text().then((t) => { res.type(metrics.contentType).send(t); }, next); });
  app.get('/openapi.json', all, (req, res) => { res.json(openapiDocument({ auth: guard.authRequired, serverUrl: `${req.protocol}://${req.get('host') ?? 'localhost'}` })); });
  for (const h of o.handlers ?? []) app.all(h.path, express.raw({ type: () => true, limit: '1mb' }), webHandler(h.handle));
  // the page's own files are public code (a browser cannot attach a token to <script src>); data is not
  const dir = o.staticDir === undefined ? (existsSync('examples') ? 'examples' : false) : o.staticDir;
  if (dir) {
    // UDF paths are never files: they skip the file lookup (an fs.stat on the thread pool per request)
    const files = express.static(dir);
    const udfPaths = new Set(Object.values(UDF_ROUTES).map((d) => d.path));
    app.use((req: Request, res: Response, next: NextFunction) => { if (udfPaths.has(req.path)) next(); else files(req, res, next); });
  }
  if (guard.protect === 'all') app.use(guard.authGuard());
  else app.use('/api', guard.authGuard());
  // UDF first among the data routers: its paths are outside /api, and a /history request then
  // passes no API route on its way (the routers below match /api/** only)
  app.use(udf);
  app.use(tokenRoutes(guard));
  app.use(paperRouter(service));
  app.use(apiRouter(service, sched, () => ({ historyCache: { ...cache }, queries: { running: sched.running, ...sched.stats }, security: { ...guard.stats } }), onError));
  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: 'not found', param: null, reason: `no route ${req.method} ${req.path.slice(0, 100)}` });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; message?: string; expose?: boolean };
    const status = e.status ?? e.statusCode ?? 500;
    if (status >= 500) log?.error('http: request failed', { url: req.path, err });
    if (res.headersSent) { res.destroy(); return; }
    res.status(status >= 400 && status < 600 ? status : 500).json({ error: status < 500 ? 'bad request' : 'internal error', param: null, reason: status < 500 && e.expose !== false ? String(e.message ?? err).slice(0, 200) : 'the request failed inside the server (see the server log)' });
  });

  const server = createHttpServer(app);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    app, server, service, cache, url, port, authToken: o.authToken, guard,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * Short-lived tokens for sites that embed the datafeed: POST /api/v1/tokens?sub=<who>&ttl=<s> mints
 * one, POST /api/v1/tokens/revoke?jti=<id> revokes one. Both need the static token (an admin
 * credential), never a JWT: a browser's token cannot mint more.
 */
function tokenRoutes(guard: Guard): express.Router {
  const r = express.Router();
  const admin = (res: Response): boolean => {
    if (res.locals.authed && res.locals.via === 'token') return true;
    res.status(403).json({ error: 'forbidden', param: 'token', reason: 'minting and revoking tokens needs the static API token' });
    return false;
  };
  r.post('/api/v1/tokens', (req, res, next) => {
    if (!admin(res)) return;
    if (!guard.jwtEnabled) { res.status(404).json({ error: 'not found', param: null, reason: 'short-lived tokens are not configured (server.jwt.secretEnv)' }); return; }
    const sub = typeof req.query.sub === 'string' && /^[\w.@:-]{1,80}$/.test(req.query.sub) ? req.query.sub : 'browser';
    const ttl = typeof req.query.ttl === 'string' && /^\d{1,7}$/.test(req.query.ttl) ? Number(req.query.ttl) : undefined;
    guard.mint(sub, ttl).then((t) => { res.json({ ...t, sub }); }, next);
  });
  r.post('/api/v1/tokens/revoke', (req, res) => {
    if (!admin(res)) return;
    const jti = typeof req.query.jti === 'string' ? req.query.jti : '';
    if (!/^[\w-]{1,80}$/.test(jti)) { res.status(400).json({ error: 'invalid parameter', param: 'jti', reason: 'the token id (jti) to revoke' }); return; }
    guard.revoke(jti);
    res.json({ revoked: jti });
  });
  return r;
}

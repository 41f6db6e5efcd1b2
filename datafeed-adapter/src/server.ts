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
import { udfRouter, type CacheStats } from './http/udf.js';
import { apiRouter } from './http/api.js';
import { openapiDocument } from './http/openapi.js';
import { authMiddleware, corsMiddleware, isAuthorized } from './http/auth.js';
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
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(corsMiddleware(o.cors ?? []));
  const sched = new Scheduler(o.scheduler);
  const { router: udf, cache } = udfRouter(service, sched, { cacheEntries: o.cacheEntries });
  app.get('/health', (_req, res) => { res.json(service.health()); });
  const metrics = o.metrics;
  if (metrics) app.get('/metrics', (_req, res, next) => { metrics.text().then((t) => { res.type(metrics.contentType).send(t); }, next); });
  app.get('/openapi.json', (req, res) => { res.json(openapiDocument({ auth: !!o.authToken, serverUrl: `${req.protocol}://${req.get('host') ?? 'localhost'}` })); });
  for (const h of o.handlers ?? []) app.all(h.path, express.raw({ type: () => true, limit: '1mb' }), webHandler(h.handle));
  app.use('/api', authMiddleware(o.authToken));
  app.use(apiRouter(service, sched, () => ({ historyCache: { ...cache }, queries: { running: sched.running, ...sched.stats } })));
  app.use(udf);
  const dir = o.staticDir === undefined ? (existsSync('examples') ? 'examples' : false) : o.staticDir;
  if (dir) app.use(express.static(dir));
  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: 'not found', param: null, reason: `no route ${req.method} ${req.path.slice(0, 100)}` });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; message?: string };
    const status = e.status ?? e.statusCode ?? 500;
    res.status(status >= 400 && status < 600 ? status : 500).json({ error: status < 500 ? 'bad request' : 'internal error', param: null, reason: String(e.message ?? err).slice(0, 200) });
  });

  const server = createHttpServer(app);
  server.keepAliveTimeout = 5000;
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    app, server, service, cache, url, port, authToken: o.authToken,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

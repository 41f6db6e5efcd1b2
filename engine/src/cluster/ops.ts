/**
 * /metrics (Prometheus text, prom-client) and /health (JSON) for the ingest and engine roles; the
 * gateway serves both from the composition root's server.
 */
import { createServer, type Server } from 'node:http';
import { Registry, Counter, Gauge } from 'prom-client';

export interface Ops {
  registry: Registry;
  counter(name: string, help: string): Counter;
  gauge(name: string, help: string): Gauge;
  port: number;
  close(): Promise<void>;
}

/** `health()` returns {ok, …}: 200 when ok, 503 otherwise, so a load balancer can act on it. */
export async function startOps(o: { host: string; port: number; role: string; node: string; health: () => Record<string, unknown> & { ok: boolean } }): Promise<Ops> {
  const registry = new Registry();
  registry.setDefaultLabels({ role: o.role, node: o.node });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      const h = o.health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ role: o.role, node: o.node, ...h }));
    } else if (path === '/metrics') {
      registry.metrics().then((m) => { res.writeHead(200, { 'content-type': registry.contentType }); res.end(m); }, (e) => { res.writeHead(500); res.end(String(e)); });
    } else { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found: /health and /metrics only\n'); }
  });
  await new Promise<void>((r, j) => { server.once('error', j); server.listen(o.port, o.host, () => r()); });
  return {
    registry, port: (server.address() as { port: number }).port,
    counter: (name, help) => new Counter({ name, help, registers: [registry] }),
    gauge: (name, help) => new Gauge({ name, help, registers: [registry] }),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

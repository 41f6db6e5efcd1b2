/**
 * A local JetStream cluster of nats-server processes on loopback ports (tests, bench, `npm run
 * cluster`): each node gets a temp store dir and routes to the others. Real servers, never a mock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalNats {
  /** client URLs, one per node (nats://127.0.0.1:port) */
  urls: string[];
  procs: ChildProcess[];
  dir: string;
  /** SIGKILL every node and remove the store dirs */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

async function waitPort(port: number, ms: number): Promise<void> {
  const { connect } = await import('node:net');
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => { const c = connect(port, '127.0.0.1'); c.once('connect', () => { c.destroy(); r(true); }); c.once('error', () => r(false)); });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nats-server did not listen on 127.0.0.1:${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Start `nodes` nats-server processes (default 3) forming one JetStream cluster. */
export async function startLocalNats(o: { nodes?: number; bin?: string; log?: (s: string) => void } = {}): Promise<LocalNats> {
  const n = o.nodes ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-nats-'));
  const client: number[] = [];
  const route: number[] = [];
  const monitor: number[] = [];
  for (let i = 0; i < n; i++) { client.push(await freePort()); route.push(await freePort()); monitor.push(await freePort()); }
  const procs: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const conf = join(dir, `n${i}.conf`);
    const routes = route.map((p, j) => (j === i ? null : `nats-route://127.0.0.1:${p}`)).filter(Boolean).join(', ');
    writeFileSync(conf, [
      `server_name: n${i}`, `listen: 127.0.0.1:${client[i]}`, `http: 127.0.0.1:${monitor[i]}`,
      `jetstream { store_dir: "${join(dir, `js${i}`)}", max_memory_store: 256MB, max_file_store: 2GB }`,
      n > 1 ? `cluster { name: tapeflow, listen: 127.0.0.1:${route[i]}, routes: [${routes}] }` : '',
    ].join('\n'));
    const p = spawn(o.bin ?? 'nats-server', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr?.on('data', (d: Buffer) => o.log?.(`[nats n${i}] ${d.toString()}`));
    procs.push(p);
  }
  for (const p of client) await waitPort(p, 15_000);
  // JetStream is usable once the nodes have elected a meta leader: /healthz says so
  for (const m of monitor) {
    for (let until = Date.now() + 30_000; ;) {
      const ok = await fetch(`http://127.0.0.1:${m}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > until) throw new Error(`nats-server on monitor port ${m}: JetStream not healthy within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    urls: client.map((p) => `nats://127.0.0.1:${p}`), procs, dir,
    stop: async () => {
      await Promise.all(procs.map((p) => new Promise<void>((r) => { if (p.exitCode !== null || p.signalCode !== null) return r(); p.once('exit', () => r()); p.kill('SIGKILL'); })));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

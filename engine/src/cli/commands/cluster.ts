/**
 * `tapeflow cluster`: try the distributed form on one machine. Starts a 3-node JetStream cluster
 * (nats-server on loopback), then `start --role` processes: 1 ingest replaying simulator-made tapes
 * (or --files), 3 engine nodes, 1 gateway, and prints their URLs until Ctrl-C (then stops them all).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { startLocalNats } from '../../cluster/local-nats.js';
import { writeClusterTapes, clusterConfigYaml } from '../../cluster/tapes.js';

const USAGE = `Usage: tapeflow cluster [options]

Starts a local cluster for trying the distributed form (docs/cluster.md): nats-server ×3 (JetStream,
loopback ports, temp store dirs), one ingest node replaying simulator-made tapes, three engine nodes
and one gateway (UDF, /api/v1, /ws). Ctrl-C stops every process it started.

Options:
  --instruments N   simulated instruments (default 6)
  --minutes N       minutes of simulated trading per instrument (default 60)
  --pace N          ingest rate in events/s (default 2000)
  --port N          gateway HTTP port (default 8080)
  --help            this text
`;

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'start a local NATS JetStream cluster with ingest, engine and gateway nodes (try-out)',
  usage: USAGE,
  async run(args) {
    const a = parseArgs(args, { values: ['instruments', 'minutes', 'pace', 'port'], booleans: [] });
    if (a.positional.length) throw new UsageError(`unexpected argument "${a.positional[0]}"`);
    const num = (k: string, d: number): number => { const v = a.flags.has(k) ? Number(a.flags.get(k)) : d; if (!(v >= 0) || !Number.isInteger(v)) throw new UsageError(`--${k} must be a whole number, got "${String(a.flags.get(k))}"`); return v; };
    const n = num('instruments', 6), minutes = num('minutes', 60), pace = num('pace', 2000), port = num('port', 8080);
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-local-cluster-'));
    process.stderr.write(`writing ${n} simulated tapes (${minutes} min each) to ${dir}\n`);
    const files = writeClusterTapes(dir, { instruments: n, minutes });
    const nats = await startLocalNats();
    const cfg = join(dir, 'cluster.yaml');
    writeFileSync(cfg, clusterConfigYaml({ servers: nats.urls, instruments: n }));
    process.stderr.write(`nats-server ×3: ${nats.urls.join(' ')}\nconfig: ${cfg}\n`);
    const procs: ChildProcess[] = [];
    const role = (r: string, node: string, extra: string[]): void => {
      const p = spawn(process.execPath, [process.argv[1], 'start', '--role', r, '--node', node, '--config', cfg, ...extra], { stdio: ['ignore', 'inherit', 'inherit'] });
      procs.push(p);
    };
    for (const e of ['engine-1', 'engine-2', 'engine-3']) role('engine', e, ['--port', '0']);
    role('gateway', 'gateway-1', ['--port', String(port), '--store', join(dir, 'gateway-1.sqlite')]);
    role('ingest', 'ingest-1', ['--port', '0', '--files', files.join(','), '--pace', String(pace)]);
    await new Promise<void>((resolve) => {
      const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await Promise.all(procs.map((p) => new Promise<void>((r) => { if (p.exitCode !== null || p.signalCode !== null) return r(); p.once('exit', () => r()); p.kill('SIGTERM'); })));
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
    return 0;
  },
};

/**
 * The shared set-up of the cluster tests (unit and real): a temp dir, the role processes a test
 * starts, and its local nats-server — all stopped and removed after the file; a role that died on
 * its own (not a victim the test killed) prints why. Kept apart from cluster-rig.ts, which the bench
 * bundles and so must not import vitest.
 */
import { afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalNats } from '../../engine/src/cluster/local-nats.js';
import { stopRole, type RoleProc } from './cluster-rig.js';

export interface ClusterWorkspace {
  dir: string;
  procs: RoleProc[];
  /** keep the started nats-server so it is stopped after the file; returns it */
  nats(n: LocalNats): LocalNats;
  health(r: RoleProc): Promise<Record<string, any>>;
}

export function clusterWorkspace(prefix: string): ClusterWorkspace {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const procs: RoleProc[] = [];
  let nats: LocalNats | null = null;
  afterAll(async () => {
    for (const p of procs) if (p.proc.exitCode !== null) console.log(`${p.node} exited ${p.proc.exitCode}: ${p.stderr.join('').slice(-2000)}`);
    for (const p of procs) await stopRole(p, 'SIGKILL').catch(() => {});
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir, procs,
    nats: (n) => (nats = n),
    health: async (r) => (await fetch(`${r.url}/health`)).json() as Promise<Record<string, any>>,
  };
}

/**
 * Linux thread scheduling facts and controls for the alerts worker (Node-only, best effort, no-ops
 * elsewhere): the calling thread's kernel id, its CPU time and run-queue wait (/proc schedstat, ns
 * precision), and moving it out of the engine's way.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Kernel id of the calling thread (Linux), else null. */
export function threadId(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return tid > 0 ? tid : null;
  } catch { return null; }
}

/** CPU time and time spent runnable but waiting for a CPU, of the calling thread so far (ms); null off Linux. */
export function threadSched(): { cpuMs: number; waitMs: number } | null {
  try {
    const f = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return { cpuMs: Number(f[0]) / 1e6, waitMs: Number(f[1]) / 1e6 };
  } catch { return null; }
}

/** Scheduling policy of a thread of this process (/proc stat field 41: 0 normal, 5 SCHED_IDLE), or null. */
export function schedPolicy(tid: number): number | null {
  try {
    const f = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(rest[38]); // fields from 3 on: field 41 is index 38
  } catch { return null; }
}

export type BackgroundPolicy = 'idle' | 'nice' | 'none';

/**
 * Make the calling (worker) thread yield to the engine's: SCHED_IDLE when `policy` is 'idle' (it runs
 * only on CPU time nothing else wants; set with util-linux `chrt`, which any user may do to its own
 * threads), else / failing that nice `nice`. Returns what took effect.
 */
export function runInBackground(policy: BackgroundPolicy, nice = 19): BackgroundPolicy {
  const tid = threadId();
  if (tid === null || tid === process.pid || policy === 'none') return 'none';
  if (policy === 'idle') {
    try {
      const r = spawnSync('chrt', ['--idle', '-p', '0', String(tid)], { stdio: 'ignore', timeout: 2000 });
      if (r.status === 0 && schedPolicy(tid) === 5) return 'idle';
    } catch { /* no chrt: fall back to nice */ }
  }
  try { setPriority(tid, Math.max(-20, Math.min(19, nice))); return 'nice'; } catch { return 'none'; }
}

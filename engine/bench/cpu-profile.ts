/**
 * In-process CPU profile of one bench case (node:inspector's Profiler, sampled every 100 µs), reduced
 * to the top self-time functions. Positions are mapped back through dist/bench.js.map to the
 * TypeScript source so a name like `add` says which `add`. The profiled run is a separate run after
 * the timed one: sampling slows the code, and the timed figures stay unprofiled.
 */
import { Session } from 'node:inspector/promises';
import { SourceMap } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number }
interface Profile { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }

export interface SelfTime { fn: string; at: string; selfPct: number }

const maps = new Map<string, SourceMap | null>();

function sourceMapFor(url: string): SourceMap | null {
  if (!url.startsWith('file:')) return null;
  let m = maps.get(url);
  if (m === undefined) {
    const file = fileURLToPath(url) + '.map';
    m = existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null;
    maps.set(url, m);
  }
  return m;
}

function where(cf: CallFrame): string {
  const m = sourceMapFor(cf.url);
  if (m && cf.lineNumber >= 0) {
    const e = m.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; originalLine?: number };
    if (e.originalSource) return `${e.originalSource.replace(/^.*?(engine|datafeed-adapter|indicators)\//, '$1/')}:${(e.originalLine ?? 0) + 1}`;
  }
  if (!cf.url) return '';
  return `${cf.url.replace(/^.*\//, '')}:${cf.lineNumber + 1}`;
}

/** Run `fn` under the sampling profiler; returns the `top` functions by self time. */
export async function profileTop(fn: () => void | Promise<void>, top = 5): Promise<SelfTime[]> {
  const s = new Session();
  s.connect();
  await s.post('Profiler.enable');
  await s.post('Profiler.setSamplingInterval', { interval: 100 });
  await s.post('Profiler.start');
  try { await fn(); } finally { /* stop below either way */ }
  const { profile } = (await s.post('Profiler.stop')) as unknown as { profile: Profile };
  s.disconnect();
  // self time per node from the sample timeline (more exact than hitCount with an uneven clock)
  const self = new Map<number, number>();
  const samples = profile.samples ?? [], deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i], (self.get(samples[i]) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  const byFn = new Map<string, SelfTime & { us: number }>();
  let total = 0;
  for (const n of profile.nodes) {
    const us = self.get(n.id) ?? 0;
    if (n.callFrame.functionName === '(idle)' || us <= 0) continue;
    total += us;
    const at = where(n.callFrame);
    const key = `${n.callFrame.functionName}@${at}`;
    const e = byFn.get(key) ?? { fn: n.callFrame.functionName || '(anonymous)', at, selfPct: 0, us: 0 };
    e.us += us;
    byFn.set(key, e);
  }
  return [...byFn.values()].sort((a, b) => b.us - a.us).slice(0, top)
    .map((e) => ({ fn: e.fn, at: e.at, selfPct: +((e.us / Math.max(1, total)) * 100).toFixed(1) }));
}

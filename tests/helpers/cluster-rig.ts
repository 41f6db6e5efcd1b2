/** Real `tapeflow start --role …` processes for the cluster test and bench. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { loadConfig, buildRegistry } from '../../engine/src/config/index.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { BookManager } from '../../engine/src/book/manager.js';
import { SignalEngine } from '../../engine/src/signals/engine.js';
import { replayFile } from '../../engine/src/replay/index.js';
import { clusterPipelineOptions } from '../../engine/src/cluster/engine-node.js';
import { signalView, transitionView } from '../../datafeed-adapter/src/views/signals.js';
import { REPO_ROOT } from './data.js';

// bundled into dist/bench.js the helper's own URL is dist/: fall back to the working directory's bin/
const BIN = existsSync(join(REPO_ROOT, 'bin', 'tapeflow.js')) ? join(REPO_ROOT, 'bin', 'tapeflow.js') : resolve('bin/tapeflow.js');

export interface RoleProc { proc: ChildProcess; url: string; role: string; node: string; stderr: string[] }

/** Spawn one role; resolves with its URL once it printed its banner. */
export function spawnRole(role: string, node: string, cfg: string, extra: string[] = []): Promise<RoleProc> {
  const proc = spawn(process.execPath, [BIN, 'start', '--role', role, '--node', node, '--config', cfg, '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${node}: no banner within 60 s; stderr: ${stderr.join('')}`)); }, 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on (http:\/\/[\d.:]+)/.exec(out);
      if (m) { clearTimeout(t); resolve({ proc, url: m[1], role, node, stderr }); }
    });
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`${node} exited ${code}: ${stderr.join('')}`)); });
  });
}

export async function stopRole(r: RoleProc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (r.proc.exitCode !== null || r.proc.signalCode !== null) return;
  const done = new Promise<void>((res) => r.proc.once('exit', () => res()));
  r.proc.kill(signal);
  const t = setTimeout(() => r.proc.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

export interface Reference { bars: Map<string, string[]>; signals: Map<string, unknown[]>; states: Map<string, unknown[]>; checksum: Map<string, string> }

/**
 * The single-process answer: each file replayed through one Engine + books + signals with the cluster's
 * pipeline options; per instrument the checksum after every closed bar, the signals and transitions
 * (in the views the output subjects carry). No finish(): the open last bar is not closed, as live.
 */
export async function singleProcessReference(cfg: string, files: string[]): Promise<Reference> {
  const config = await loadConfig(cfg);
  const registry = buildRegistry(config);
  const engine = new Engine(registry, clusterPipelineOptions(config));
  const books = new BookManager({ registry, emit: engine.onEvent });
  engine.observe(books.onEvent);
  const sig = new SignalEngine().attach(engine, { books });
  const ref: Reference = { bars: new Map(), signals: new Map(), states: new Map(), checksum: new Map() };
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => { let l = m.get(k); if (!l) m.set(k, (l = [])); l.push(v); };
  engine.onPipeline((p) => p.onBarClose(() => push(ref.bars, p.instrument.id, p.checksum())));
  sig.onSignal((e) => push(ref.signals, e.instrument, JSON.parse(JSON.stringify(signalView(e, registry.get(e.instrument))))));
  sig.onTransition((t) => push(ref.states, t.instrument, JSON.parse(JSON.stringify(transitionView(t, registry.get(t.instrument))))));
  for (const f of files) await replayFile(f, engine.onEvent, { registry });
  for (const [id, p] of engine.pipelines) ref.checksum.set(id, p.checksum());
  return ref;
}

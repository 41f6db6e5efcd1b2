/**
 * Build the EA for CI: translate mql5/TapeFlowBridge.mq5 (+ includes) to C++ and compile it with g++
 * together with the MQL5 shim (shim/cpp). The binary is cached by the hash of every input, so test
 * files share one compile. A translation or compile error throws with the compiler's message (lines
 * point into the .mq5/.mqh through #line).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { translateEa } from './translate.js';

/** mt5-bridge/shim, also from a bundle (dist/bench.js): walk up to the checkout that holds it */
function findShimDir(): string {
  let d = resolve(new URL('.', import.meta.url).pathname);
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'cpp', 'runtime.cpp'))) return d;
    if (existsSync(join(d, 'mt5-bridge', 'shim', 'cpp', 'runtime.cpp'))) return join(d, 'mt5-bridge', 'shim');
    d = resolve(d, '..');
  }
  throw new Error('mt5-bridge/shim not found next to this module');
}
export const SHIM_DIR = findShimDir();
export const EA_SOURCE = resolve(SHIM_DIR, '../mql5/TapeFlowBridge.mq5');

export interface BuiltEa { binary: string; cpp: string; sources: string[] }

export function buildShimEa(o: { mq5?: string; outDir?: string; cxx?: string } = {}): BuiltEa {
  const mq5 = o.mq5 ?? EA_SOURCE;
  const t = translateEa(mq5);
  const cppDir = join(SHIM_DIR, 'cpp');
  const shimFiles = readdirSync(cppDir).filter((f) => /\.(cpp|hpp)$/.test(f)).sort().map((f) => join(cppDir, f));
  const h = createHash('sha256');
  h.update(t.cpp);
  for (const f of shimFiles) h.update(f).update(readFileSync(f));
  const key = h.digest('hex').slice(0, 16);
  const outDir = o.outDir ?? join(tmpdir(), 'tapeflow-shim-ea');
  mkdirSync(outDir, { recursive: true });
  const binary = join(outDir, `tapeflow-ea-${key}`);
  const cpp = join(outDir, `ea-${key}.cpp`);
  if (existsSync(binary)) return { binary, cpp, sources: t.files };
  writeFileSync(cpp, t.cpp);
  const tmp = `${binary}.${process.pid}.tmp`;
  try {
    execFileSync(o.cxx ?? 'g++', ['-std=c++17', '-O2', '-Wall', '-Wno-unused-variable', '-Wno-unused-but-set-variable', '-Wno-sign-compare', '-I', cppDir, cpp, join(cppDir, 'runtime.cpp'), '-o', tmp], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`g++ could not compile the translated EA (${cpp}):\n${err.stderr?.toString() ?? err.message}`);
  }
  renameSync(tmp, binary); // atomic: parallel test files may build at once
  return { binary, cpp, sources: t.files };
}

import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Core code must run in browsers: no Node built-ins, no Node globals. */
const CORE_DIRS = ['engine/src/core', 'engine/src/analytics', 'engine/src/book', 'engine/src/sim', 'engine/src/signals'];
const FORBIDDEN = [/from\s+['"]node:/, /from\s+['"](fs|path|os|net|zlib|crypto|child_process|stream|readline|url|util|events)['"]/, /\brequire\(/, /\bprocess\./, /\bBuffer\./];

function files(dir: string): string[] {
  let out: string[] = [];
  try { statSync(dir); } catch { return out; }
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('core code is browser-safe', () => {
  const all = CORE_DIRS.flatMap(files);
  it('finds the core files', () => {
    expect(all.length).toBeGreaterThan(10);
  });
  it('imports nothing Node-specific', () => {
    const bad: string[] = [];
    for (const f of all) {
      const src = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      for (const re of FORBIDDEN) if (re.test(src)) bad.push(`${f}: ${re}`);
    }
    expect(bad).toEqual([]);
  });
  it('imports no adapter: venues, feeds, replay readers, store, config, CLI, alerts depend on the core, never the reverse', () => {
    const bad: string[] = [];
    const ADAPTER = /from\s+['"](\.\.\/)+(venues|feeds|replay|store|config|cli|alerts)\//;
    for (const f of all) if (ADAPTER.test(readFileSync(f, 'utf8'))) bad.push(f);
    expect(bad).toEqual([]);
  });
});

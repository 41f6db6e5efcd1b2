import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/data.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };


describe('package exports', () => {
  const targets = Object.entries(pkg.exports).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : Object.entries(v).map(([c, p]) => [`${k} (${c})`, p])));
  it.each(targets)('%s → %s exists after the build', (_k, p) => {
    expect(existsSync(join(REPO_ROOT, p))).toBe(true);
  });
  it('bundles are browser-clean (no Node built-ins) and declarations name the public classes', () => {
    const dts = readFileSync(join(REPO_ROOT, 'dist/types/datafeed-adapter/src/client/index.d.ts'), 'utf8');
    expect(dts).toMatch(/TapeFlowDatafeed/);
    for (const f of ['tapeflow-datafeed.mjs', 'tapeflow-lightweight-charts.mjs', 'tapeflow-charting-library.mjs']) {
      const src = readFileSync(join(REPO_ROOT, 'dist', f), 'utf8');
      expect(src).not.toMatch(/from\s*["']node:/);
      expect(src).not.toMatch(/require\(["'](fs|net|http|zlib)["']\)/);
    }
  });
});

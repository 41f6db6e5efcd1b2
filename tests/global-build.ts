/** Vitest globalSetup: build dist/ once before any test file runs (CLI tests spawn bin/tapeflow.js). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(new URL('.', import.meta.url).pathname, '..');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}

/** Location of the real recorded data (../shared/data unless TAPEFLOW_DATA says otherwise). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const DATA_DIR = process.env.TAPEFLOW_DATA ? resolve(process.env.TAPEFLOW_DATA) : resolve(REPO_ROOT, '../shared/data');

export function dataFile(rel: string): string {
  const p = join(DATA_DIR, rel);
  if (!existsSync(p)) throw new Error(`real data file missing: ${p} (set TAPEFLOW_DATA)`);
  return p;
}

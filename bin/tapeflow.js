#!/usr/bin/env node
// Package bin: runs the bundled CLI (dist/cli.js). It never builds at run time: an installed package
// ships dist/ (built by `prepack`), and a git checkout builds it in `npm ci` (`prepare`) or `npm run build`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write(`tapeflow: ${cli} is missing; in a git checkout run \`npm run build\` (npm ci does it)\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(cli).href);
process.exitCode = await main(process.argv.slice(2));

// Builds the Node entry points (CLI, bench) into dist/ with esbuild. Browser bundles are added by
// the datafeed-adapter and indicators builds listed in `browserBundles`.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
};

const entries = {
  cli: 'engine/src/cli/main.ts',
  // `tapeflow/engine`: the engine as a Node library (package.json "exports")
  engine: 'engine/src/index.ts',
  bench: 'engine/bench/bench.ts',
  // the memory case's child process: the engine alone (its RSS is the engine's)
  'bench-memory': 'engine/bench/memory-child.ts',
  'examples/replay-footprints': 'examples/node-api/replay-footprints.ts',
  // the Telegram alerts worker thread, loaded by dist/cli.js and dist/bench.js from beside them
  'alerts-worker': 'engine/src/alerts/worker.ts',
};

await Promise.all(
  Object.entries(entries)
    .filter(([, src]) => existsSync(src))
    .map(([name, src]) => build({ ...node, entryPoints: [src], outfile: `dist/${name}.js` })),
);

// Browser bundles (ESM + IIFE), registered by the packages that ship them.
const browserBundles = [
  { name: 'tapeflow-datafeed', src: 'datafeed-adapter/src/client/index.ts', global: 'TapeFlow' },
  { name: 'tapeflow-lightweight-charts', src: 'indicators/lightweight-charts/index.ts', global: 'TapeFlowLWC' },
  { name: 'tapeflow-charting-library', src: 'indicators/charting-library/index.ts', global: 'TapeFlowCL' },
  // the examples page bundle (lightweight-charts + datafeed client + indicators), served by `tapeflow start` at /
  { name: '../examples/lightweight-charts/app', src: 'examples/lightweight-charts/app.ts', global: 'TapeFlowExample' },
  { name: '../examples/charting-library/app', src: 'examples/charting-library/app.ts', global: 'TapeFlowCLExample' },
];
for (const b of browserBundles) {
  if (!existsSync(b.src)) continue;
  await build({ bundle: true, platform: 'browser', target: 'es2020', format: 'esm', sourcemap: true, entryPoints: [b.src], outfile: `dist/${b.name}.mjs`, logLevel: 'warning' });
  await build({ bundle: true, platform: 'browser', target: 'es2020', format: 'iife', globalName: b.global, sourcemap: true, entryPoints: [b.src], outfile: `dist/${b.name}.iife.js`, logLevel: 'warning' });
}

// Type declarations for the published bundles (package.json "exports" → dist/types/…).
import { execFileSync } from 'node:child_process';
if (process.env.TAPEFLOW_SKIP_DTS !== '1') {
  // typescript's package.json does not export its bin: run it by path from node_modules
  const tsc = new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname;
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.decl.json'], { stdio: 'inherit' });
}

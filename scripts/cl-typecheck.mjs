#!/usr/bin/env node
// Type-checks the project's Charting Library objects against YOUR copy of the library's own typings,
// in a scratch folder outside the repository (the typings are licensed with the library and never
// enter this repository):
//   TAPEFLOW_CL_DIR=/path/to/charting_library node scripts/cl-typecheck.mjs
// TAPEFLOW_CL_DIR holds charting_library.d.ts and datafeed-api.d.ts. Exit 0 = every assignment compiles.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const lib = process.env.TAPEFLOW_CL_DIR;
if (!lib || !existsSync(join(lib, 'charting_library.d.ts')) || !existsSync(join(lib, 'datafeed-api.d.ts'))) {
  console.error('set TAPEFLOW_CL_DIR to the folder holding charting_library.d.ts and datafeed-api.d.ts');
  process.exit(2);
}
const root = resolve(new URL('..', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-cl-types-'));
symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
const L = (f) => JSON.stringify(join(resolve(lib), f));
const P = (f) => JSON.stringify(join(root, f));
writeFileSync(join(dir, 'check.ts'), `
import type { IDatafeedChartApi, IExternalDatafeed, IDatafeedQuotesApi as DQ } from ${L('datafeed-api')};
import type { IBasicDataFeed, IDatafeedQuotesApi, CustomIndicator, PineJS, IChartWidgetApi, ChartingLibraryWidgetOptions } from ${L('charting_library')};
import { TapeFlowDatafeed } from ${P('datafeed-adapter/src/client/datafeed')};
import { withDerivedTickers, tapeflowIndicators, type ChartApiLike } from ${P('indicators/charting-library/index')};

// what a user writes, with no casts
export const df: IBasicDataFeed & IDatafeedQuotesApi = new TapeFlowDatafeed({ baseUrl: 'http://127.0.0.1:8080' });
export const df2: IDatafeedChartApi & IExternalDatafeed & DQ = new TapeFlowDatafeed({ baseUrl: 'http://127.0.0.1:8080' });
export const wrapped: IBasicDataFeed & IDatafeedQuotesApi = withDerivedTickers(new TapeFlowDatafeed({ baseUrl: 'http://127.0.0.1:8080' }));
export const getter: (PineJS: PineJS) => Promise<readonly CustomIndicator[]> = (PineJS) => tapeflowIndicators(PineJS);
export const options: Partial<ChartingLibraryWidgetOptions> = { datafeed: wrapped, custom_indicators_getter: getter };
export const chart = (c: IChartWidgetApi): ChartApiLike => c;
`);
writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
  compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['es2022', 'dom'] },
  files: ['check.ts'],
}));
try {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'inherit' });
  console.log(`ok: TapeFlowDatafeed, withDerivedTickers, tapeflowIndicators and ChartApiLike fit the typings in ${lib}`);
} catch { process.exit(1); }

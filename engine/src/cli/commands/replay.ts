/** `tapeflow replay <files...>`: replay recorded data through the engine and print the figures. */
import { basename } from 'node:path';
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { InstrumentRegistry } from '../../core/instruments.js';
import { Engine } from '../../analytics/engine.js';
import { pipelineReport, type PipelineReport } from '../../analytics/report.js';
import { replayFile } from '../../replay/index.js';
import type { FormatName, ReplayLineError, ReplayStats } from '../../replay/types.js';
import { FORMAT_NAMES } from '../../replay/types.js';
import { ProgressBar } from '../progress.js';
import { BookManager, type BookReport } from '../../book/index.js';
import { buildRegistry, loadConfig, pipelineOptions, type TapeFlowConfig } from '../../config/index.js';

const USAGE = `Usage: tapeflow replay <files...> [options]

Replays recorded market data through the engine (the same code as live) and prints, per instrument:
bar count, totals, the session profile's POC/VAH/VAL, final CVD, session VWAP with bands and a
determinism checksum of all bars. Files are read in the order given (gzip detected automatically).

Options:
  --config PATH       configuration file (default ./tapeflow.config.yaml when present): instruments and
                      analytics options; command-line options override it
  --instrument X      instrument for every event of the files (e.g. BTCUSDT, NAS100, EURUSD)
  --timeframe TF      bar size: 1s…1D, 500T (ticks) or 100V (volume); default 1m
  --align utc|session align intraday time bars to UTC (default) or to the session open
  --format NAME       force the file format (default: detected from content):
                      ${FORMAT_NAMES.join(', ')}
  --broker-offset MIN MT5 tick exports: broker server time offset from UTC in minutes
  --cvd-reset R       session (default) or never
  --strict            stop at the first malformed line instead of counting and skipping it
  --json              print one JSON object instead of the table
  --help              this text
`;

export interface ReplayResult {
  files: ReplayStats[];
  instruments: PipelineReport[];
  /** order-book statistics per instrument: updates, gaps, crossed states, resyncs */
  books: BookReport[];
  badLines: number;
  checksum: string;
}

export async function runReplay(files: string[], o: { config?: TapeFlowConfig; instrument?: string; timeframe?: string; align?: 'utc' | 'session'; format?: FormatName; strict?: boolean; brokerUtcOffsetMinutes?: number; cvdReset?: 'session' | 'never'; progress?: boolean; onError?: (e: ReplayLineError) => void }): Promise<ReplayResult> {
  const registry = o.config ? buildRegistry(o.config) : new InstrumentRegistry();
  if (o.instrument) registry.get(o.instrument); // fail early on an unknown instrument
  const base: Partial<ReturnType<typeof pipelineOptions>> = o.config ? pipelineOptions(o.config.analytics) : {};
  const engine = new Engine(registry, { ...base, timeframe: o.timeframe ?? base.timeframe ?? '1m', align: o.align ?? 'utc', cvdReset: o.cvdReset ?? base.cvdReset ?? 'session' });
  const books = new BookManager({ registry, emit: engine.onEvent });
  engine.observe(books.onEvent);
  const stats: ReplayStats[] = [];
  for (const f of files) {
    const bar = o.progress ? new ProgressBar(basename(f)) : null;
    stats.push(await replayFile(f, engine.onEvent, {
      registry, instrument: o.instrument, format: o.format, strict: o.strict, brokerUtcOffsetMinutes: o.brokerUtcOffsetMinutes,
      onError: o.onError, onProgress: bar ? (d, t) => bar.update(d, t) : undefined,
    }));
    bar?.done();
  }
  engine.finish();
  const instruments = [...engine.pipelines.values()].map(pipelineReport).sort((a, b) => a.instrument.localeCompare(b.instrument));
  return { files: stats, instruments, books: books.reports(), badLines: stats.reduce((s, x) => s + x.badLines, 0), checksum: engine.checksum() };
}

function table(r: ReplayResult): string {
  const out: string[] = [];
  for (const f of r.files) out.push(`${f.file}: ${f.format}, ${f.lines} lines, ${f.events} events (${f.trades} trades, ${f.quotes} quotes, ${f.bookEvents} book), ${f.badLines} bad lines`);
  for (const i of r.instruments) {
    out.push('', `${i.instrument}  [${i.flow}]  ${i.timeframe} bars: ${i.bars}   ${i.firstTs ?? '-'} → ${i.lastTs ?? '-'}`);
    out.push(`  trades ${i.trades}  volume ${i.volume}  buy ${i.buyVolume}  sell ${i.sellVolume}  unknown ${i.unknownVolume}  delta ${i.delta}`);
    out.push(`  side classified by: ${Object.entries(i.sideSources).map(([k, v]) => `${k} ${v}%`).join(', ') || '-'}   trade-id gaps: ${i.tradeIdGaps}`);
    if (i.sessionProfile) out.push(`  session ${i.sessionProfile.session} profile: POC ${i.sessionProfile.poc}  VAH ${i.sessionProfile.vah}  VAL ${i.sessionProfile.val}  volume ${i.sessionProfile.volume}`);
    out.push(`  CVD ${i.cvd}`);
    if (i.vwap) out.push(`  VWAP ${i.vwap.vwap}  σ ${i.vwap.stdev}  bands +1/2/3σ ${i.vwap.upper.join(' / ')}  −1/2/3σ ${i.vwap.lower.join(' / ')}`);
    out.push(`  checksum ${i.checksum}`);
  }
  for (const b of r.books) {
    const s = b.stats as unknown as Record<string, number>;
    const fig = b.kind === 'L2'
      ? `snapshots ${s.snapshots}  updates ${s.updatesApplied}  level updates ${s.levelUpdates}  gaps ${s.gaps}  resyncs ${s.resyncs}  crossed ${s.crossed}  stale dropped ${s.staleDropped}  duplicates ${s.duplicates}`
      : `events ${s.events}  adds ${s.adds}  cancels ${s.cancels}  modifies ${s.modifies}  clears ${s.clears}  trades ${s.trades}  dangling ${s.dangling}  crossed states ${s.crossedStates}`;
    out.push('', `${b.instrument} book [${b.kind}${b.synced ? ', synced' : ', NOT synced'}]  ${b.bidLevels} bid / ${b.askLevels} ask levels  best ${b.bestBid ?? '-'} / ${b.bestAsk ?? '-'} (ticks)`, `  ${fig}`);
  }
  out.push('', `checksum (all instruments): ${r.checksum}`);
  return out.join('\n') + '\n';
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay recorded files through the engine and print bars, profile, CVD, VWAP, checksum',
  usage: USAGE,
  async run(args) {
    const a = parseArgs(args, { values: ['config', 'instrument', 'timeframe', 'align', 'format', 'broker-offset', 'cvd-reset'], booleans: ['json', 'strict'] });
    if (a.positional.length === 0) throw new UsageError('no files given');
    const fmt = a.flags.get('format') as string | undefined;
    if (fmt && !FORMAT_NAMES.includes(fmt as FormatName)) throw new UsageError(`unknown format "${fmt}"`);
    const align = (a.flags.get('align') as string | undefined) ?? 'utc';
    if (align !== 'utc' && align !== 'session') throw new UsageError('--align must be utc or session');
    const reset = a.flags.get('cvd-reset') as string | undefined;
    if (reset !== undefined && reset !== 'session' && reset !== 'never') throw new UsageError('--cvd-reset must be session or never');
    const off = a.flags.get('broker-offset');
    const json = a.flags.has('json');
    const config = await loadConfig(a.flags.get('config') as string | undefined);
    const r = await runReplay(a.positional, {
      config,
      instrument: a.flags.get('instrument') as string | undefined,
      timeframe: a.flags.get('timeframe') as string | undefined,
      align, format: fmt as FormatName | undefined, strict: a.flags.has('strict'), cvdReset: reset as 'session' | 'never' | undefined,
      brokerUtcOffsetMinutes: off === undefined ? undefined : Number(off),
      progress: true,
      onError: (e) => process.stderr.write(`warning: ${e.message}\n`),
    });
    process.stdout.write(json ? JSON.stringify(r, null, 2) + '\n' : table(r));
    return 0;
  },
};

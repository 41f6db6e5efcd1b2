/** `tapeflow backtest <files...>`: replay files through the engine + signal layer and evaluate every signal. */
import { writeFileSync } from 'node:fs';
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { InstrumentRegistry } from '../../core/instruments.js';
import { Engine } from '../../analytics/engine.js';
import { replayFile } from '../../replay/index.js';
import type { FormatName, ReplayStats } from '../../replay/types.js';
import { REPLAY_FORMATS } from '../../replay/index.js';
import { BookManager } from '../../book/manager.js';
import { SignalEngine, type SignalEngineOptions } from '../../signals/engine.js';
import { SeedPresetRunner } from '../../signals/seed-runner.js';
import type { PcrBias } from '../../signals/pcr.js';
import type { FeedContext } from '../../replay/context.js';
import { kiteState } from '../../venues/kite/parse.js';
import { kitePcrFor } from '../../venues/kite/pcr-state.js';
import { DEFAULT_EVAL, evaluate, groupStats, multipleTestingNote, newPricePath, type EntryLike, type EvalOptions, type GroupStats, type Interval, type Outcome, type PricePath } from '../../signals/evaluate.js';
import { basename } from 'node:path';
import { ProgressBar } from '../progress.js';
import { buildRegistry, loadConfig, pipelineOptions, type TapeFlowConfig } from '../../config/index.js';
import type { Position } from '../../signals/state.js';
import type { SignalEvent } from '../../signals/types.js';

const USAGE = `Usage: tapeflow backtest <files...> [options]

Replays recorded market data through the same pipeline as live, runs the signal detectors, framing,
state machine and rule mode, and evaluates every event (docs/evaluation.md explains each figure):
entry at the first trade strictly after the decision; R = mean bar range; +2R target, −1R stop and a
time barrier, exits filled at the breaching trade's price. Per detector and signal type: n, independent
windows, hit rate and E[R] (gross and net of costs) with block-bootstrap 95 % CIs, timeouts by cause,
and a matched baseline (many random same-side entries near each event, same R and exits) with the
p-value of the difference. Seeded: the same files and options give the same report.

Options:
  --config PATH       configuration file (default ./tapeflow.config.yaml when present): instruments,
                      analytics options, and paper.feeBps / paper.slippageBps as the default costs
  --instrument X      instrument for every event of the files
  --timeframe TF      bar size (default 1m)
  --format NAME       force the file format (${REPLAY_FORMATS.join(', ')})
  --thresholds M      registry (default) or auto
  --horizon MIN       time barrier in minutes (default 30)
  --atr-bars N        bars in the R (mean range) estimate (default 14)
  --fee-bps N         fee per side in bps of price (default: the paper trader's, 4)
  --slippage-bps N    slippage per side in bps (default: the paper trader's, 1)
  --draws N           matched baseline draws per event (default 50)
  --resamples N       bootstrap and Monte Carlo resamples (default 2000)
  --min-sample N      groups under N events are marked "insufficient sample" (default 30)
  --seed N            PRNG seed of the baseline and the bootstrap (default 42)
  --no-book           do not build order books (sweeps lose thin-book confirmation, no icebergs)
  --journal FILE      write the trades and evaluated outcomes (with their baseline draws) as JSON lines
  --json              print the report as JSON (everything the table shows, and more)
`;

export interface BacktestOptions {
  config?: TapeFlowConfig;
  instrument?: string;
  timeframe?: string;
  format?: FormatName;
  books?: boolean;
  progress?: boolean;
  signals?: Partial<SignalEngineOptions>;
  eval?: Partial<EvalOptions>;
}

export interface BacktestReport {
  files: { file: string; format: string; events: number; trades: number; badLines: number }[];
  instruments: { instrument: string; trades: number; bars: number; signals: Record<string, number>; positions: number; finalStatus: string; thresholdSource: string; book: string }[];
  detectors: GroupStats[];
  signalTypes: GroupStats[];
  positions: { count: number; wins: number; winRate: number; expectancyR: number };
  evaluation: EvalOptions & { rule: string };
  notes: string[];
}

export interface BacktestResult { report: BacktestReport; positions: Position[]; outcomes: Outcome[]; signals: SignalEvent[]; seedPreset?: SeedPresetRunner['evaluated'] }

export async function runBacktest(files: string[], o: BacktestOptions = {}): Promise<BacktestResult> {
  const registry = o.config ? buildRegistry(o.config) : new InstrumentRegistry();
  const base: Partial<ReturnType<typeof pipelineOptions>> = o.config ? pipelineOptions(o.config.analytics) : {};
  const engine = new Engine(registry, { ...base, timeframe: o.timeframe ?? base.timeframe ?? '1m' });
  const sig = new SignalEngine(o.signals ?? {});
  const paths = new Map<string, PricePath>();
  engine.onPipeline((p) => {
    const path = newPricePath();
    paths.set(p.instrument.id, path);
    p.onTrade((t) => { path.ts.push(t.ts); path.price.push(t.price); });
    p.onBarClose(({ bar }) => { path.barEnd.push(bar.end); path.barRange.push(bar.high - bar.low); });
  });
  const withBooks = o.books !== false;
  if (withBooks) {
    const books = new BookManager({ registry, emit: engine.onEvent });
    engine.observe(books.onEvent);
    sig.attach(engine, { books });
  } else sig.attach(engine);
  const entries = new Map<string, EntryLike[]>();
  const push = (inst: string, e: EntryLike): void => { let a = entries.get(inst); if (!a) entries.set(inst, (a = [])); a.push(e); };
  const ctx = (inst: string): { thresholdSource: string; book: 'synced' | 'unsynced' | 'none' } => {
    const s = sig.instruments.get(inst);
    return { thresholdSource: s?.thresholds.source ?? 'unknown', book: !s?.book ? 'none' : s.book.synced ? 'synced' : 'unsynced' };
  };
  const signals: SignalEvent[] = [];
  sig.onSignal((e) => { signals.push(e); push(e.instrument, { group: `${e.kind}:${e.variant}`, side: e.side, at: e.confirmedAt, id: e.id, ...ctx(e.instrument) }); });
  sig.onTransition((t) => { if (t.to === 'POSITION_OPEN' && t.position) push(t.instrument, { group: `setup:${t.position.side === 'buy' ? 'long' : 'short'}`, side: t.position.side, at: t.ts, ...ctx(t.instrument) }); });
  // the seed's ACCUMULATION/DISTRIBUTION/BUY/SELL preset (signals/seed-runner.ts), evaluated like every detector
  // BUY/SELL need a PCR: a Kite recording made with kite.pcr carries its chain, the replay's parser computes it
  const contexts: FeedContext[] = [];
  const pcrBias = (id: string): PcrBias | null => { const c = contexts.at(-1); return c ? kitePcrFor(kiteState(c), id)?.bias ?? null : null; }; // the file being replayed
  const seed = new SeedPresetRunner(sig, o.config ? o.config.ruleMode.seed : {}, pcrBias);
  seed.attach(engine);
  seed.onSignal((x) => push(x.symbol, { group: `seed:${x.call}`, side: x.side!, at: x.ts, ...ctx(x.symbol) }));
  const lastRule = new Map<string, string>();
  sig.onRule((r) => {
    const prev = lastRule.get(r.symbol);
    lastRule.set(r.symbol, r.signal);
    if (r.signal !== 'WAIT' && r.signal !== prev) push(r.symbol, { group: `rule:${r.signal}`, side: r.signal === 'LONG' ? 'buy' : 'sell', at: Date.parse(r.timestamp), ...ctx(r.symbol) });
  });
  const stats: ReplayStats[] = [];
  for (const f of files) {
    const bar = o.progress ? new ProgressBar(basename(f)) : null;
    try {
      stats.push(await replayFile(f, engine.onEvent, { registry, instrument: o.instrument, format: o.format, onContext: (c) => contexts.push(c), onProgress: bar ? (d, t) => bar.update(d, t) : undefined }));
    } finally { bar?.done(); }
  }
  engine.finish();
  const ev: EvalOptions = { ...DEFAULT_EVAL, ...(o.config ? { feeBps: o.config.paper.feeBps, slippageBps: o.config.paper.slippageBps } : {}), ...o.eval };
  if (o.eval?.horizonMs !== undefined && o.eval.blockMs === undefined) ev.blockMs = o.eval.horizonMs;
  const outcomes: Outcome[] = [];
  const skipped = new Map<string, number>();
  for (const [id, path] of [...paths].sort((a, b) => a[0].localeCompare(b[0]))) {
    const a = evaluate(path, entries.get(id) ?? [], ev);
    outcomes.push(...a.outcomes);
    for (const [g, n] of Object.entries(a.skipped)) skipped.set(g, (skipped.get(g) ?? 0) + n);
  }
  const keys = [...new Set([...outcomes.map((x) => x.group), ...skipped.keys()])].sort();
  const groups = keys.map((k) => groupStats(k, outcomes.filter((x) => x.group === k), skipped.get(k) ?? 0, ev));
  const isType = (g: GroupStats): boolean => g.group.startsWith('setup') || g.group.startsWith('rule') || g.group.startsWith('seed');
  const positions: Position[] = [];
  const instruments: BacktestReport['instruments'] = [];
  for (const [id, s] of [...sig.instruments].sort((a, b) => a[0].localeCompare(b[0]))) {
    const p = s.pipeline;
    if (s.machine.position) s.machine.closeAt(p.lastTs, s.machine.lastPrice);
    positions.push(...s.machine.closed);
    const counts: Record<string, number> = {};
    for (const e of signals) if (e.instrument === id) counts[`${e.kind}:${e.variant}`] = (counts[`${e.kind}:${e.variant}`] ?? 0) + 1;
    const c = ctx(id);
    instruments.push({ instrument: id, trades: p.counters.trades, bars: paths.get(id)?.barEnd.length ?? 0, signals: counts, positions: s.machine.closed.length, finalStatus: s.status().label, thresholdSource: c.thresholdSource, book: withBooks ? c.book : 'off (--no-book)' });
  }
  const wins = positions.filter((p) => (p.r ?? 0) > 0).length;
  const notes = [multipleTestingNote(groups)];
  if (instruments.every((i) => i.book !== 'synced')) notes.push('No instrument had a synced order book: book detectors (sweep thin-book confirmation, iceberg) could not fire.');
  const report: BacktestReport = {
    files: stats.map((s) => ({ file: s.file, format: s.format, events: s.events, trades: s.trades, badLines: s.badLines })),
    instruments,
    detectors: groups.filter((g) => !isType(g)),
    signalTypes: groups.filter(isType),
    positions: { count: positions.length, wins, winRate: positions.length ? Math.round((wins / positions.length) * 100) / 100 : 0, expectancyR: positions.length ? Math.round((positions.reduce((s, p) => s + (p.r ?? 0), 0) / positions.length) * 100) / 100 : 0 },
    evaluation: { ...ev, rule: 'entry = first trade strictly after the decision; R = mean bar range; +2R target, −1R stop at the breaching trade, time barrier; costs 2 × (fee + slippage) bps of entry' },
    notes,
  };
  return { report, positions, outcomes, signals, seedPreset: seed.evaluated };
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const ci = (i: Interval): string => (Number.isFinite(i.value) ? `${i.value} [${i.lo}, ${i.hi}]` : '–');

export function backtestTable(r: BacktestReport): string {
  const out: string[] = [];
  for (const f of r.files) out.push(`${f.file}: ${f.format}, ${f.events} events, ${f.trades} trades, ${f.badLines} bad lines`);
  for (const i of r.instruments) out.push(`${i.instrument}: ${i.trades} trades, ${i.bars} bars, thresholds ${i.thresholdSource}, book ${i.book}, signals ${Object.entries(i.signals).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}, positions ${i.positions}, status ${i.finalStatus}`);
  const head = `${'group'.padEnd(24)}${pad('n', 5)}${pad('win', 5)}${pad('skip', 5)}  ${'hit1R [95% CI]'.padEnd(20)}${'E[R] gross [95% CI]'.padEnd(24)}${'E[R] net [95% CI]'.padEnd(24)}${pad('cost', 6)}${pad('tp', 5)}${pad('sl', 5)}${pad('to:bar', 7)}${pad('to:eod', 7)}   baseline: ${pad('mean', 6)}${pad('sd', 6)}${pad('diff', 7)}${pad('p', 7)}`;
  const rows = (gs: GroupStats[]): void => {
    out.push(head);
    for (const g of gs) {
      const b = g.baseline;
      out.push(`${g.group.padEnd(24)}${pad(g.count, 5)}${pad(g.windows, 5)}${pad(g.skipped, 5)}  ${ci(g.hitRate1R).padEnd(20)}${ci(g.expectancyR).padEnd(24)}${ci(g.expectancyNetR).padEnd(24)}${pad(g.meanCostR, 6)}${pad(g.tp, 5)}${pad(g.sl, 5)}${pad(g.timeoutBarrier, 7)}${pad(g.timeoutEndOfData, 7)}             ${b ? `${pad(b.mean, 6)}${pad(b.sd, 6)}${pad(b.diff, 7)}${pad(b.p, 7)}` : 'none'}${g.count === 0 ? '   no event entered' : g.insufficient ? `   insufficient sample (n < ${r.evaluation.minSample})` : ''}`);
    }
  };
  out.push('', 'Per detector');
  rows(r.detectors);
  out.push('', 'Per signal type (state-machine setups, rule mode)');
  rows(r.signalTypes);
  out.push('', `State-machine positions: ${r.positions.count}, wins ${r.positions.wins}, win rate ${r.positions.winRate}, expectancy ${r.positions.expectancyR} R`);
  const e = r.evaluation;
  out.push(`Evaluation: ${e.rule}; horizon ${e.horizonMs / 60_000} min, R over ${e.atrBars} bars; costs ${e.feeBps} + ${e.slippageBps} bps per side; windows of ${e.blockMs / 60_000} min; ${e.resamples} resamples; baseline ${e.baselineDraws} draws per event within ±${e.baselineWindowMs / 60_000} min; seed ${e.seed}`);
  out.push('Columns: win = independent windows; to:bar / to:eod = timeouts at the time barrier / at the end of the data; cost = mean round-trip cost in R; diff = E[R] gross − baseline mean; p = two-sided Monte Carlo p-value of diff.');
  for (const n of r.notes) out.push(n);
  return out.join('\n') + '\n';
}

export const backtestCommand: Command = {
  name: 'backtest',
  summary: 'replay files through the signal layer and evaluate every detector against a matched random baseline, with CIs and costs',
  usage: USAGE,
  async run(args) {
    const a = parseArgs(args, { values: ['config', 'instrument', 'timeframe', 'format', 'thresholds', 'horizon', 'atr-bars', 'seed', 'journal', 'fee-bps', 'slippage-bps', 'draws', 'resamples', 'min-sample'], booleans: ['json', 'no-book'] });
    if (a.positional.length === 0) throw new UsageError('no files given');
    const fmt = a.flags.get('format') as string | undefined;
    if (fmt && !REPLAY_FORMATS.includes(fmt)) throw new UsageError(`unknown format "${fmt}"`);
    const th = (a.flags.get('thresholds') as string | undefined) ?? 'registry';
    if (th !== 'registry' && th !== 'auto') throw new UsageError('--thresholds must be registry or auto');
    const num = (k: string): number | undefined => { const v = a.flags.get(k); if (v === undefined) return undefined; const n = Number(v); if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${k} needs a non-negative number`); return n; };
    const config = await loadConfig(a.flags.get('config') as string | undefined);
    const ev: Partial<EvalOptions> = {};
    const set = <K extends keyof EvalOptions>(k: K, v: number | undefined): void => { if (v !== undefined) (ev as Record<string, number>)[k] = v; };
    set('horizonMs', num('horizon') !== undefined ? num('horizon')! * 60_000 : undefined);
    set('atrBars', num('atr-bars')); set('seed', num('seed')); set('feeBps', num('fee-bps')); set('slippageBps', num('slippage-bps'));
    set('baselineDraws', num('draws')); set('resamples', num('resamples')); set('minSample', num('min-sample'));
    const res = await runBacktest(a.positional, {
      config, instrument: a.flags.get('instrument') as string | undefined, timeframe: a.flags.get('timeframe') as string | undefined, format: fmt as FormatName | undefined,
      books: !a.flags.has('no-book'), signals: { thresholds: { mode: th } }, eval: ev, progress: true,
    });
    const journal = a.flags.get('journal');
    if (typeof journal === 'string') {
      const lines = [...res.positions.map((p) => JSON.stringify({ type: 'trade', ...p })), ...res.outcomes.map((x) => JSON.stringify({ type: 'outcome', ...x }))];
      writeFileSync(journal, lines.join('\n') + (lines.length ? '\n' : ''));
    }
    process.stdout.write(a.flags.has('json') ? JSON.stringify({ ...res.report, outcomes: res.outcomes }, null, 2) + '\n' : backtestTable(res.report));
    return 0;
  },
};

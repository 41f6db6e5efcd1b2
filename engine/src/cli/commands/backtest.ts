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
import { evaluate, groupStats, newPricePath, type EntryLike, type EvalOptions, type GroupStats, type Outcome, type PricePath } from '../../signals/evaluate.js';
import type { Position } from '../../signals/state.js';
import type { SignalEvent } from '../../signals/types.js';

const USAGE = `Usage: tapeflow backtest <files...> [options]

Replays recorded market data through the same pipeline as live, runs the signal detectors, framing and
state machine, and evaluates every event at its confirmedAt (no look-ahead): per detector and per signal
type the count, hit rate at 1R and 2R, expectancy in R, MFE/MAE distributions and time to outcome, beside
a baseline of seeded-random entries near the same times with the same exits (+2R / −1R / time barrier).

Options:
  --instrument X      instrument for every event of the files
  --timeframe TF      bar size (default 1m)
  --format NAME       force the file format (${REPLAY_FORMATS.join(', ')})
  --thresholds M      registry (default) or auto
  --horizon MIN       time barrier in minutes (default 30)
  --atr-bars N        bars in the R (mean range) estimate (default 14)
  --seed N            baseline PRNG seed (default 42)
  --no-book           do not build order books (sweeps lose thin-book confirmation, no icebergs)
  --journal FILE      write the trades and evaluated outcomes as JSON lines
  --json              print the report as JSON
`;

export interface BacktestOptions {
  instrument?: string;
  timeframe?: string;
  format?: FormatName;
  books?: boolean;
  signals?: Partial<SignalEngineOptions>;
  eval?: Partial<EvalOptions>;
}

export interface BacktestReport {
  files: { file: string; format: string; events: number; trades: number; badLines: number }[];
  instruments: { instrument: string; trades: number; bars: number; signals: Record<string, number>; positions: number; finalStatus: string }[];
  detectors: GroupStats[];
  detectorBaseline: GroupStats[];
  signalTypes: GroupStats[];
  signalTypeBaseline: GroupStats[];
  positions: { count: number; wins: number; winRate: number; expectancyR: number };
  evaluation: { horizonMs: number; atrBars: number; seed: number; rule: string };
}

export interface BacktestResult { report: BacktestReport; positions: Position[]; outcomes: Outcome[]; signals: SignalEvent[] }

export async function runBacktest(files: string[], o: BacktestOptions = {}): Promise<BacktestResult> {
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: o.timeframe ?? '1m' });
  const sig = new SignalEngine(o.signals ?? {});
  const paths = new Map<string, PricePath>();
  engine.onPipeline((p) => {
    const path = newPricePath();
    paths.set(p.instrument.id, path);
    p.onTrade((t) => { path.ts.push(t.ts); path.price.push(t.price); });
    p.onBarClose(({ bar }) => { path.barEnd.push(bar.end); path.barRange.push(bar.high - bar.low); });
  });
  if (o.books !== false) {
    const books = new BookManager({ registry, emit: engine.onEvent });
    engine.observe(books.onEvent);
    sig.attach(engine, { books });
  } else sig.attach(engine);
  const entries = new Map<string, EntryLike[]>();
  const typeEntries = new Map<string, EntryLike[]>();
  const push = (m: Map<string, EntryLike[]>, inst: string, e: EntryLike): void => { let a = m.get(inst); if (!a) m.set(inst, (a = [])); a.push(e); };
  const signals: SignalEvent[] = [];
  sig.onSignal((e) => { signals.push(e); push(entries, e.instrument, { group: `${e.kind}:${e.variant}`, side: e.side, at: e.confirmedAt }); });
  sig.onTransition((t) => { if (t.to === 'POSITION_OPEN' && t.position) push(typeEntries, t.instrument, { group: `setup:${t.position.side === 'buy' ? 'long' : 'short'}`, side: t.position.side, at: t.ts }); });
  const lastRule = new Map<string, string>();
  sig.onRule((r) => {
    const prev = lastRule.get(r.symbol);
    lastRule.set(r.symbol, r.signal);
    if (r.signal !== 'WAIT' && r.signal !== prev) push(typeEntries, r.symbol, { group: `rule:${r.signal}`, side: r.signal === 'LONG' ? 'buy' : 'sell', at: Date.parse(r.timestamp) });
  });
  const stats: ReplayStats[] = [];
  for (const f of files) stats.push(await replayFile(f, engine.onEvent, { registry, instrument: o.instrument, format: o.format }));
  engine.finish();
  const ev = { ...o.eval };
  const det: Outcome[] = [], detB: Outcome[] = [], typ: Outcome[] = [], typB: Outcome[] = [];
  const skipped = new Map<string, number>();
  for (const [id, path] of [...paths].sort((a, b) => a[0].localeCompare(b[0]))) {
    const a = evaluate(path, entries.get(id) ?? [], ev);
    det.push(...a.outcomes); detB.push(...a.baselineOutcomes);
    for (const g of a.groups) skipped.set(g.group, (skipped.get(g.group) ?? 0) + g.skipped);
    const b = evaluate(path, typeEntries.get(id) ?? [], ev);
    typ.push(...b.outcomes); typB.push(...b.baselineOutcomes);
    for (const g of b.groups) skipped.set(g.group, (skipped.get(g.group) ?? 0) + g.skipped);
  }
  const grouped = (outs: Outcome[], withSkipped: boolean): GroupStats[] => {
    const keys = [...new Set([...outs.map((x) => x.group), ...(withSkipped ? [...skipped.keys()] : [])])].sort();
    return keys.map((k) => groupStats(k, outs.filter((x) => x.group === k), withSkipped ? skipped.get(k) ?? 0 : 0));
  };
  const positions: Position[] = [];
  const instruments: BacktestReport['instruments'] = [];
  for (const [id, s] of [...sig.instruments].sort((a, b) => a[0].localeCompare(b[0]))) {
    const p = s.pipeline;
    if (s.machine.position) s.machine.closeAt(p.lastTs, s.machine.lastPrice);
    positions.push(...s.machine.closed);
    const counts: Record<string, number> = {};
    for (const e of signals) if (e.instrument === id) counts[`${e.kind}:${e.variant}`] = (counts[`${e.kind}:${e.variant}`] ?? 0) + 1;
    instruments.push({ instrument: id, trades: p.counters.trades, bars: paths.get(id)?.barEnd.length ?? 0, signals: counts, positions: s.machine.closed.length, finalStatus: s.status().label });
  }
  const wins = positions.filter((p) => (p.r ?? 0) > 0).length;
  const opts = { horizonMs: 30 * 60_000, atrBars: 14, seed: 42, ...ev };
  const report: BacktestReport = {
    files: stats.map((s) => ({ file: s.file, format: s.format, events: s.events, trades: s.trades, badLines: s.badLines })),
    instruments,
    detectors: grouped(det, true).filter((g) => !g.group.startsWith('setup') && !g.group.startsWith('rule')),
    detectorBaseline: grouped(detB, false),
    signalTypes: grouped(typ, true).filter((g) => g.group.startsWith('setup') || g.group.startsWith('rule')),
    signalTypeBaseline: grouped(typB, false),
    positions: { count: positions.length, wins, winRate: positions.length ? Math.round((wins / positions.length) * 100) / 100 : 0, expectancyR: positions.length ? Math.round((positions.reduce((s, p) => s + (p.r ?? 0), 0) / positions.length) * 100) / 100 : 0 },
    evaluation: { horizonMs: opts.horizonMs, atrBars: opts.atrBars, seed: opts.seed, rule: 'entry = first trade at/after confirmedAt; R = mean bar range; +2R target, −1R stop, time barrier' },
  };
  return { report, positions, outcomes: [...det, ...typ], signals };
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);

export function backtestTable(r: BacktestReport): string {
  const out: string[] = [];
  for (const f of r.files) out.push(`${f.file}: ${f.format}, ${f.events} events, ${f.trades} trades, ${f.badLines} bad lines`);
  for (const i of r.instruments) out.push(`${i.instrument}: ${i.trades} trades, ${i.bars} bars, signals ${Object.entries(i.signals).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}, positions ${i.positions}, status ${i.finalStatus}`);
  const head = `${'group'.padEnd(26)}${pad('n', 6)}${pad('hit1R', 7)}${pad('hit2R', 7)}${pad('E[R]', 7)}${pad('MFE50', 7)}${pad('MAE50', 7)}${pad('t50 s', 8)}   baseline: ${pad('n', 5)}${pad('hit1R', 7)}${pad('E[R]', 7)}`;
  const rows = (gs: GroupStats[], bs: GroupStats[]): void => {
    out.push(head);
    for (const g of gs) {
      const b = bs.find((x) => x.group === g.group);
      out.push(`${g.group.padEnd(26)}${pad(g.count, 6)}${pad(g.hitRate1R, 7)}${pad(g.hitRate2R, 7)}${pad(g.expectancyR, 7)}${pad(g.mfeR.p50, 7)}${pad(g.maeR.p50, 7)}${pad(Math.round(g.timeToOutcomeMs.p50 / 1000), 8)}             ${pad(b?.count ?? 0, 5)}${pad(b?.hitRate1R ?? 0, 7)}${pad(b?.expectancyR ?? 0, 7)}`);
    }
  };
  out.push('', 'Per detector');
  rows(r.detectors, r.detectorBaseline);
  out.push('', 'Per signal type');
  rows(r.signalTypes, r.signalTypeBaseline);
  out.push('', `State-machine positions: ${r.positions.count}, wins ${r.positions.wins}, win rate ${r.positions.winRate}, expectancy ${r.positions.expectancyR} R`);
  out.push(`Evaluation: ${r.evaluation.rule}; horizon ${r.evaluation.horizonMs / 60_000} min, R over ${r.evaluation.atrBars} bars, baseline seed ${r.evaluation.seed}`);
  return out.join('\n') + '\n';
}

export const backtestCommand: Command = {
  name: 'backtest',
  summary: 'replay files through the signal layer and evaluate every detector against a random baseline',
  usage: USAGE,
  async run(args) {
    const a = parseArgs(args, { values: ['instrument', 'timeframe', 'format', 'thresholds', 'horizon', 'atr-bars', 'seed', 'journal'], booleans: ['json', 'no-book'] });
    if (a.positional.length === 0) throw new UsageError('no files given');
    const fmt = a.flags.get('format') as string | undefined;
    if (fmt && !REPLAY_FORMATS.includes(fmt)) throw new UsageError(`unknown format "${fmt}"`);
    const th = (a.flags.get('thresholds') as string | undefined) ?? 'registry';
    if (th !== 'registry' && th !== 'auto') throw new UsageError('--thresholds must be registry or auto');
    const num = (k: string, d: number): number => { const v = a.flags.get(k); const n = v === undefined ? d : Number(v); if (!Number.isFinite(n)) throw new UsageError(`--${k} needs a number`); return n; };
    const res = await runBacktest(a.positional, {
      instrument: a.flags.get('instrument') as string | undefined, timeframe: a.flags.get('timeframe') as string | undefined, format: fmt as FormatName | undefined,
      books: !a.flags.has('no-book'), signals: { thresholds: { mode: th } },
      eval: { horizonMs: num('horizon', 30) * 60_000, atrBars: num('atr-bars', 14), seed: num('seed', 42) },
    });
    const journal = a.flags.get('journal');
    if (typeof journal === 'string') {
      const lines = [...res.positions.map((p) => JSON.stringify({ type: 'trade', ...p })), ...res.outcomes.map((x) => JSON.stringify({ type: 'outcome', ...x }))];
      writeFileSync(journal, lines.join('\n') + (lines.length ? '\n' : ''));
    }
    process.stdout.write(a.flags.has('json') ? JSON.stringify(res.report, null, 2) + '\n' : backtestTable(res.report));
    return 0;
  },
};

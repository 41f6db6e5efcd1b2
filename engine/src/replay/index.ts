/**
 * Replay readers: stream recorded market-data files into the engine's normalized events.
 *
 * - Streaming in constant memory: gzip (by magic bytes), single-entry zip, UTF-8/UTF-16 (BOM) text, CRLF.
 * - The sink is called synchronously. Trade and Quote objects are REUSED flyweights: copy what you keep.
 *   Book snapshots/deltas and MBO events are fresh objects.
 * - Times are integer ms UTC. Prices/sizes are integer ticks/lots of the instrument, parsed exactly from
 *   the decimal strings with the instrument's DecimalScales.
 * - A malformed row becomes a ReplayLineError (file, 1-based line, reason): counted in badLines, passed to
 *   onError and skipped — or thrown with `strict`. Empty and header lines are not errors.
 * - Instruments: from the symbol in the data; else opts.instrument; else the file name (`usdm_btcusdt…` →
 *   BTCUSDT, `spot_btcusdt…` → BINANCE_SPOT:BTCUSDT, `cm_btcusd_perp…` → BINANCE_COINM:BTCUSD_PERP, any
 *   token the registry knows, e.g. `audusd` → AUDUSD). opts.instrument overrides symbols in the data.
 *   Unknown venue symbols are registered on the fly (see context.ts for the tick/lot inference).
 * - MT5: times are broker server time; pass brokerUtcOffsetMinutes (default 0) to convert to UTC.
 */
import { basename } from 'node:path';
import type { MarketEvent } from '../core/events.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import { FeedContext } from './context.js';
import { handlerFor, type LineHandler } from './csv.js';
import { detectFormat } from './detect.js';
import { forEachLine, openInput } from './input.js';
import { BadRow, ReplayLineError, type EventSink, type FormatName, type ReplayOptions, type ReplayStats } from './types.js';

export * from './types.js';
export { detectFormat } from './detect.js';
export { FeedContext, type FeedContextOptions } from './context.js';
export { parseBinanceFrame } from '../venues/binance/parse.js';
export { parseBybitFrame } from '../venues/bybit/parse.js';
export { parseCoinbaseFrame } from '../venues/coinbase/parse.js';
export { parseVenueFrame, venueFromUrl } from '../venues/registry.js';
import { VENUE_FORMATS, instrumentOfFileName } from '../venues/registry.js';
import { FORMAT_NAMES } from './types.js';

/** Every format name `--format` accepts: the built-in ones and the venue registry's. */
export const REPLAY_FORMATS: readonly string[] = [...new Set([...FORMAT_NAMES, ...VENUE_FORMATS])];
export { parseEpochMs, parseIsoMs, parseTimeMs } from './time.js';
export { openInput, forEachLine } from './input.js';

/** Instrument id implied by a file name, or undefined. Venue conventions (registry `fileHint`) are not checked against the registry. */
export function instrumentFromFileName(fileName: string, registry: InstrumentRegistry): string | undefined {
  const base = basename(fileName).toLowerCase().replace(/(\.(gz|zip|csv|txt|tsv|jsonl|ndjson|json|data))+$/g, '');
  const byVenue = instrumentOfFileName(base); // the venues' own naming conventions (usdm_…, spot_…, cm_…)
  if (byVenue) return byVenue;
  for (const tok of base.split(/[_\-. ]+/)) {
    if (tok.length < 3 || /^\d+$/.test(tok)) continue;
    const i = registry.find(tok);
    if (i) return i.id;
  }
  return undefined;
}

class SinkFailure {
  constructor(readonly cause: unknown) {}
}

const DETECT_LINES = 8;
/** most footprint/profile rows a replay lets one instrument's price span reach */
export const MAX_ROWS = 1_000_000;

/** A price span that would need more than MAX_ROWS rows: names the instrument and the config keys to set. */
export class RowSpanError extends Error {
  constructor(readonly instrument: string, registry: InstrumentRegistry) {
    const i = registry.find(instrument);
    super(`${instrument}: its prices span more than ${MAX_ROWS.toLocaleString('en-US')} rows of ${i?.footprintRow ?? i?.profileRow ?? '?'} (tick ${i?.tickSize ?? '?'}); ` +
      `set instruments[].tickSize, profileRow and footprintRow for id "${instrument}" in the config (tapeflow.config.yaml)`);
    this.name = 'RowSpanError';
  }
}

/** A file (or a forced --format) that produced no events: an error, never a silent empty result. */
export class NoEventsError extends Error {
  constructor(readonly file: string, readonly format: string, reason: string) {
    super(`${file}: read as ${format}, 0 events: ${reason}`);
    this.name = 'NoEventsError';
  }
}

/** Replay one file into `sink`. Resolves with the file's statistics. */
export async function replayFile(path: string, sink: (ev: MarketEvent) => void, opts: ReplayOptions): Promise<ReplayStats> {
  const input = await openInput(path);
  const names = input.entryName ? [input.entryName, path] : [path];
  let fallback: string | undefined;
  for (const n of names) if ((fallback = instrumentFromFileName(n, opts.registry))) break;
  const ctx = new FeedContext(opts.registry, { instrument: opts.instrument, fallbackInstrument: fallback, includeNonMarket: opts.includeNonMarket });
  opts.onContext?.(ctx);

  const offGridBefore = new Map<string, number>();
  for (const i of opts.registry.all()) offGridBefore.set(i.id, i.price.offGrid + i.qty.offGrid);

  const stats: ReplayStats = { file: path, format: opts.format ?? ('generic-csv' as FormatName), lines: 0, events: 0, trades: 0, quotes: 0, bookEvents: 0, badLines: 0, instruments: [], offGrid: 0, nonMarket: {}, nonMarketIncluded: opts.includeNonMarket === true, registered: [], outOfOrder: 0 };
  const seen = new Set<string>();
  let lastInst = '';
  const span = new Map<string, { lo: number; hi: number; row: number; maxTs: number }>();
  const wrapped: EventSink = (ev) => {
    stats.events++;
    const t = ev.type;
    if (t === 'trade') {
      stats.trades++;
      // bounded rows: a price span too wide for the instrument's row size is a config error, said clearly
      let s = span.get(ev.instrument);
      if (!s) span.set(ev.instrument, (s = { lo: ev.price, hi: ev.price, row: opts.registry.find(ev.instrument)?.footprintRowTicks ?? 1, maxTs: ev.ts }));
      // a trade more than a second older than one already read: the file is not in time order
      if (ev.ts > s.maxTs) s.maxTs = ev.ts; else if (ev.ts < s.maxTs - 1000) stats.outOfOrder++;
      if (ev.price < s.lo || ev.price > s.hi) {
        if (ev.price < s.lo) s.lo = ev.price; else s.hi = ev.price;
        if ((s.hi - s.lo) / s.row > MAX_ROWS) throw new SinkFailure(new RowSpanError(ev.instrument, opts.registry));
      }
    }
    else if (t === 'quote') stats.quotes++;
    else if (t !== 'gap') stats.bookEvents++;
    if (ev.instrument !== lastInst) {
      lastInst = ev.instrument;
      if (!seen.has(lastInst)) { seen.add(lastInst); stats.instruments.push(lastInst); }
    }
    try {
      sink(ev);
    } catch (e) {
      throw new SinkFailure(e);
    }
  };

  const fail = (lineNo: number, e: unknown): void => {
    if (e instanceof SinkFailure) throw e.cause;
    const reason = e instanceof BadRow ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const err = new ReplayLineError(path, lineNo, reason);
    stats.badLines++;
    if (opts.strict) throw err;
    opts.onError?.(err);
  };

  let handler: LineHandler | undefined;
  const env = { ctx, sink: wrapped, opts, file: input.entryName ?? path };
  const start = (format: FormatName): void => {
    stats.format = format;
    handler = handlerFor(format, env);
  };
  if (opts.format) start(opts.format);

  const process = (line: string, lineNo: number): void => {
    if (line.length === 0) return;
    const c0 = line.charCodeAt(0);
    if ((c0 === 32 || c0 === 9 || c0 === 0xfeff) && line.trim().replace(/^\uFEFF/, '') === '') return;
    try {
      handler!.line(c0 === 0xfeff ? line.slice(1) : line, lineNo);
    } catch (e) {
      fail(lineNo, e);
    }
  };

  const pending: Array<[string, number]> = [];
  let nonEmpty = 0;
  const flushPending = (): void => {
    if (!handler) start(detectFormat(pending.map((p) => p[0]), names[0]!));
    for (const [l, n] of pending) process(l, n);
    pending.length = 0;
  };
  let sampleKeys = '';
  const onLine = (line: string, lineNo: number): void => {
    stats.lines = lineNo;
    if (!sampleKeys && stats.events === 0 && lineNo <= 50) sampleKeys = jsonKeys(line);
    if (handler) { process(line, lineNo); return; }
    pending.push([line, lineNo]);
    if (line.trim() !== '' && ++nonEmpty >= DETECT_LINES) flushPending();
  };
  const onChunk = opts.onProgress ? (): void => opts.onProgress!(input.bytesRead(), input.totalBytes) : undefined;

  try {
    await forEachLine(input.stream, onLine, onChunk);
    if (!handler) {
      if (pending.every((p) => p[0].trim() === '')) throw new Error(`${path}: empty file`);
      flushPending();
    }
    if (handler!.end) {
      try { handler!.end(); } catch (e) { fail(stats.lines, e); }
    }
  } finally {
    input.stream.destroy();
  }

  for (const [k, n] of ctx.nonMarket) stats.nonMarket[k] = n;
  stats.registered = [...ctx.registered];
  if (stats.events === 0) {
    const nm = Object.values(stats.nonMarket).reduce((a, b) => a + b, 0);
    const reason = stats.badLines > 0 ? `all ${stats.badLines} data lines were malformed (first errors were printed as warnings)`
      : nm > 0 ? `only non-market prints (${nm}); --include-non-market includes them`
        : `none of its ${stats.lines} lines is a ${stats.format} market event${sampleKeys ? ` (first frame keys: ${sampleKeys})` : ''}; is it another venue or format? (--format forces one)`;
    throw new NoEventsError(path, stats.format, reason);
  }
  let off = 0;
  for (const id of stats.instruments) {
    const i = opts.registry.find(id);
    if (i) off += i.price.offGrid + i.qty.offGrid - (offGridBefore.get(id) ?? 0);
  }
  stats.offGrid = off;
  return stats;
}

/** Top-level keys of the first JSON object in a line (a capture line may start with a receive time). */
function jsonKeys(line: string): string {
  const at = line.indexOf('{');
  if (at < 0) return '';
  try {
    const o = JSON.parse(line.slice(at)) as unknown;
    if (!o || typeof o !== 'object' || Array.isArray(o)) return '';
    return Object.keys(o).slice(0, 6).join(', ');
  } catch { return ''; }
}

/** Replay files one after another, in the given order. */
export async function replayFiles(paths: string[], sink: (ev: MarketEvent) => void, opts: ReplayOptions): Promise<ReplayStats[]> {
  const out: ReplayStats[] = [];
  for (const p of paths) out.push(await replayFile(p, sink, opts));
  return out;
}

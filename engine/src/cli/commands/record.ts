/** `tapeflow record`: write a venue's raw frames as gzip NDJSON that `tapeflow replay` reads. */
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { InstrumentRegistry } from '../../core/instruments.js';
import { BookManager } from '../../book/manager.js';
import { createLogger } from '../../log.js';
import { FeedManager, isLiveVenue, LIVE_VENUES } from '../../feeds/manager.js';
import { FrameRecorder } from '../../feeds/recorder.js';
import type { LiveVenue } from '../../feeds/types.js';
import type { KiteConfig } from '../../venues/kite/config.js';
import { loadConfig } from '../../config/index.js';

const USAGE = `Usage: tapeflow record --venue VENUE --symbols A,B [options]

Connects to a venue's public market data and writes every frame the feed ingests as gzip NDJSON lines
{"recv": ms, "venue": ..., "frame": ...}, rotating files. Replay them with: tapeflow replay DIR/*.ndjson.gz
Books are synced while recording, so REST snapshots (initial and after gaps) are recorded too.

Options:
  --venue V           ${LIVE_VENUES.join(' | ')}
  --symbols LIST      comma-separated venue symbols (Binance USD-M also: @metals)
  --out DIR           output directory (default ./recordings)
  --prefix NAME       file name prefix (default <venue>)
  --rotate-mb N       rotate after N MiB of uncompressed NDJSON (default 256)
  --rotate-minutes N  rotate after N minutes (default 60)
  --duration S        stop after S seconds (default: until Ctrl-C)
  --ws-url URL        WebSocket base URL (default: the venue's public endpoint)
  --rest-url URL      REST base URL
  --trade-stream S    Binance: aggTrade (default) or trade
  --no-depth          trades only
  --config PATH       take this venue's feed settings from the config's feeds[] entry of the venue (kite: mode,
                      holidays, pcr chain — recorded so the replay has the same sessions and PCR)
  --help              this text
`;

export interface RecordOptions {
  venue: LiveVenue;
  symbols: string[];
  out: string;
  prefix?: string;
  rotateBytes?: number;
  rotateMs?: number;
  wsUrl?: string;
  restUrl?: string;
  tradeStream?: 'aggTrade' | 'trade';
  depth?: boolean;
  /** venue kite: streaming mode, holidays, PCR chain */
  kite?: KiteConfig;
  log?: (s: string) => void;
}

/** Start recording; `stop()` closes the feed and flushes the files. */
export async function startRecording(o: RecordOptions): Promise<{ recorder: FrameRecorder; feeds: FeedManager; stop(): Promise<string[]> }> {
  const registry = new InstrumentRegistry();
  const recorder = new FrameRecorder({ dir: o.out, prefix: o.prefix ?? o.venue, maxBytes: o.rotateBytes, maxMs: o.rotateMs });
  const log = createLogger({ write: o.log ?? ((l) => process.stderr.write(l)) });
  let feeds!: FeedManager;
  const books = new BookManager({ registry, emit: () => {}, onResync: (r) => feeds.onResync(r) });
  feeds = FeedManager.fromConfig([{ venue: o.venue, symbols: o.symbols, wsUrl: o.wsUrl, restUrl: o.restUrl, tradeStream: o.tradeStream, depth: o.depth, ...(o.kite ? { kite: o.kite } : {}) }], { registry, sink: books.onEvent, tap: recorder.tap, log });
  await feeds.start();
  return {
    recorder, feeds,
    async stop() {
      await feeds.stop();
      await recorder.close();
      return recorder.files;
    },
  };
}

export const recordCommand: Command = {
  name: 'record',
  summary: 'record a venue\'s raw WebSocket frames (gzip NDJSON, rotating) for tapeflow replay',
  usage: USAGE,
  async run(args) {
    const a = parseArgs(args, { values: ['venue', 'symbols', 'out', 'prefix', 'rotate-mb', 'rotate-minutes', 'duration', 'ws-url', 'rest-url', 'trade-stream', 'config'], booleans: ['no-depth'] });
    if (a.positional.length) throw new UsageError(`unexpected argument "${a.positional[0]}"`);
    const venue = a.flags.get('venue');
    if (typeof venue !== 'string' || !isLiveVenue(venue)) throw new UsageError(`--venue must be one of ${LIVE_VENUES.join(', ')}`);
    const symbols = String(a.flags.get('symbols') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (!symbols.length) throw new UsageError('--symbols needs at least one symbol');
    const num = (k: string): number | undefined => {
      const v = a.flags.get(k);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!(n > 0)) throw new UsageError(`--${k} must be a positive number`);
      return n;
    };
    const ts = a.flags.get('trade-stream');
    if (ts !== undefined && ts !== 'aggTrade' && ts !== 'trade') throw new UsageError('--trade-stream must be aggTrade or trade');
    // every flag is checked before the feed connects, so a usage error never leaves a connection open
    const duration = num('duration');
    const rotateMb = num('rotate-mb');
    const rotateMin = num('rotate-minutes');
    const cfgPath = a.flags.get('config');
    const entry = typeof cfgPath === 'string' ? (await loadConfig(cfgPath)).feeds.find((f) => f.venue === venue) : undefined;
    const rec = await startRecording({
      kite: entry?.kite,
      venue, symbols, out: String(a.flags.get('out') ?? './recordings'), prefix: a.flags.get('prefix') as string | undefined,
      rotateBytes: rotateMb !== undefined ? rotateMb * 1048576 : undefined,
      rotateMs: rotateMin !== undefined ? rotateMin * 60_000 : undefined,
      wsUrl: a.flags.get('ws-url') as string | undefined, restUrl: a.flags.get('rest-url') as string | undefined,
      tradeStream: ts as 'aggTrade' | 'trade' | undefined, depth: a.flags.has('no-depth') ? false : undefined,
    });
    process.stdout.write(`recording ${venue} ${symbols.join(',')} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const t = duration ? setTimeout(done, duration * 1000) : null;
      function done(): void { if (t) clearTimeout(t); process.off('SIGINT', done); process.off('SIGTERM', done); resolve(); }
      process.on('SIGINT', done);
      process.on('SIGTERM', done);
    });
    const files = await rec.stop();
    const c = rec.feeds.status()[0]!.counters;
    process.stdout.write(`recorded ${rec.recorder.lines} frames (${c.malformed} malformed, ${c.reconnects} reconnects, ${c.gaps} gaps) into:\n${files.map((f) => '  ' + f).join('\n')}\n`);
    return 0;
  },
};

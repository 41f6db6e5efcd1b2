/**
 * FeedManager: builds the live feeds from the config's `feeds` section, starts/stops them, routes the
 * book synchronizers' resync requests to the feed that owns the instrument, and reports status and
 * data completeness per instrument.
 */
import type { MarketEvent } from '../core/events.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import type { ResyncRequest } from '../book/sync.js';
import { silentLogger, type Logger } from '../log.js';
import type { BaseFeed } from './base.js';
import { createFeed, isLiveVenue, LIVE_VENUES } from '../venues/registry.js';
import type { FeedOptions, FeedStatus, FrameTap, InstrumentCompleteness, LiveVenue } from './types.js';

export { createFeed, isLiveVenue, LIVE_VENUES };

/** The shape of a config `feeds` entry (engine/src/config/types.ts FeedConfig) plus optional feed tuning. */
export interface FeedEntry extends Partial<Omit<FeedOptions, 'venue' | 'registry' | 'sink' | 'tap' | 'log'>> {
  venue: string;
  symbols: string[];
  enabled?: boolean;
}

export interface FeedManagerOptions {
  registry: InstrumentRegistry;
  /** normally engine.onEvent */
  sink: (ev: MarketEvent) => void;
  log?: Logger;
  tap?: FrameTap;
  /** applied to every feed (tests: fast backoff) */
  defaults?: Partial<FeedOptions>;
}

export class FeedManager {
  readonly feeds: BaseFeed[] = [];
  /** config entries that are not live exchange feeds (mt5, replay, simulator) or disabled */
  readonly skipped: { venue: string; reason: string }[] = [];

  constructor(private readonly o: FeedManagerOptions) {}

  static fromConfig(entries: FeedEntry[], o: FeedManagerOptions): FeedManager {
    const m = new FeedManager(o);
    for (const e of entries) {
      if (e.enabled === false) { m.skipped.push({ venue: e.venue, reason: 'disabled' }); continue; }
      if (!isLiveVenue(e.venue)) { m.skipped.push({ venue: e.venue, reason: 'not a live exchange feed' }); continue; }
      m.add({ ...e, venue: e.venue });
    }
    return m;
  }

  add(entry: Omit<FeedEntry, 'venue'> & { venue: LiveVenue }): BaseFeed {
    const { enabled: _enabled, ...rest } = entry;
    const feed = createFeed({
      ...(this.o.defaults ?? {}), ...rest,
      registry: this.o.registry, sink: this.o.sink, tap: this.o.tap, log: this.o.log ?? silentLogger,
      name: entry.name ?? (this.feeds.some((f) => f.venue === entry.venue) ? `${entry.venue}#${this.feeds.length}` : entry.venue),
    });
    this.feeds.push(feed);
    return feed;
  }

  /** Start every feed. Returns once each has prepared (exchangeInfo tried) and its connections are dialling. */
  async start(): Promise<void> {
    await Promise.all(this.feeds.map((f) => f.start().catch((e: Error) => (this.o.log ?? silentLogger).error(`${f.name}: failed to start: ${e.message}`))));
  }

  async stop(): Promise<void> {
    await Promise.all(this.feeds.map((f) => f.stop()));
  }

  /** Wire to BookManager's onResync. */
  onResync = (req: ResyncRequest): void => {
    for (const f of this.feeds) if (f.onResync(req)) return;
  };

  feedOf(instrument: string): BaseFeed | undefined {
    return this.feeds.find((f) => f.instruments().includes(instrument));
  }

  status(): FeedStatus[] { return this.feeds.map((f) => f.status()); }

  completeness(): InstrumentCompleteness[] {
    return this.feeds.flatMap((f) => f.status().completeness).sort((a, b) => a.instrument.localeCompare(b.instrument));
  }
}

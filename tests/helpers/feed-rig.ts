/**
 * The live-feed wiring the feed tests share (the same as the composition root's): an engine, its
 * BookManager whose resync requests go back to the feeds, a FeedManager on the given entries, and
 * the trades and gaps the engine saw. `cleanup` receives the feeds' stop function.
 */
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { BookManager } from '../../engine/src/book/manager.js';
import type { Gap, MarketEvent, Trade } from '../../engine/src/core/events.js';
import { FeedManager, type FeedEntry, type FeedManagerOptions } from '../../engine/src/feeds/manager.js';

export interface FeedRig { registry: InstrumentRegistry; engine: Engine; books: BookManager; feeds: FeedManager; trades: Trade[]; gaps: Gap[] }

export function feedRig(entries: FeedEntry[], cleanup: (fn: () => Promise<void>) => void, o: Pick<FeedManagerOptions, 'tap' | 'log'> & { now?: () => number } = {}): FeedRig {
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m' });
  const trades: Trade[] = [];
  const gaps: Gap[] = [];
  let feeds!: FeedManager;
  const books = new BookManager({ registry, emit: engine.onEvent, onResync: (r) => feeds.onResync(r) });
  engine.observe(books.onEvent);
  engine.observe((ev: MarketEvent) => { if (ev.type === 'trade') trades.push({ ...ev }); else if (ev.type === 'gap') gaps.push(ev); });
  feeds = FeedManager.fromConfig(entries, { registry, sink: engine.onEvent, tap: o.tap, log: o.log, defaults: { backoff: { baseMs: 20, maxMs: 100 }, ...(o.now ? { now: o.now } : {}) } });
  cleanup(() => feeds.stop());
  return { registry, engine, books, feeds, trades, gaps };
}

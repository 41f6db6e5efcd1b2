/**
 * The venue registry: every venue TapeFlow can connect to or replay, one line each. Config validation
 * (`feeds[].venue`), replay format detection, the recorder replay, the feed manager and `tapeflow record`
 * read this list. Adding a venue = one folder under engine/src/venues/ + one line here.
 *
 * Loading this module also registers each venue's book sequencing rule with the core book machinery
 * (book/sync.ts createBookSync) and its instrument metadata with the replay context.
 */
import type { EventSink } from '../replay/types.js';
import { venueInfo, type FeedContext } from '../replay/context.js';
import type { FeedOptions } from '../feeds/types.js';
import type { BaseFeed } from '../feeds/base.js';
import type { VenueDef } from './types.js';
import { binanceCoinm, binanceSpot, binanceUsdm } from './binance/index.js';
import { bybit, bybitSpot } from './bybit/index.js';
import { coinbase } from './coinbase/index.js';
import { okx } from './okx/index.js';
import { hyperliquid } from './hyperliquid/index.js';
import { kite } from './kite/index.js';

export const VENUES: readonly VenueDef[] = [
  binanceUsdm, binanceSpot, binanceCoinm,
  bybit, bybitSpot,
  coinbase,
  okx,
  hyperliquid,
  kite,
];

export type { VenueDef } from './types.js';

/** Venue ids with a live connection, in registry order. */
export const LIVE_VENUES: readonly string[] = VENUES.filter((v) => v.feed).map((v) => v.id);

/** Config `feeds[].venue` values that are not exchange connections. */
export const NON_EXCHANGE_FEEDS = ['mt5', 'replay', 'simulator'] as const;

/** Every valid config `feeds[].venue`. */
export const FEED_VENUES: readonly string[] = [...LIVE_VENUES, ...NON_EXCHANGE_FEEDS];

export function isLiveVenue(v: string): boolean {
  return LIVE_VENUES.includes(v);
}

/** The venue of an id or alias (exact), undefined when unknown. */
export function findVenue(name: string): VenueDef | undefined {
  return VENUES.find((v) => v.id === name) ?? VENUES.find((v) => v.aliases?.includes(name));
}

/** The parser for a venue name: exact id/alias, else the family's (`binance`, `bybit-v2`, …), else undefined. */
export function parserFor(name: string): VenueDef['parse'] | undefined {
  const v = findVenue(name);
  if (v) return v.parse;
  const fam = VENUES.find((d) => name === d.family || name.startsWith(d.family));
  return fam ? fam.parseFamily ?? fam.parse : undefined;
}

/**
 * Parse one raw frame (object or JSON string) of `venue`. recvTs = local receive time in ms (NaN if unknown).
 * Throws BadRow for malformed frames; ignores frames that carry no market event.
 */
export function parseVenueFrame(venue: string, frame: unknown, recvTs: number, ctx: FeedContext, sink: EventSink): void {
  const p = parserFor(venue);
  if (!p) throw new Error(`no frame parser for venue "${venue}" (known: ${VENUES.map((v) => v.id).join(', ')})`);
  p(frame, recvTs, ctx, sink);
}

/** Build the live feed of a venue. */
export function createFeed(o: FeedOptions): BaseFeed {
  const v = findVenue(o.venue);
  if (!v?.feed) throw new Error(`no live feed for venue "${String(o.venue)}" (live venues: ${LIVE_VENUES.join(', ')})`);
  return v.feed(o);
}

/** The venue whose replay detector accepts a parsed JSON line, in registry order. */
export function venueOfFrame(o: Record<string, unknown>): VenueDef | undefined {
  return VENUES.find((v) => v.replay?.detect(o));
}

/** Replay format names the venues add (JSON-lines and capture formats). */
export const VENUE_FORMATS: readonly string[] = VENUES.flatMap((v) => (v.replay ? [v.replay.format, ...(v.replay.capture ? [v.replay.capture] : [])] : []));

/** The venue owning a replay format name. */
export function venueOfFormat(format: string): VenueDef | undefined {
  return VENUES.find((v) => v.replay && (v.replay.format === format || v.replay.capture === format));
}

/** Venue from a WebSocket/REST URL (cryptofeed captures), undefined when unknown. */
export function venueFromUrl(url: string): string | undefined {
  return VENUES.find((v) => v.matchUrl?.(url))?.id;
}

/** Venue from a cryptofeed capture file name (`BINANCE_FUTURES.ws.1.0.gz`): the longest matching prefix. */
export function venueFromFileName(base: string): string | undefined {
  const b = base.toUpperCase();
  let best: { id: string; n: number } | undefined;
  for (const v of VENUES) for (const p of v.fileNames ?? []) if (b.startsWith(p) && (!best || p.length > best.n)) best = { id: v.id, n: p.length };
  return best?.id;
}

/** The venue a data file's (lower-cased) base name names by its convention (`usdm_…`, `spot_…`), if any. */
export function venueOfFileName(base: string, family?: string): VenueDef | undefined {
  const b = base.toLowerCase();
  return VENUES.find((v) => (family === undefined || v.family === family) && v.fileHint?.variant.test(b));
}

/** Instrument id a data file's base name implies by its venue's convention (`usdm_btcusdt…` → BTCUSDT), if any. */
export function instrumentOfFileName(base: string): string | undefined {
  const b = base.toLowerCase();
  for (const v of VENUES) {
    const m = v.fileHint?.symbol?.exec(b);
    if (!m) continue;
    const prefix = venueInfo(v.instrumentVenue).prefix;
    return prefix ? `${prefix}:${m[1]!.toUpperCase()}` : m[1]!.toUpperCase();
  }
  return undefined;
}

/** Map a Tardis exchange id to a venue's instrument venue (unknown ids pass through). */
export function tardisVenue(exchange: string): string {
  const v = VENUES.find((d) => d.tardis?.includes(exchange));
  return v ? v.instrumentVenue : exchange;
}

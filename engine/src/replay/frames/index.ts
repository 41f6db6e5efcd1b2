/**
 * Venue frame dispatch shared by the capture readers, the raw recorder replay and (later) live feeds.
 */
import type { EventSink, VenueName } from '../types.js';
import type { FeedContext } from '../context.js';
import { parseBinanceFrame } from './binance.js';
import { parseBybitFrame } from './bybit.js';
import { parseCoinbaseFrame } from './coinbase.js';

export { parseBinanceFrame, asObject } from './binance.js';
export { parseBybitFrame } from './bybit.js';
export { parseCoinbaseFrame } from './coinbase.js';

/** Which frame parser serves a venue name: binance-usdm|binance-spot|binance-coinm|bybit|coinbase. */
export function frameFamily(venue: VenueName): 'binance' | 'bybit' | 'coinbase' | undefined {
  if (venue.startsWith('binance')) return 'binance';
  if (venue.startsWith('bybit')) return 'bybit';
  if (venue.startsWith('coinbase')) return 'coinbase';
  return undefined;
}

/**
 * Parse one raw frame (object or JSON string) of `venue`. recvTs = local receive time in ms (NaN if unknown).
 * Throws BadRow for malformed frames; ignores frames that carry no market event.
 */
export function parseVenueFrame(venue: VenueName, frame: unknown, recvTs: number, ctx: FeedContext, sink: EventSink): void {
  switch (frameFamily(venue)) {
    case 'binance':
      if (venue === 'binance-usdm' || venue === 'binance-spot' || venue === 'binance-coinm') ctx.binanceVenue = venue;
      parseBinanceFrame(frame, recvTs, ctx, sink);
      return;
    case 'bybit': parseBybitFrame(frame, recvTs, ctx, sink); return;
    case 'coinbase': parseCoinbaseFrame(frame, recvTs, ctx, sink); return;
    default: throw new Error(`no frame parser for venue "${venue}"`);
  }
}

/** Venue from a WebSocket/REST URL (cryptofeed captures), undefined when unknown. */
export function venueFromUrl(url: string): VenueName | undefined {
  const u = url.toLowerCase();
  if (u.includes('fstream.binance') || u.includes('fapi.binance')) return 'binance-usdm';
  if (u.includes('dstream.binance') || u.includes('dapi.binance')) return 'binance-coinm';
  if (u.includes('binance')) return 'binance-spot';
  if (u.includes('bybit')) return 'bybit';
  if (u.includes('coinbase')) return 'coinbase';
  return undefined;
}

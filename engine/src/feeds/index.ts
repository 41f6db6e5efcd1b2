/** Live exchange feeds: see docs/feeds.md. */
export * from './types.js';
export { Backoff, RestClient, RestError, BoundedSet, Completeness } from './util.js';
export { WsConn } from './ws.js';
export { BaseFeed } from './base.js';
export { BinanceFeed, parseExchangeInfo, discoverMetals, METALS, type BinanceSymbolInfo } from '../venues/binance/feed.js';
export { BybitFeed } from '../venues/bybit/feed.js';
export { CoinbaseFeed } from '../venues/coinbase/feed.js';
export { FeedManager, createFeed, isLiveVenue, LIVE_VENUES, type FeedEntry, type FeedManagerOptions } from './manager.js';
export { canonicalStep } from './util.js';
export { FrameRecorder, type RecorderOptions } from './recorder.js';
export { MergedInstrument, mergeSourceOf, type MergeSource, type MergedSpec, type MergedCell, type VenueContribution } from './merge.js';

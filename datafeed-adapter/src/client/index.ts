/**
 * Browser entry: `TapeFlowDatafeed` (Charting Library datafeed over UDF + WebSocket) and
 * `StreamClient` (msgpack WebSocket for the order-flow channels). Bundled as dist/tapeflow-datafeed.mjs
 * (ESM) and dist/tapeflow-datafeed.iife.js (global `TapeFlow`).
 */
export { TapeFlowDatafeed, defaultStreamUrl, normalizeSymbol, statsToQuote, type TapeFlowDatafeedOptions } from './datafeed.js';
export { StreamClient, type StreamClientOptions, type StreamHandlers, type StreamSubscription, type StreamState, type SnapshotInfo, type SubscribeOptions, type WebSocketLike, type WebSocketCtor } from './stream.js';
export * from './types.js';
export {
  PROTOCOL_VERSION, CHANNELS, PLACEHOLDER_CHANNELS, TIMEFRAME_CHANNELS, ERR, CLOSE, normalizeTimeframe,
  type Channel, type ChannelSnapshot, type ChannelUpdate, type WireBar, type WireFootprint, type WireDelta, type WireTrade,
  type WireVwap, type WireProfile, type WireBook, type WireStats, type BarsSnapshot, type ErrorMsg, type WelcomeMsg,
} from '../ws/protocol.js';

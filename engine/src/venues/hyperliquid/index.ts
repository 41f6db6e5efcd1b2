/** Hyperliquid: trades and l2Book (full snapshots, no sequence) over its public WebSocket. */
import type { VenueDef } from '../types.js';
import { parseHyperliquidFrame } from './parse.js';
import { HyperliquidFeed } from './feed.js';
import './book.js';
import './meta.js';

const CHANNELS = ['trades', 'l2Book', 'bbo', 'subscriptionResponse', 'pong', 'allMids', 'candle', 'activeAssetCtx', 'activeSpotAssetCtx'];

export const hyperliquid: VenueDef = {
  id: 'hyperliquid', family: 'hyperliquid', title: 'Hyperliquid (perps and spot)', instrumentVenue: 'hyperliquid', parse: parseHyperliquidFrame,
  feed: (o) => new HyperliquidFeed(o),
  endpoints: { ws: 'wss://api.hyperliquid.xyz/ws', rest: 'https://api.hyperliquid.xyz/info', source: 'Hyperliquid API docs, WebSocket subscriptions trades/l2Book (checked 2026-12-04)' },
  backfill: { by: 'time', endpoint: 'none: no public trade-history endpoint (outages are recorded as gaps)', complete: false },
  replay: { format: 'hyperliquid-jsonl', capture: 'hyperliquid-capture', detect: (o) => typeof o.channel === 'string' && !Array.isArray(o.events) && CHANNELS.includes(o.channel) },
  matchUrl: (u) => /hyperliquid/i.test(u), fileNames: ['HYPERLIQUID'], tardis: ['hyperliquid'],
};

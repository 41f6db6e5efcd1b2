/** Coinbase: Advanced Trade WebSocket live; Exchange (legacy) and Advanced Trade frames replay. */
import type { VenueDef } from '../types.js';
import { parseCoinbaseFrame } from './parse.js';
import { CoinbaseFeed } from './feed.js';
import './book.js';
import './meta.js';

const LEGACY_TYPES = ['subscriptions', 'heartbeat', 'snapshot', 'l2update', 'match', 'last_match', 'ticker'];

export const coinbase: VenueDef = {
  id: 'coinbase', family: 'coinbase', title: 'Coinbase Advanced Trade', instrumentVenue: 'coinbase', parse: parseCoinbaseFrame,
  feed: (o) => new CoinbaseFeed(o),
  endpoints: { ws: 'wss://advanced-trade-ws.coinbase.com', rest: 'https://api.coinbase.com', source: 'Coinbase Advanced Trade WebSocket channels' },
  backfill: { by: 'time', endpoint: 'GET /api/v3/brokerage/market/products/{id}/ticker?limit=100', complete: false },
  replay: {
    format: 'coinbase-jsonl',
    detect: (o) => (typeof o.channel === 'string' && Array.isArray(o.events)) || typeof o.product_id === 'string' || (typeof o.type === 'string' && LEGACY_TYPES.includes(o.type)),
  },
  matchUrl: (u) => /coinbase/i.test(u), fileNames: ['COINBASE'], tardis: ['coinbase'],
};

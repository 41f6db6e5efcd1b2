/** Bybit v5 public streams: linear perpetuals (`bybit`) and spot (`bybit-spot`); v2 legacy frames replay too. */
import type { VenueDef } from '../types.js';
import { parseBybitFrame } from './parse.js';
import { BybitFeed } from './feed.js';
import './book.js';
import './meta.js';

export const bybit: VenueDef = {
  id: 'bybit', family: 'bybit', title: 'Bybit linear (USDT perpetuals)', instrumentVenue: 'bybit', parse: parseBybitFrame,
  feed: (o) => new BybitFeed(o),
  endpoints: { ws: 'wss://stream.bybit.com/v5/public/linear', rest: 'https://api.bybit.com', source: 'Bybit v5 WebSocket public streams' },
  backfill: { by: 'time', endpoint: 'GET /v5/market/recent-trade (newest 1000)', complete: false },
  replay: { format: 'bybit-jsonl', detect: (o) => typeof o.topic === 'string' || typeof o.success === 'boolean' || typeof o.op === 'string' },
  matchUrl: (u) => /bybit/i.test(u), fileNames: ['BYBIT'], tardis: ['bybit', 'bybit-options'],
};

export const bybitSpot: VenueDef = {
  id: 'bybit-spot', family: 'bybit', title: 'Bybit spot', instrumentVenue: 'bybit', parse: parseBybitFrame,
  feed: (o) => new BybitFeed(o),
  endpoints: { ws: 'wss://stream.bybit.com/v5/public/spot', rest: 'https://api.bybit.com', source: 'Bybit v5 WebSocket public streams' },
  backfill: { by: 'time', endpoint: 'GET /v5/market/recent-trade (newest 60)', complete: false },
  tardis: ['bybit-spot'],
};

/** OKX v5 public streams: trades, books (seqId chain + CRC-32 checksum), bbo-tbt; spot, swaps and futures. */
import type { VenueDef } from '../types.js';
import { parseOkxFrame } from './parse.js';
import { OkxFeed } from './feed.js';
import './book.js';
import './meta.js';

export const okx: VenueDef = {
  id: 'okx', family: 'okx', title: 'OKX (v5 public: spot, swaps, futures)', instrumentVenue: 'okx', aliases: ['okex'], parse: parseOkxFrame,
  feed: (o) => new OkxFeed(o),
  endpoints: { ws: 'wss://ws.okx.com:8443/ws/v5/public', rest: 'https://www.okx.com', source: 'OKX API v5 docs, WebSocket public channels trades/books/bbo-tbt (checked 2026-12-04); checksum deprecation notice 2026-05-21 (0 from 2026-06-23)' },
  backfill: { by: 'time', endpoint: 'GET /api/v5/market/trades?instId=&limit=500', complete: false },
  replay: { format: 'okx-jsonl', capture: 'okx-capture', detect: (o) => typeof o.arg === 'object' && o.arg !== null && typeof (o.arg as Record<string, unknown>).channel === 'string' },
  matchUrl: (u) => /okx\.com|okex\.com/i.test(u), fileNames: ['OKX', 'OKEX'], tardis: ['okex', 'okex-swap', 'okex-futures'],
};

/** Binance: USD-M futures, spot and COIN-M futures share one parser, one book rule family and one feed class. */
import type { VenueDef, VenueReplay } from '../types.js';
import { parseBinanceFrame } from './parse.js';
import { BinanceFeed } from './feed.js';
import './book.js';
import './meta.js';

const replay: VenueReplay = {
  format: 'binance-jsonl',
  capture: 'binance-capture',
  detect: (o) => (typeof o.stream === 'string' && 'data' in o) || typeof o.e === 'string' || 'lastUpdateId' in o,
};

function variant(id: 'binance-usdm' | 'binance-spot' | 'binance-coinm') {
  return {
    id, family: 'binance', instrumentVenue: id,
    parse: ((frame, recv, ctx, sink) => { ctx.binanceVenue = id; parseBinanceFrame(frame, recv, ctx, sink); }) as VenueDef['parse'],
    parseFamily: parseBinanceFrame,
    feed: (o) => new BinanceFeed(o),
  } satisfies Partial<VenueDef>;
}

export const binanceUsdm: VenueDef = {
  ...variant('binance-usdm'), title: 'Binance USD-M futures', aliases: ['binance-futures'], replay,
  endpoints: { ws: 'wss://fstream.binance.com/public/stream (depth, bookTicker) + wss://fstream.binance.com/market/stream (aggTrade)', rest: 'https://fapi.binance.com', source: 'Binance USD-M "Important WebSocket Change Notice — Base URL Split & Migration" (announced 2026-03-06, legacy root retired 2026-04-23)' },
  backfill: { by: 'id', endpoint: 'GET /fapi/v1/aggTrades?fromId=', complete: true },
  fileHint: { variant: /^(usdm|um|futures)[_-]/, symbol: /^(?:usdm|um)_([a-z0-9]+)/ },
  matchUrl: (u) => /fstream\.binance|fapi\.binance/i.test(u), fileNames: ['BINANCE_FUTURES'], tardis: ['binance-futures'],
};

export const binanceSpot: VenueDef = {
  ...variant('binance-spot'), title: 'Binance spot',
  endpoints: { ws: 'wss://stream.binance.com:9443/stream', rest: 'https://api.binance.com', source: 'Binance spot WebSocket Streams docs (checked 2026-12-04: no route split)' },
  backfill: { by: 'id', endpoint: 'GET /api/v3/aggTrades?fromId=', complete: true },
  fileHint: { variant: /^spot[_-]/, symbol: /^spot_([a-z0-9]+)/ },
  matchUrl: (u) => /binance/i.test(u) && !/(f|d)stream\.binance|(f|d)api\.binance/i.test(u), fileNames: ['BINANCE'], tardis: ['binance'],
};

export const binanceCoinm: VenueDef = {
  ...variant('binance-coinm'), title: 'Binance COIN-M futures', aliases: ['binance-delivery'],
  endpoints: { ws: 'wss://dstream.binance.com/stream', rest: 'https://dapi.binance.com', source: 'Binance COIN-M futures WebSocket Market Streams docs (checked 2026-12-04: no route split; routing: split available)' },
  backfill: { by: 'id', endpoint: 'GET /dapi/v1/aggTrades?fromId=', complete: true },
  fileHint: { variant: /^(cm|coinm)[_-]/, symbol: /^(?:cm|coinm)_([a-z0-9]+_(?:perp|\d{6}))/ },
  matchUrl: (u) => /dstream\.binance|dapi\.binance/i.test(u), fileNames: ['BINANCE_DELIVERY'], tardis: ['binance-delivery'],
};

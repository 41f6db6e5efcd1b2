/** Zerodha Kite Connect: the Kite Ticker binary stream (NSE/BSE/MCX/CDS), order flow derived from snapshots. */
import type { VenueDef } from '../types.js';
import { parseKiteFrame } from './parse.js';
import { KiteFeed } from './feed.js';
import './book.js';
import './meta.js';

export const kite: VenueDef = {
  id: 'kite', family: 'kite', title: 'Zerodha Kite Connect (NSE/BSE; trades derived from snapshots)', instrumentVenue: 'kite', aliases: ['zerodha'], parse: parseKiteFrame,
  feed: (o) => new KiteFeed(o),
  endpoints: { ws: 'wss://ws.kite.trade', rest: 'https://api.kite.trade', source: 'Kite Connect v3 docs: WebSocket streaming (binary packets, modes ltp/quote/full), instruments dump, user session (checked 2026-12-04)' },
  backfill: { by: 'time', endpoint: 'none: Kite serves no tick history; volume traded during an outage arrives as one derived trade', complete: false },
  replay: { format: 'kite-jsonl', detect: (o) => o.kite === 'bin' || o.kite === 'instruments' },
  matchUrl: (u) => /ws\.kite\.trade/i.test(u), fileNames: ['KITE', 'ZERODHA'],
};

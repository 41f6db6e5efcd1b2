/**
 * Time & sales (/api/v1/trades). Without `from`: the latest `limit` trades before `to`; with `from`:
 * the first `limit` trades in [from, to). `minSize` keeps trades of at least that size.
 *
 * Bound: at most `limit` (≤ 10 000) trades answered; a `minSize` filter reads at most `maxTrades`
 * trades (pages with a yield after each) and says so in `limits` when the cap ended the search.
 */
import type { HistoryService } from './history.js';
import type { TradeRec } from './trades.js';
import { budget, scanBackward, scanForward } from './trade-scan.js';
import type { Work } from './work.js';

export function* timeAndSalesWork(s: HistoryService, symbol: string, q: { from?: number; to: number; limit: number; minSize?: number }): Work<Record<string, unknown>> {
  const i = s.instrument(symbol);
  const minLots = q.minSize !== undefined ? i.qty.parse(String(q.minSize)) : 0;
  const b = budget(s.opts.maxTrades);
  const list: TradeRec[] = [];
  // the size filter runs inside the scans (in SQLite for stored trades): skipped trades cost no objects
  const visit = (t: TradeRec): boolean => {
    list.push(t);
    return list.length < q.limit;
  };
  if (q.from !== undefined) yield* scanForward(s, i.id, q.from, q.to, b, visit, minLots);
  else {
    yield* scanBackward(s, i.id, -8.64e15, q.to, b, visit, minLots);
    list.reverse();
  }
  const limits = b.truncated ? [`read at most ${s.opts.maxTrades} trades: fewer than ${q.limit} matched`] : [];
  return {
    // trades a venue does not print (Kite: derived from snapshots) say how they were obtained
    symbol: i.id, limits, ...(i.tradeProvenance ? { provenance: i.tradeProvenance } : {}),
    trades: list.map((t) => ({ ts: t.ts, id: t.id, price: i.price.toNumber(t.price), size: i.qty.toNumber(t.size), side: t.side, sideSource: t.sideSource, cvd: i.qty.toNumber(t.cvd) })),
  };
}

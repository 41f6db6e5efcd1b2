/**
 * UDF server routes (charting-hosts.md §2): /config, /symbol_info, /symbols, /search, /history,
 * /marks, /timescale_marks, /time, /quotes.
 *  - Times in seconds; /history `to` is exclusive and `countback` honoured (bars in [from, to), or the
 *    last `countback` bars before `to` when the range holds fewer); `no_data` carries `nextTime` in
 *    MILLISECONDS (v29 semantics, strictly < from×1000) only when countback is 0 and older data
 *    exists — with countback, older data is returned instead.
 *  - /symbols and /search success bodies never contain `s`; errors are `{s:'error', errmsg, param,
 *    reason}` with status 400 (bad parameter) or 404 (unknown symbol / group).
 *  - /time answers a bare integer (text/plain).
 *  - /history answers are cached (LRU, as their encoded byte parts: column-block slices for minute
 *    bars, one JSON buffer otherwise) and invalidated when any bar of the slice may have changed (see
 *    HistoryService.version): responses carry `X-Cache: hit|miss`. Minute bars the in-memory bars
 *    decide are answered at once from encoded columns (service/udf-columns.ts), never queued.
 */
import type { Request, Response, Router } from 'express';
import express from 'express';
import { LRUCache } from 'lru-cache';
import type { HistoryService } from '../service/history.js';
import { ServiceError } from '../service/errors.js';
import { udfHistoryNow, udfHistoryWork } from '../service/bars.js';
import { isEncoded, type Encoded } from '../service/udf-columns.js';
import { Busy, Cancelled, type Scheduler } from '../service/work.js';
import { clientGone } from './api.js';
import { SUPPORTED_RESOLUTIONS, nominalMs } from '../service/resolution.js';
import { symbolInfoTable } from '../service/symbols.js';
import { ParamError, validate, type ParamSpec } from './params.js';

export interface RouteDef {
  method: 'get';
  path: string;
  summary: string;
  description?: string;
  params: ParamSpec[];
  /** OpenAPI response description */
  response: string;
}

const MAX_S = 4_102_444_800; // 2100-01-01
const SYMBOL: ParamSpec = { name: 'symbol', type: 'string', required: true, maxLength: 80, description: 'instrument name or ticker (registry id, e.g. BTCUSDT, NAS100, COINBASE:BTC-USD)' };

export const UDF_ROUTES: Record<string, RouteDef> = {
  config: { method: 'get', path: '/config', summary: 'UDF datafeed configuration', params: [], response: 'DatafeedConfiguration plus supports_search / supports_group_request' },
  symbol_info: { method: 'get', path: '/symbol_info', summary: 'UDF symbol group table (venue)', params: [{ name: 'group', type: 'string', maxLength: 80, description: 'venue (e.g. binance-usdm, cfd, coinbase); empty = all' }], response: 'column table of symbol fields' },
  symbols: { method: 'get', path: '/symbols', summary: 'UDF resolve one symbol', params: [{ ...SYMBOL }], response: 'LibrarySymbolInfo (no `s` property)' },
  search: {
    method: 'get', path: '/search', summary: 'UDF symbol search', response: 'array of SearchSymbolResultItem',
    params: [
      { name: 'query', type: 'string', maxLength: 80, default: '', description: 'substring of id/symbol/description (case-insensitive)' },
      { name: 'type', type: 'string', maxLength: 40, default: '', description: 'symbol type filter (crypto, forex, index, stock, commodity); empty = all' },
      { name: 'exchange', type: 'string', maxLength: 40, default: '', description: 'venue filter; empty = all' },
      { name: 'limit', type: 'integer', min: 1, max: 1000, default: 30, description: 'max results' },
    ],
  },
  history: {
    method: 'get', path: '/history', summary: 'UDF bars', response: "{s:'ok', t, o, h, l, c, v} (t in seconds) or {s:'no_data', nextTime?(ms)} or {s:'error', errmsg}",
    params: [
      { ...SYMBOL },
      { name: 'resolution', type: 'string', required: true, maxLength: 10, description: `resolution (${SUPPORTED_RESOLUTIONS.join(', ')}, any N minutes multiple of the base timeframe, NT up to 10000T)` },
      { name: 'from', type: 'integer', time: 's', required: true, min: 0, max: MAX_S, description: 'leftmost bar time, Unix seconds (or RFC3339), inclusive' },
      { name: 'to', type: 'integer', time: 's', required: true, min: 1, max: MAX_S, description: 'rightmost bound, Unix seconds (or RFC3339), exclusive (a future `to` is clamped to now)' },
      { name: 'countback', type: 'integer', min: 0, default: 0, description: 'minimum number of bars before `to` (honoured even when the range holds fewer; above the bar cap it is clamped and the X-TapeFlow-Limits header says so)' },
    ],
  },
  marks: {
    method: 'get', path: '/marks', summary: 'UDF bar marks (signals)', response: 'array of Mark (time in seconds = bar start)',
    params: [{ ...SYMBOL }, { name: 'from', type: 'integer', time: 's', required: true, min: 0, max: MAX_S, description: 'Unix seconds (or RFC3339)' }, { name: 'to', type: 'integer', time: 's', required: true, min: 0, max: MAX_S, description: 'Unix seconds (or RFC3339)' }, { name: 'resolution', type: 'string', required: true, maxLength: 10, description: 'chart resolution' }],
  },
  timescale_marks: {
    method: 'get', path: '/timescale_marks', summary: 'UDF timescale marks (data gaps)', response: 'array of TimescaleMark (time in seconds = bar start)',
    params: [{ ...SYMBOL }, { name: 'from', type: 'integer', time: 's', required: true, min: 0, max: MAX_S, description: 'Unix seconds (or RFC3339)' }, { name: 'to', type: 'integer', time: 's', required: true, min: 0, max: MAX_S, description: 'Unix seconds (or RFC3339)' }, { name: 'resolution', type: 'string', required: true, maxLength: 10, description: 'chart resolution' }],
  },
  time: { method: 'get', path: '/time', summary: 'server time, bare integer Unix seconds (text/plain)', params: [], response: 'integer' },
  quotes: { method: 'get', path: '/quotes', summary: 'UDF quotes', params: [{ name: 'symbols', type: 'string', required: true, maxLength: 4000, description: 'comma-separated symbols (max 100)' }], response: "{s:'ok', d:[{s, n, v:{lp, ch, chp, prev_close_price, volume, …}}]}" },
};

/** Longest [from, to) span served without countback, per resolution kind (seconds). */
const MAX_SPAN_S: Record<string, number> = { tick: 2 * 86_400, second: 31 * 86_400, minute: 20 * 366 * 86_400, day: 200 * 366 * 86_400, week: 200 * 366 * 86_400, month: 200 * 366 * 86_400 };

export interface CacheStats { hits: number; misses: number; invalidations: number; size: number }

interface CacheEntry extends Encoded { mod: number; mutableFrom: number; coverEnd: number; limits: string }

/**
 * Write an encoded /history answer: headers and every part leave in one writev (the socket is
 * corked until end), with no copy into one body buffer.
 */
function sendParts(res: Response, e: CacheEntry, cache: 'hit' | 'miss'): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', e.length);
  res.setHeader('X-Cache', cache);
  if (e.limits) res.setHeader('X-TapeFlow-Limits', e.limits);
  if (e.parts.length === 1) { res.end(e.parts[0]); return; }
  res.cork();
  for (const p of e.parts) res.write(p);
  res.end();
}

function udfError(res: Response, e: unknown): void {
  if (e instanceof ParamError || e instanceof ServiceError) {
    res.status(e.status).json({ s: 'error', errmsg: e.status === 404 && e.param === 'symbol' ? 'unknown_symbol' : `${e.param}: ${e.reason}`, param: e.param, reason: e.reason });
    return;
  }
  if (res.headersSent) { res.destroy(); return; }
  if (e instanceof Busy) { res.status(503).set('Retry-After', '1').json({ s: 'error', errmsg: e.message }); return; }
  if (e instanceof Cancelled) { res.destroy(); return; }
  res.status(500).json({ s: 'error', errmsg: 'internal error (see the server log)' });
}

export function udfRouter(service: HistoryService, sched: Scheduler, opts: { cacheEntries?: number; onError?: (e: unknown, req: Request) => void } = {}): { router: Router; cache: CacheStats } {
  const r = express.Router();
  const stats: CacheStats = { hits: 0, misses: 0, invalidations: 0, size: 0 };
  const cache = new LRUCache<string, CacheEntry>({ max: opts.cacheEntries ?? 2000, maxSize: 256 * 1024 * 1024, sizeCalculation: (v) => v.length + 16 * v.parts.length + 64 });

  const route = (def: RouteDef, fn: (p: Record<string, unknown>, req: Request, res: Response) => void | Promise<void>): void => {
    r.get(def.path, async (req, res) => {
      try {
        const p = validate(def.params, req.query as Record<string, unknown>);
        await fn(p, req, res);
      } catch (e) {
        if (!(e instanceof ParamError || e instanceof ServiceError || e instanceof Busy || e instanceof Cancelled)) opts.onError?.(e, req);
        udfError(res, e);
      }
    });
  };

  route(UDF_ROUTES.config, (_p, _q, res) => {
    const venues = [...new Set(service.registry.all().map((i) => i.venue))];
    res.json({
      supported_resolutions: SUPPORTED_RESOLUTIONS,
      supports_search: true,
      supports_group_request: false,
      supports_marks: true,
      supports_timescale_marks: true,
      supports_time: true,
      exchanges: [{ value: '', name: 'All Exchanges', desc: '' }, ...venues.map((v) => ({ value: v, name: v, desc: v }))],
      symbols_types: [{ name: 'All types', value: '' }, ...['crypto', 'forex', 'index', 'stock', 'commodity'].map((t) => ({ name: t, value: t }))],
    });
  });

  route(UDF_ROUTES.symbol_info, (p, _q, res) => {
    const g = String(p.group ?? '').toLowerCase();
    const list = service.registry.all().filter((i) => g === '' || i.venue.toLowerCase() === g);
    if (list.length === 0) throw new ServiceError(404, 'group', `unknown group "${g.slice(0, 40)}"`);
    res.json(symbolInfoTable(list));
  });

  route(UDF_ROUTES.symbols, (p, _q, res) => { res.json(service.symbolInfo(p.symbol as string)); });

  route(UDF_ROUTES.search, (p, _q, res) => { res.json(service.search(p.query as string, p.type as string, p.exchange as string, p.limit as number)); });

  route(UDF_ROUTES.history, async (p, _q, res) => {
    const inst = service.instrument(p.symbol as string);
    const resol = service.resolution(p.resolution as string, inst.id);
    const from = p.from as number, cb = p.countback as number;
    const nowS = Math.floor(Date.now() / 1000) + 1;
    const to = Math.min(p.to as number, Math.max(nowS, from + 1));
    if (from >= to) throw new ParamError(400, 'from', `must be < to (from=${from}, to=${to})`);
    if (cb === 0 && to - from > MAX_SPAN_S[resol.kind]) throw new ParamError(400, 'to', `range of ${to - from} s is too large for resolution ${resol.label} (max ${MAX_SPAN_S[resol.kind]} s without countback)`);
    const key = `${inst.id}|${resol.label}|${from}|${to}|${cb}`;
    const v = service.version(inst.id);
    const hit = cache.get(key);
    if (hit) {
      if (hit.mod === v.mod || hit.coverEnd <= hit.mutableFrom) {
        stats.hits++;
        sendParts(res, hit, 'hit');
        return;
      }
      stats.invalidations++;
      cache.delete(key);
    }
    stats.misses++;
    // minute bars the in-memory bars decide are answered at once from encoded columns (bounded by
    // the parts returned); everything else runs on the scheduler
    let enc = udfHistoryNow(service, inst, resol, from, to, cb);
    let limits = '';
    if (!enc) {
      const out = await sched.run(udfHistoryWork(service, inst.id, resol.label, from, to, cb), clientGone(res), `/history ${resol.label}`);
      if (isEncoded(out.body)) enc = out.body;
      else { const body = Buffer.from(JSON.stringify(out.body)); enc = { parts: [body], length: body.length }; }
      limits = out.limits.join('; ');
    }
    // the slice depends on every bar with time < to (countback) — and a bucket may extend past `to`
    const coverEnd = to * 1000 + nominalMs(resol) + (resol.kind === 'day' || resol.kind === 'week' || resol.kind === 'month' ? 2 * 86_400_000 : 0);
    // cached as the encoded parts (column slices are never rewritten), so a hit is written without encoding or copying
    const entry: CacheEntry = { parts: enc.parts, length: enc.length, mod: v.mod, mutableFrom: v.mutableFrom, coverEnd, limits };
    cache.set(key, entry);
    sendParts(res, entry, 'miss');
  });

  route(UDF_ROUTES.marks, (p, _q, res) => { res.json(service.marks(p.symbol as string, p.resolution as string, p.from as number, p.to as number)); });
  route(UDF_ROUTES.timescale_marks, (p, _q, res) => { res.json(service.timescaleMarks(p.symbol as string, p.resolution as string, p.from as number, p.to as number)); });
  route(UDF_ROUTES.time, (_p, _q, res) => { res.type('text/plain').send(String(Math.floor(Date.now() / 1000))); });
  route(UDF_ROUTES.quotes, (p, _q, res) => {
    const names = (p.symbols as string).split(',').filter((s) => s !== '');
    if (names.length === 0) throw new ParamError(400, 'symbols', 'no symbol given');
    if (names.length > 100) throw new ParamError(400, 'symbols', `at most 100 symbols, got ${names.length}`);
    res.json({ s: 'ok', d: names.map((n) => service.quote(n)) });
  });

  Object.defineProperty(stats, 'size', { get: () => cache.size, enumerable: true });
  return { router: r, cache: stats };
}

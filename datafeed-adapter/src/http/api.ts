/**
 * Order-flow JSON API under /api/v1. Times are Unix MILLISECONDS; prices in price units; volumes in
 * instrument units. Every parameter is validated: a bad one answers 400 `{error, param, reason}`, an
 * unknown symbol 404 with the same shape. Routes backed by engines that are wired later (order book,
 * signals, bias, trade state, strategy, scanner) answer the real current state, which is the
 * documented empty state (`available: false`, empty lists) until a provider is registered on
 * `service.providers`.
 */
import type { Request, Response, Router } from 'express';
import express from 'express';
import type { HistoryService } from '../service/history.js';
import { ServiceError } from '../service/errors.js';
import { footprintWork } from '../service/footprints.js';
import { deltaWork } from '../service/footprints.js';
import { profileWork } from '../service/profiles.js';
import { vwapWork } from '../service/vwap.js';
import { timeAndSalesWork } from '../service/time-sales.js';
import { Busy, Cancelled, isWork, jsonWithArray, RawJson, type Scheduler } from '../service/work.js';
import { ParamError, validate, type ParamSpec } from './params.js';
import { publicView } from './redact.js';
import type { RouteDef } from './udf.js';

const MAX_MS = 4_102_444_800_000;
const SYMBOL: ParamSpec = { name: 'symbol', type: 'string', required: true, maxLength: 80, description: 'instrument id or venue symbol' };
const FROM: ParamSpec = { name: 'from', type: 'integer', time: 'ms', aliases: ['start_time'], min: 0, max: MAX_MS, description: 'range start, Unix ms or RFC3339, inclusive (alias start_time)' };
const TO: ParamSpec = { name: 'to', type: 'integer', time: 'ms', aliases: ['end_time'], min: 1, max: MAX_MS, description: 'range end, Unix ms or RFC3339, exclusive (default now; alias end_time)' };
const COUNTBACK: ParamSpec = { name: 'countback', type: 'integer', min: 0, default: 0, description: 'at least this many bars ending before `to` (above the bar cap it is clamped, and `limits` says so)' };
const RESOLUTION: ParamSpec = { name: 'resolution', type: 'string', maxLength: 10, default: '1', description: 'bar resolution (1T, 100T, 1S, 1, 5, 60, 1D, 1W, 1M)' };
const LIMIT = (def: number, max: number): ParamSpec => ({ name: 'limit', type: 'integer', min: 1, max, default: def, description: `max items (default ${def})` });

export interface ApiRoute extends RouteDef {
  /** a plain answer, or a Work generator the router runs on the shared scheduler */
  handler(service: HistoryService, p: Record<string, unknown>): unknown;
}

/** `to` defaults to now and a `to` in the future is clamped to now (+1 ms: `to` is exclusive). */
function clampTo(to: number | undefined): number {
  const now = Date.now() + 1;
  return to === undefined || to > now ? now : to;
}

function range(p: Record<string, unknown>, defSpanMs: number, maxSpanMs: number): { from: number; to: number } {
  // without `to`: now, or from + the maximum span when that is earlier
  const to = p.to !== undefined ? clampTo(p.to as number) : (p.from !== undefined ? Math.min(Date.now() + 1, (p.from as number) + maxSpanMs) : Date.now() + 1);
  const from = (p.from as number | undefined) ?? Math.max(0, to - defSpanMs);
  if (from >= to) throw new ParamError(400, 'from', `must be < to (from=${from}, to=${to})`);
  if (to - from > maxSpanMs && !((p.countback as number | undefined) ?? 0)) throw new ParamError(400, 'from', `range of ${to - from} ms exceeds the maximum ${maxSpanMs} ms for this request`);
  return { from, to };
}

const DAY = 86_400_000;

export const API_ROUTES: ApiRoute[] = [
  {
    method: 'get', path: '/api/v1/instruments', summary: 'instruments with live stats', params: [], response: '{instruments: InstrumentStats[]}',
    handler: (s) => ({ instruments: s.instruments() }),
  },
  {
    method: 'get', path: '/api/v1/instruments/{symbol}', summary: 'one instrument with stats and its symbol info', params: [{ ...SYMBOL, in: 'path' }], response: 'InstrumentStats + symbolInfo',
    handler: (s, p) => ({ ...s.instrumentStats(p.symbol as string), symbolInfo: s.symbolInfo(p.symbol as string) }),
  },
  {
    method: 'get', path: '/api/v1/footprint', summary: 'footprint bars (time, tick or volume aggregation)', response: '{symbol, agg, bars: FootprintBar[]}',
    description: 'agg=time merges base bars per resolution bucket (rows added cell by cell); agg=tick groups N trades, agg=volume closes a bar at the trade that brings its volume to >= size (both restart each UTC hour). Empty rows are omitted.',
    params: [
      SYMBOL,
      { name: 'agg', type: 'string', enum: ['time', 'tick', 'volume'], default: 'time', description: 'aggregation' },
      RESOLUTION,
      { name: 'size', type: 'number', min: 0, max: 1e12, description: 'trades per bar (agg=tick, default 100) or volume per bar in instrument units (agg=volume, required)' },
      FROM, TO, COUNTBACK,
      { name: 'rows', type: 'boolean', default: true, description: 'include footprint rows' },
      { name: 'imbalanceRatio', type: 'number', min: 1, max: 100, description: 'imbalance ratio for the rows\' flags (default from config)' },
      { name: 'imbalanceCompare', type: 'string', enum: ['diagonal', 'horizontal'], description: 'imbalance comparison (default from config)' },
      { name: 'minVolume', type: 'number', min: 0, max: 1e12, description: 'an imbalance needs at least this volume on its dominant side, instrument units (default from config)' },
      { name: 'rowSize', type: 'number', min: 0, max: 1e12, description: 'row size in price units, a whole multiple of the instrument\'s footprint row (rowSize in /api/v1/instruments): rows merged on the server (default: the footprint row)' },
    ],
    handler: (s, p) => {
      const agg = p.agg as 'time' | 'tick' | 'volume';
      if (agg === 'volume' && p.size === undefined) throw new ParamError(400, 'size', 'required for agg=volume');
      if (agg === 'tick' && p.size !== undefined && (!Number.isInteger(p.size) || (p.size as number) < 1 || (p.size as number) > 10000)) throw new ParamError(400, 'size', 'tick bars need an integer size 1..10000');
      const { from, to } = range(p, 6 * 3_600_000, agg === 'time' ? 400 * DAY : 2 * DAY);
      return footprintWork(s, p.symbol as string, { agg, resolution: p.resolution as string, size: p.size as number | undefined, from, to, countback: p.countback as number, rows: p.rows as boolean, imbalance: { ratio: p.imbalanceRatio as number | undefined, compare: p.imbalanceCompare as 'diagonal' | 'horizontal' | undefined, minVolume: p.minVolume as number | undefined }, rowSize: p.rowSize as number | undefined });
    },
  },
  {
    method: 'get', path: '/api/v1/profile', summary: 'volume profile (session, fixed range, visible range, composite)', response: 'profile with rows (bid/ask split), POC/VAH/VAL, HVN/LVN, shape',
    params: [
      SYMBOL,
      { name: 'type', type: 'string', enum: ['session', 'fixed', 'visible', 'composite'], default: 'session', description: 'profile scope' },
      { name: 'session', type: 'string', maxLength: 10, pattern: /^\d{4}-\d{2}-\d{2}$/, description: 'session key YYYY-MM-DD (type=session; default current)' },
      { name: 'sessions', type: 'integer', min: 1, max: 365, default: 5, description: 'number of sessions (type=composite)' },
      FROM, TO,
      { name: 'rowSize', type: 'number', min: 0, max: 1e12, description: 'row height in price units, a multiple of the tick size (fixed/visible; default the instrument profile row)' },
      { name: 'valueArea', type: 'number', min: 0.01, max: 1, description: 'value area fraction (default from config, 0.70)' },
      { name: 'rows', type: 'boolean', default: true, description: 'include rows' },
    ],
    handler: (s, p) => {
      const type = p.type as 'session' | 'fixed' | 'visible' | 'composite';
      let from: number | undefined, to: number | undefined;
      if (type === 'fixed' || type === 'visible') {
        if (p.from === undefined) throw new ParamError(400, 'from', `required for type=${type}`);
        ({ from, to } = range(p, DAY, 400 * DAY));
      }
      // the row height is given in price units; the engine's profile works in ticks
      let rowTicks: number | undefined;
      if (p.rowSize !== undefined) {
        const i = s.instrument(p.symbol as string);
        const rs = p.rowSize as number;
        rowTicks = i.price.fromNumber(rs);
        if (!(rowTicks >= 1 && rowTicks <= 1_000_000) || Math.abs(i.price.toNumber(rowTicks) - rs) > 1e-9 * Math.max(1, rs)) throw new ParamError(400, 'rowSize', `must be a positive multiple of the tick size ${i.tickSize}, at most ${i.price.toNumber(1_000_000)}, got ${rs}`);
      }
      return profileWork(s, p.symbol as string, { type, session: p.session as string | undefined, sessions: p.sessions as number, from, to, rowTicks, rows: p.rows as boolean, valueAreaPct: p.valueArea as number | undefined });
    },
  },
  {
    method: 'get', path: '/api/v1/delta', summary: 'delta and CVD series', params: [SYMBOL, RESOLUTION, FROM, TO, COUNTBACK], response: '{bars: [{time, delta, deltaMin, deltaMax, buyVolume, sellVolume, cvdOpen/High/Low/Close}]}',
    handler: (s, p) => { const { from, to } = range(p, 6 * 3_600_000, 400 * DAY); return deltaWork(s, p.symbol as string, p.resolution as string, from, to, p.countback as number); },
  },
  {
    method: 'get', path: '/api/v1/vwap', summary: 'session VWAP with ±1/2/3σ bands; anchored series from trades', response: '{session, anchored?}',
    params: [SYMBOL, { name: 'anchor', type: 'integer', time: 'ms', min: 0, max: MAX_MS, description: 'anchor time, Unix ms or RFC3339 (series from trades)' }, { name: 'resolution', type: 'string', maxLength: 10, description: 'series resolution (enables the series; default 1 when anchor is given)' }, TO],
    handler: (s, p) => {
      const to = clampTo(p.to as number | undefined);
      if (p.anchor !== undefined && (p.anchor as number) >= to) throw new ParamError(400, 'anchor', 'must be before `to`');
      if (p.anchor !== undefined && to - (p.anchor as number) > 31 * DAY) throw new ParamError(400, 'anchor', 'anchored VWAP series span at most 31 days');
      return vwapWork(s, p.symbol as string, { anchor: p.anchor as number | undefined, resolution: p.resolution as string | undefined, to });
    },
  },
  {
    method: 'get', path: '/api/v1/orderbook', summary: 'order book snapshot (`available: false` when no book is synced for the instrument)', params: [SYMBOL, { name: 'depth', type: 'integer', min: 1, max: 1000, default: 20, description: 'levels per side' }], response: '{available, synced, depthLevels, ts, bids, asks}',
    handler: (s, p) => s.orderbook(p.symbol as string, p.depth as number),
  },
  {
    method: 'get', path: '/api/v1/orderbook/history', summary: 'depth history: book levels sampled on a regular grid (heatmap)', params: [SYMBOL, FROM, TO, LIMIT(500, 10000)], response: '{available, snapshots}',
    handler: (s, p) => { const { from, to } = range(p, 3_600_000, 31 * DAY); return s.depthHistory(p.symbol as string, from, to, p.limit as number); },
  },
  {
    method: 'get', path: '/api/v1/trades', summary: 'time & sales', params: [SYMBOL, FROM, { ...TO, description: 'range end, Unix ms or RFC3339, exclusive (default now, or from + 31 days; alias end_time)' }, LIMIT(500, 10000), { name: 'minSize', type: 'number', min: 0, max: 1e12, description: 'only trades of at least this size (instrument units)' }], response: '{trades: [{ts, id, price, size, side, sideSource, cvd}]}',
    description: 'Without `from`: the latest `limit` trades before `to`. With `from`: the first `limit` trades in [from, to).',
    handler: (s, p) => {
      const to = p.from !== undefined ? range(p, DAY, 31 * DAY).to : clampTo(p.to as number | undefined);
      return timeAndSalesWork(s, p.symbol as string, { from: p.from as number | undefined, to, limit: p.limit as number, minSize: p.minSize as number | undefined });
    },
  },
  {
    method: 'get', path: '/api/v1/signals', summary: 'signals from the signal engine (or the store), with texts and evidence in price and instrument units', params: [{ ...SYMBOL, required: false }, FROM, TO, LIMIT(500, 10000)], response: '{signals: []}',
    handler: (s, p) => {
      if (p.symbol !== undefined) s.instrument(p.symbol as string);
      const { from, to } = range(p, 7 * DAY, 400 * DAY);
      return { signals: s.signals({ symbol: p.symbol === undefined ? undefined : s.instrument(p.symbol as string).id, from, to, limit: p.limit as number }) };
    },
  },
  { method: 'get', path: '/api/v1/rule', summary: 'rule mode (FlowSight): the LONG / SHORT / WAIT decision with 0–100 confidence, its level, metrics and reasoning, at each bar close; the last one and the recent ones', params: [SYMBOL, LIMIT(50, 500)], response: '{symbol, available, rule, recent}', handler: (s, p) => s.rule(p.symbol as string, p.limit as number) },
  { method: 'get', path: '/api/v1/bias', summary: 'daily bias from the prior session profile', params: [SYMBOL], response: '{available, bias}', handler: (s, p) => s.bias(p.symbol as string) },
  { method: 'get', path: '/api/v1/levels', summary: 'key levels: session POC/VAH/VAL, VWAP, provider levels', params: [SYMBOL], response: '{session, vwap, levels}', handler: (s, p) => s.levels(p.symbol as string) },
  { method: 'get', path: '/api/v1/trade-state', summary: 'strategy status (state, steps, open position with entry/SL/TP) and the transition journal', params: [SYMBOL], response: '{available, state, journal}', handler: (s, p) => s.tradeState(p.symbol as string) },
  { method: 'get', path: '/api/v1/strategy', summary: 'strategy status of every instrument', params: [], response: '{available, strategies}', handler: (s) => s.strategy() },
  { method: 'get', path: '/api/v1/scanner', summary: 'scanner: strategy statuses by priority', params: [], response: '{available, rows}', handler: (s) => s.scanner() },
  { method: 'get', path: '/api/v1/paper', summary: 'paper trading on the strategy\'s entries/exits: account, limits, open positions, fills, refusals, analytics (win rate, profit factor, average R, max drawdown, Sharpe); optional symbol filters positions and fills', params: [{ ...SYMBOL, required: false }], response: '{available, symbol, account, limits, open, fills, refusals, analytics}', handler: (s, p) => s.paper(p.symbol === undefined ? undefined : (p.symbol as string)) },
  {
    method: 'get', path: '/api/v1/merged', summary: 'multi-venue instrument: footprint cells with each venue\'s contribution (optionally one venue)', params: [SYMBOL, FROM, TO, { name: 'venue', type: 'string', maxLength: 40, description: 'only this venue\'s contributions (e.g. binance-usdm, bybit, coinbase)' }], response: '{symbol, merged, venue, cells: [{time, price, buy, sell, unknown, trades, venues}]}',
    handler: (s, p) => { const { from, to } = range(p, 3_600_000, 31 * DAY); return s.merged(p.symbol as string, from, to, p.venue as string | undefined); },
  },
  {
    method: 'get', path: '/api/v1/pcr', summary: 'options-chain put-call ratio (Kite feeds with kite.pcr): by OI and by volume, overall and near the money, change over the IST session, bias', response: '{available, chains}',
    params: [{ name: 'underlying', type: 'string', maxLength: 40, description: 'only this underlying (NIFTY, BANKNIFTY, …)' }],
    handler: (s, p) => s.pcr(p.underlying as string | undefined),
  },
  { method: 'get', path: '/api/v1/feeds', summary: 'live feeds: connection state, counters and data completeness (gaps with reasons and durations)', params: [], response: '{available, feeds, completeness}', handler: (s) => s.feeds() },
  { method: 'get', path: '/api/v1/system', summary: 'system stats: uptime, events, memory, store, caches', params: [], response: 'SystemStats', handler: (s) => s.system() },
  { method: 'get', path: '/api/v1/health', summary: 'health', params: [], response: '{status}', handler: (s) => s.health() },
];

export function apiError(res: Response, e: unknown): void {
  if (res.headersSent) { res.destroy(); return; }
  if (e instanceof ParamError || e instanceof ServiceError) {
    res.status(e.status).json({ error: e.status === 404 ? 'not found' : 'invalid parameter', param: e.param, reason: e.reason });
    return;
  }
  if (e instanceof Busy) { res.status(503).set('Retry-After', '1').json({ error: 'busy', param: null, reason: e.message }); return; }
  if (e instanceof Cancelled) { res.destroy(); return; }
  res.status(500).json({ error: 'internal error', param: null, reason: 'the request failed inside the server (see the server log)' });
}

/** An AbortSignal that fires when the client goes away before the answer is sent. */
export function clientGone(res: Response): AbortSignal {
  const ac = new AbortController();
  res.on('close', () => { if (!res.writableFinished) ac.abort(); });
  return ac.signal;
}

/** Send a JSON answer; a large top-level array is serialized in slices on the scheduler. */
export async function sendJson(res: Response, body: unknown, sched: Scheduler, signal: AbortSignal): Promise<void> {
  if (body instanceof RawJson) { res.type('application/json').send(body.body); return; }
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    let big: string | null = null;
    for (const [k, v] of Object.entries(body)) if (Array.isArray(v) && v.length > 500 && (big === null || v.length > ((body as Record<string, unknown[]>)[big]).length)) big = k;
    if (big !== null) {
      const { [big]: items, ...head } = body as Record<string, unknown>;
      const text = await sched.run(jsonWithArray(head, big, items as unknown[]), signal, 'json');
      res.type('application/json').send(text);
      return;
    }
  }
  res.json(body);
}

export function apiRouter(service: HistoryService, sched: Scheduler, extraSystem: () => Record<string, unknown> = () => ({}), onError: (e: unknown, req: Request) => void = () => {}): Router {
  const r = express.Router();
  for (const def of API_ROUTES) {
    const path = def.path.replace(/\{(\w+)\}/g, ':$1');
    r.get(path, async (req: Request, res: Response) => {
      const signal = clientGone(res);
      try {
        const p = validate(def.params, req.query as Record<string, unknown>, req.params as Record<string, string>);
        const out = def.handler(service, p);
        let body = isWork(out) ? await sched.run(out, signal, req.path) : out;
        if (def.path === '/api/v1/system') body = { ...(body as object), ...extraSystem() };
        // status routes: no file paths or error text without a token
        if (!res.locals.authed && (def.path === '/api/v1/system' || def.path === '/api/v1/health')) body = publicView(body);
        await sendJson(res, body, sched, signal);
      } catch (e) {
        if (!(e instanceof ParamError || e instanceof ServiceError || e instanceof Busy || e instanceof Cancelled)) onError(e, req);
        apiError(res, e);
      }
    });
  }
  return r;
}

/**
 * Paper trading API (the Enhanced Flow Trading System seed): GET status | account | positions | trades |
 * performance; POST start | stop | reset | trade (manual) | simulate-signals (simulator or replay sources
 * only). Every POST needs the API token (a static token or a short-lived one): without a configured
 * token nothing can mutate the account. Parameters come as query parameters or a JSON body; prices and
 * sizes are in price and instrument units.
 */
import express, { type Request, type Response } from 'express';
import type { HistoryService } from '../service/history.js';
import { ParamError, validate, type ParamSpec } from './params.js';

/** What the composition root gives the routes (engine/src/cli/wire.ts). */
export interface PaperControl {
  status(): Record<string, unknown>;
  account(): Record<string, unknown>;
  positions(symbol?: string): unknown[];
  trades(symbol?: string, limit?: number): unknown[];
  performance(): Record<string, unknown>;
  start(): Record<string, unknown>;
  stop(): Record<string, unknown>;
  reset(): Record<string, unknown>;
  /** open (side + qty or notional, optional stop/target in price units) or close (`close` = position id) at market */
  trade(o: { symbol: string; side?: 'buy' | 'sell'; qty?: number; notional?: number; stop?: number; target?: number; close?: string }): Record<string, unknown>;
  /** null when the data source is live (simulated signals only on simulator or replay sources) */
  simulateSignals(o: { symbol?: string; count: number; seed: number }): Record<string, unknown> | null;
}

const SYMBOL: ParamSpec = { name: 'symbol', type: 'string', maxLength: 80, description: 'instrument id' };
const TRADE: ParamSpec[] = [
  { ...SYMBOL, required: true },
  { name: 'side', type: 'string', enum: ['buy', 'sell'], description: 'open a position on this side' },
  { name: 'qty', type: 'number', min: 0, max: 1e12, description: 'quantity, instrument units' },
  { name: 'notional', type: 'number', min: 0, max: 1e12, description: 'or the notional, quote currency' },
  { name: 'stop', type: 'number', min: 0, max: 1e12, description: 'stop price (filled at the breaching trade)' },
  { name: 'target', type: 'number', min: 0, max: 1e12, description: 'target price (filled at the breaching trade)' },
  { name: 'close', type: 'string', maxLength: 40, pattern: /^paper:\d+$/, description: 'close this open position at market instead' },
];
const SIM: ParamSpec[] = [SYMBOL, { name: 'count', type: 'integer', min: 1, max: 100, default: 1, description: 'signals to simulate' }, { name: 'seed', type: 'integer', min: 0, max: 2 ** 31, default: 1, description: 'PRNG seed (sides)' }];

function params(req: Request): Record<string, unknown> {
  const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body as Record<string, unknown> : {};
  const out: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
  for (const [k, v] of Object.entries(body)) out[k] = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
  return out;
}

export function paperRouter(service: HistoryService): express.Router {
  const r = express.Router();
  const control = (res: Response): PaperControl | null => {
    const c = service.providers.paperControl;
    if (!c) res.status(404).json({ error: 'not found', param: null, reason: 'paper trading is off (config paper.enabled)' });
    return c ?? null;
  };
  const get = (path: string, specs: ParamSpec[], fn: (c: PaperControl, p: Record<string, unknown>) => unknown): void => {
    r.get(`/api/v1/paper/${path}`, (req, res) => {
      const c = control(res); if (!c) return;
      try { res.json(fn(c, validate(specs, req.query as Record<string, unknown>))); } catch (e) { fail(res, e); }
    });
  };
  const post = (path: string, specs: ParamSpec[], fn: (c: PaperControl, p: Record<string, unknown>, res: Response) => unknown): void => {
    r.post(`/api/v1/paper/${path}`, express.json({ limit: '16kb' }), (req, res) => {
      if (!res.locals.authed) { res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized', param: 'token', reason: 'changing the paper account needs the API token (server.token); none was given or none is configured' }); return; }
      const c = control(res); if (!c) return;
      try { const out = fn(c, validate(specs, params(req)), res); if (out !== undefined) res.json(out); } catch (e) { fail(res, e); }
    });
  };
  get('status', [], (c) => c.status());
  get('account', [], (c) => c.account());
  get('positions', [SYMBOL], (c, p) => ({ positions: c.positions(p.symbol as string | undefined) }));
  get('trades', [SYMBOL, { name: 'limit', type: 'integer', min: 1, max: 10_000, default: 500, description: 'most recent trades' }], (c, p) => ({ trades: c.trades(p.symbol as string | undefined, p.limit as number) }));
  get('performance', [], (c) => c.performance());
  post('start', [], (c) => c.start());
  post('stop', [], (c) => c.stop());
  post('reset', [], (c) => c.reset());
  post('trade', TRADE, (c, p, res) => {
    if (p.close === undefined && (p.side === undefined || (p.qty === undefined && p.notional === undefined))) throw new ParamError(400, 'side', 'an order needs side and qty (or notional), or close');
    const out = c.trade(p as Parameters<PaperControl['trade']>[0]);
    if (out.refused) { res.status(422).json(out); return undefined; }
    return out;
  });
  post('simulate-signals', SIM, (c, p, res) => {
    const out = c.simulateSignals(p as { symbol?: string; count: number; seed: number });
    if (out === null) { res.status(409).json({ error: 'conflict', param: null, reason: 'simulated signals are only accepted on simulator or replay sources, not on live data' }); return undefined; }
    return out;
  });
  return r;
}

function fail(res: Response, e: unknown): void {
  if (e instanceof ParamError) { res.status(e.status).json({ error: 'invalid parameter', param: e.param, reason: e.reason }); return; }
  res.status(500).json({ error: 'internal error', param: null, reason: 'the request failed inside the server (see the server log)' });
}

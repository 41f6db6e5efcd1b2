/**
 * The paper API's control surface over a PaperTrader (routes: datafeed-adapter/src/http/paper.ts).
 * Manual orders fill at the instrument's last trade price; simulated signals (simulator or replay
 * sources only) open seeded-side positions at the per-position limit with a stop 0.5 % away and a
 * target 1 % away, which fill at the breaching trade like every other paper exit.
 */
import type { HistoryService } from '../../../datafeed-adapter/src/service/history.js';
import type { PaperControl } from '../../../datafeed-adapter/src/http/paper.js';
import type { StreamServer } from '../../../datafeed-adapter/src/ws/server.js';
import { PaperTrader, type PaperEvent } from '../signals/paper.js';
import { Mulberry32 } from '../signals/types.js';

const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function paperControl(paper: PaperTrader, service: HistoryService, stream?: StreamServer): PaperControl {
  const a = paper.account;
  const view = (e: PaperEvent): Record<string, unknown> => {
    const out = { event: e.kind, instrument: e.instrument, ts: e.ts, id: e.tradeId, position: e.position ? { ...e.position, riskPerUnit: fin(e.position.riskPerUnit) } : null, fill: e.fill ? { ...e.fill, r: fin(e.fill.r) } : null, refused: e.reason ?? null };
    stream?.publish('trade_state', e.instrument, { paper: out });
    return out;
  };
  const status = (): Record<string, unknown> => ({ running: a.running, stopped: a.stopped, stoppedDay: a.stoppedDay >= 0 ? new Date(a.stoppedDay * 86_400_000).toISOString().slice(0, 10) : null, open: a.open.size, trades: a.fills.length, limits: { ...a.limits(), maxPositionPct: a.o.maxPositionPct, maxExposurePct: a.o.maxExposurePct, dailyLossPct: a.o.dailyLossPct }, source: liveSource() ? 'live' : 'simulator-or-replay' });
  const liveSource = (): boolean => { const f = service.providers.feeds?.(); return !!f && (f.mode ?? 'live') === 'live' && f.feeds.length > 0; };
  const nowOf = (instrument: string): number => a.marks.get(instrument)?.ts ?? 0;
  return {
    status,
    account: () => ({ initialBalance: a.o.initialBalance, balance: Math.round(a.balance * 100) / 100, equity: Math.round(a.equityNow() * 100) / 100, exposure: Math.round(a.exposure() * 100) / 100, running: a.running, stopped: a.stopped }),
    positions: (symbol) => [...a.open.values()].filter((p) => !symbol || p.instrument === symbol).map((p) => ({ ...p, riskPerUnit: fin(p.riskPerUnit), mark: a.marks.get(p.instrument)?.price ?? null })),
    trades: (symbol, limit = 500) => a.fills.filter((f) => !symbol || f.instrument === symbol).slice(-limit).map((f) => ({ ...f, r: fin(f.r) })),
    performance: () => a.performance(),
    start: () => { a.running = true; return status(); },
    stop: () => { a.running = false; return status(); },
    reset: () => { paper.reset(); return status(); },
    trade: (o) => view(paper.manual({ instrument: o.symbol, ts: nowOf(o.symbol), side: o.side, qty: o.qty, notional: o.notional, stop: o.stop, target: o.target, close: o.close })),
    simulateSignals: (o) => {
      if (liveSource()) return null;
      const ids = o.symbol ? [o.symbol] : [...a.marks.keys()].sort();
      const rng = new Mulberry32(o.seed);
      const events: Record<string, unknown>[] = [];
      for (let k = 0; k < o.count; k++) {
        const id = ids[k % Math.max(1, ids.length)];
        const m = id === undefined ? undefined : a.marks.get(id);
        if (!id || !m) { events.push({ event: 'refused', instrument: id ?? null, refused: 'no trade seen yet: no market price' }); continue; }
        const side = rng.next() < 0.5 ? 'buy' : 'sell';
        const s = side === 'buy' ? 1 : -1;
        const notional = a.limits().maxPositionNotional / (1 + a.o.slippageBps / 10_000);
        events.push(view(paper.manual({ instrument: id, ts: m.ts, side, notional, stop: m.price * (1 - s * 0.005), target: m.price * (1 + s * 0.01), source: 'simulated' })));
      }
      return { simulated: events.length, events };
    },
  };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { randomTape } from '../helpers/tape.js';
import type { SignalEvent } from '../../engine/src/signals/types.js';

let app: StartedApp;
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-paper-'));
const t0 = Date.UTC(2024, 0, 2, 10, 0);

beforeAll(async () => {
  writeFileSync(join(dir, 'cfg.yaml'), 'feeds: []\n');
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: null });
  for (const t of randomTape(3, 500, { start: t0, price: 600000 })) app.engine.onEvent({ ...t });
});
afterAll(async () => { await app.close(); });

describe('paper trading over HTTP and WebSocket (startApp)', () => {
  it('GET /api/v1/paper: an empty account before any entry', async () => {
    const r = await (await fetch(`${app.server.url}/api/v1/paper`)).json() as Record<string, any>;
    expect(r.available).toBe(true);
    expect(r.account).toMatchObject({ initialBalance: 10_000, balance: 10_000, exposure: 0, stopped: false });
    expect(r.limits).toMatchObject({ maxPositionPct: 2, maxExposurePct: 10, dailyLossPct: 5, maxPositionNotional: 200, maxTotalExposure: 1_000, dailyLossLimit: 500, notionalPerTrade: 1_000 });
    expect(r.open).toEqual([]);
    expect(r.analytics).toMatchObject({ trades: 0, winRate: 0 });
  });

  it('follows a strategy entry and exit; publishes the account action on trade_state', async () => {
    const ws = new WebSocket(`${app.server.url.replace('http', 'ws')}/ws`);
    const msgs: Record<string, any>[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (d) => { const m = unpack(d as Buffer) as Record<string, any>; msgs.push(m); if (m.op === 'subscribed' || (m.op === 'ack' && m.id === 2) || m.op === 'snapshot') resolve(); });
      ws.on('open', () => { ws.send(pack({ v: 1, op: 'hello', id: 1 })); ws.send(pack({ v: 1, op: 'subscribe', id: 2, ch: 'trade_state', sym: 'BTCUSDT' })); });
    });
    const s = app.signals.instruments.get('BTCUSDT')!;
    const m = s.machine;
    const px = m.lastPrice;
    const ts = m.lastTs + 1;
    m.setFraming(null, [{ kind: 'POC', price: px, strength: 90, sources: ['d'], merged: false, confluence: false } as never], null);
    m.onPrice(ts, px);
    expect(m.state).toBe('WATCHING');
    const abs: SignalEvent = { id: 'BTCUSDT:absorption/level:x', kind: 'absorption', variant: 'level', instrument: 'BTCUSDT', side: 'buy', priceLow: px, priceHigh: px, strength: 100, firstSeenAt: ts, confirmedAt: ts + 1, evidence: {}, reasoning: ['test'] };
    m.onSignal(abs, px);
    expect(m.state).toBe('POSITION_OPEN');
    const open = await (await fetch(`${app.server.url}/api/v1/paper?symbol=BTCUSDT`)).json() as Record<string, any>;
    expect(open.symbol).toBe('BTCUSDT');
    expect(open.open).toHaveLength(1);
    const entry = px / 10; // BTCUSDT tick 0.1
    expect(open.open[0]).toMatchObject({ instrument: 'BTCUSDT', side: 'buy' });
    expect(open.open[0].entry).toBeCloseTo(entry * (1 + 1 / 10_000), 6); // 1 bp slippage
    expect(open.account.exposure).toBeCloseTo(200, 2); // notionalPerTrade 1000 capped at 2 % of equity (slippage included)
    await new Promise((r) => setTimeout(r, 400)); // trade_state is conflated (latest every 250 ms)
    // target: +0.6 % without bias
    const tp = m.position!.tp;
    m.onPrice(ts + 10, tp);
    expect(m.state).toBe('CLOSED');
    const closed = await (await fetch(`${app.server.url}/api/v1/paper`)).json() as Record<string, any>;
    expect(closed.open).toEqual([]);
    expect(closed.fills).toHaveLength(1);
    expect(closed.fills[0].pnl).toBeGreaterThan(0);
    expect(closed.analytics).toMatchObject({ trades: 1, winRate: 1 });
    expect(closed.analytics.averageR).toBeGreaterThan(1.5); // 2R target less fees and slippage
    expect(closed.account.balance).toBeCloseTo(10_000 + closed.fills[0].pnl, 2);
    await new Promise((r) => setTimeout(r, 400));
    ws.close();
    const paperMsgs = msgs.filter((x) => x.op !== 'snapshot' && x.d?.item?.paper).map((x) => x.d.item.paper);
    expect(paperMsgs.map((p) => p.event)).toEqual(['open', 'close']);
    expect(paperMsgs[1].fill.pnl).toBe(closed.fills[0].pnl);
    expect(paperMsgs[1]).toMatchObject({ open: 0, stopped: false, exposure: 0, balance: closed.account.balance });
  });

  it('the route is in the OpenAPI document', async () => {
    const doc = await (await fetch(`${app.server.url}/openapi.json`)).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/api/v1/paper');
  });
});

/** Issue 19 §5: rule mode served — GET /api/v1/rule, the `rule` WS channel and the --json-signals hook, one decision stream. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { randomTape } from '../helpers/tape.js';

let app: StartedApp;
const printed: any[] = [];
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-rule-'));
beforeAll(async () => {
  writeFileSync(join(dir, 'cfg.yaml'), 'feeds: []\n');
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: null, onRule: (r) => printed.push(JSON.parse(JSON.stringify(r))) });
});
afterAll(async () => { await app.close(); });

describe('rule mode served', () => {
  it('each bar-close decision goes to /api/v1/rule, the rule channel and the JSON-lines hook, in the FlowSight shape', async () => {
    const ws = new WebSocket(`${app.server.url.replace('http', 'ws')}/ws`);
    const items: any[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (d) => { const m = unpack(d as Buffer) as Record<string, any>; if (m.d?.item) items.push(m.d.item); if (m.op === 'snapshot' || m.op === 'subscribed' || (m.op === 'ack' && m.id === 2)) resolve(); });
      ws.on('open', () => { ws.send(pack({ v: 1, op: 'hello', id: 1 })); ws.send(pack({ v: 1, op: 'subscribe', id: 2, ch: 'rule', sym: 'BTCUSDT' })); });
    });
    // ~15 minutes of trades: 1-minute bars close and rule mode decides at each close
    for (const t of randomTape(5, 4000, { start: Date.UTC(2024, 0, 2, 10, 0), price: 600000 })) app.engine.onEvent({ ...t });
    await new Promise((r) => setTimeout(r, 300));
    ws.close();
    expect(printed.length).toBeGreaterThan(5);
    const r = await (await fetch(`${app.server.url}/api/v1/rule?symbol=BTCUSDT&limit=500`)).json() as Record<string, any>;
    expect(r.available).toBe(true);
    expect(r.recent).toEqual(printed);
    expect(r.rule).toEqual(printed.at(-1));
    for (const d of printed) {
      expect(['LONG', 'SHORT', 'WAIT']).toContain(d.signal);
      expect(d.confidence).toBeGreaterThanOrEqual(0);
      expect(d.confidence).toBeLessThanOrEqual(100);
      expect(d.symbol).toBe('BTCUSDT');
      expect(Number.isFinite(Date.parse(d.timestamp))).toBe(true);
      expect(d.reasoning.length).toBeGreaterThan(0);
      expect(d).toHaveProperty('confidence_level');
      expect(d).toHaveProperty('metrics');
    }
    // the WS channel delivers every decision, unconflated
    expect(items).toEqual(printed);
    const limited = await (await fetch(`${app.server.url}/api/v1/rule?symbol=BTCUSDT&limit=2`)).json() as Record<string, any>;
    expect(limited.recent).toEqual(printed.slice(-2));
    expect((await fetch(`${app.server.url}/api/v1/rule`)).status).toBe(400);
  });
});

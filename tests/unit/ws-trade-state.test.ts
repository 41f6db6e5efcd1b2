/** trade_state items (lifecycle transitions, paper events) are each delivered, in order, never replaced by the next one. */
import { afterEach, describe, expect, it } from 'vitest';
import { startStream, TestClient, sleep, type Started } from '../browser/stream-support.js';

let s: Started | null = null;
let c: TestClient | null = null;
afterEach(async () => { c?.close(); await s?.server.close(); s = null; });

describe('trade_state channel', () => {
  it('delivers an ENTRY and the paper event right after it (same interval) as two updates; the snapshot keeps both', async () => {
    s = await startStream();
    c = await TestClient.open(s.url);
    const snap = await c.subscribe('trade_state', 'BTCUSDT');
    s.server.publish('trade_state', 'BTCUSDT', { from: 'WATCHING', to: 'POSITION_OPEN', ts: 1 });
    s.server.publish('trade_state', 'BTCUSDT', { paper: { event: 'open' } });
    s.server.publish('trade_state', 'BTCUSDT', { from: 'POSITION_OPEN', to: 'CLOSED', ts: 2 });
    await sleep(600);
    expect(c.updates(snap.sub).map((u) => u.d.item)).toEqual([
      { from: 'WATCHING', to: 'POSITION_OPEN', ts: 1 }, { paper: { event: 'open' } }, { from: 'POSITION_OPEN', to: 'CLOSED', ts: 2 },
    ]);
    const again = await c.subscribe('trade_state', 'BTCUSDT');
    expect(again.d.items.length).toBe(3);
  });
});

import { describe, expect, it } from 'vitest';
import { streamPerTest, TestClient, sleep, type Started } from '../browser/stream-support.js';

const rig = streamPerTest();
const client = rig.client;
let s: Started | null = null;

describe('ws fan-out: shared payloads, counted delivery', () => {
  it('small (copied) and large (shared buffer) updates sent in one pump arrive whole, in order, seq contiguous, on every subscription', async () => {
    s = await rig.start();
    const a = await client(s.url), b = await client(s.url);
    const subs: [TestClient, number][] = [];
    for (const c of [a, b, b]) subs.push([c, (await c.subscribe('signal', 'ETHUSDT')).sub]); // b holds two (multiplexing)
    // sizes around the share threshold and both WebSocket length forms (16-bit, 64-bit)
    const sizes = [10, 5000, 300, 4090, 4100, 70_000, 20, 130_000, 1];
    const items = sizes.map((n, k) => ({ k, pad: 'x'.repeat(n) }));
    for (const it of items) s.server.publish('signal', 'ETHUSDT', it); // synchronously: one pump per connection
    for (const [c, sub] of subs) {
      await c.next((m) => m.sub === sub && m.op === 'update' && m.seq === items.length);
      const got = c.updates(sub);
      expect(got.map((m) => m.seq)).toEqual(items.map((_, k) => k + 1));
      expect(got.map((m) => m.d.item)).toEqual(items);
    }
    const d = s.server.stats().delivery;
    expect(d.messages).toBeGreaterThanOrEqual(3 * items.length + 3); // + the 3 snapshots
    expect(d.sendDelayMs.n).toBe(3 * items.length); // signals are never conflated: each is timed
    expect(d.sendDelayMs.p99).not.toBeNull();
    expect(d.bytes).toBeGreaterThan(3 * sizes.reduce((x, y) => x + y, 0));
    expect(d.congested).toBe(0);
  });

  it('counts conflated latest-state updates of a client that stops reading, and reports it congested', async () => {
    // bias: a latest-state channel (trade_state items are delivered each, never conflated, since issue 17)
    s = await rig.start({ highWaterBytes: 1024, stallTimeoutMs: 60_000, maxQueueBytes: 1 << 30, maxBufferedBytes: 1 << 30, intervals: { bias: 10 } });
    const c = await client(s.url);
    await c.subscribe('bias', 'ETHUSDT');
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    // latest-state items of 500 KB every ~15 ms: the kernel's socket buffers fill, then the queue conflates
    const big = 'y'.repeat(500_000);
    for (let k = 0; k < 80; k++) { s.server.publish('bias', 'ETHUSDT', { k, big }); await sleep(15); }
    await sleep(100);
    const d = s.server.stats().delivery;
    expect(d.conflated).toBeGreaterThan(0);
    expect(d.congested).toBe(1);
  });
});

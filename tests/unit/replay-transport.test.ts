/** The replay transport (`replay --serve` → /replay): pause holds the feed, seek feeds forward at once and refuses going back, speed re-anchors pacing. */
import { describe, expect, it } from 'vitest';
import { feedEvents } from '../../datafeed-adapter/src/service/serve-replay.js';
import { transport } from '../../engine/src/cli/commands/replay-transport.js';
import type { MarketEvent } from '../../engine/src/core/events.js';

const T0 = Date.UTC(2024, 7, 8, 23, 54);
// one event per second of data for an hour
const events = Array.from({ length: 3600 }, (_, i) => ({ type: 'trade', ts: T0 + i * 1000 }) as unknown as MarketEvent);
const post = (body: unknown): Request => new Request('http://x/replay', { method: 'POST', body: JSON.stringify(body) });

describe('replay transport', () => {
  it('pauses, seeks forward only, changes speed and plays on', async () => {
    const seen: number[] = [];
    const f = feedEvents(events, (e) => seen.push(e.ts), 1);
    await new Promise((r) => setTimeout(r, 50));
    let s = await (await transport(post({ op: 'pause' }), () => f)).json();
    expect(s.playing).toBe(false);
    const fed = s.fed;
    await new Promise((r) => setTimeout(r, 1200));
    expect(f.status().fed).toBe(fed);
    s = await (await transport(post({ op: 'seek', ts: T0 + 600_000 }), () => f)).json();
    expect(s.fed).toBe(601);
    expect(s.position).toBe(T0 + 600_000);
    expect(seen[seen.length - 1]).toBe(T0 + 600_000);
    const back = await transport(post({ op: 'seek', ts: T0 + 1000 }), () => f);
    expect(back.status).toBe(409);
    expect((await transport(post({ op: 'speed', speed: -1 }), () => f)).status).toBe(400);
    expect((await transport(post({ op: 'jump' }), () => f)).status).toBe(400);
    await transport(post({ op: 'speed', speed: 'max' }), () => f);
    s = await (await transport(post({ op: 'play' }), () => f)).json();
    expect(s.speed).toBe('max');
    expect((await f.done).events).toBe(3600);
    expect(seen).toEqual(events.map((e) => e.ts)); // every event once, in order
    const g = await (await transport(new Request('http://x/replay'), () => f)).json();
    expect(g).toMatchObject({ available: true, done: true, fed: 3600, total: 3600 });
    expect((await transport(new Request('http://x/replay'), () => null)).status).toBe(503);
  });

  it('hands a backward seek to the rewind (replay --serve re-runs from the start) and answers its status', async () => {
    const seen: number[] = [];
    let f = feedEvents(events, (e) => seen.push(e.ts), 'max', undefined, { paused: true });
    expect(seen.length).toBe(0); // created paused: nothing fed
    await transport(post({ op: 'seek', ts: T0 + 600_000 }), () => f);
    expect(seen.length).toBe(601);
    const rewind = async (ts: number) => {
      f.stop();
      seen.length = 0;
      f = feedEvents(events, (e) => seen.push(e.ts), 'max', undefined, { paused: true });
      f.seek(ts);
      return f;
    };
    const r = await transport(post({ op: 'seek', ts: T0 + 10_000 }), () => f, rewind);
    expect(r.status).toBe(200);
    const s = await r.json();
    expect(s).toMatchObject({ available: true, rewound: true, fed: 11, position: T0 + 10_000, playing: false });
    expect(seen).toEqual(events.slice(0, 11).map((e) => e.ts));
  });
});

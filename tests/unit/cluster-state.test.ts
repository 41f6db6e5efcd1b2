/**
 * The engine node's checkpoint image (engine/src/cluster/state-image.ts, instrument-state.ts): an
 * InstrumentState imaged mid-stream, msgpack-encoded (as stored in KV), restored into a freshly wired
 * twin and fed the rest of the stream gives exactly the outputs (bars with checksums, footprints,
 * profiles, signals, trade states) and final checksum of an uninterrupted run — with an L2 book
 * (simulator snapshot + deltas) in the state. No NATS here: the cluster test covers the transport.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, buildRegistry } from '../../engine/src/config/index.js';
import { MarketSimulator } from '../../engine/src/sim/simulator.js';
import type { MarketEvent } from '../../engine/src/core/events.js';
import { InstrumentState, fixedObjects } from '../../engine/src/cluster/instrument-state.js';
import { clusterConfigYaml, clusterInstrument } from '../../engine/src/cluster/tapes.js';
import { decode, encode, type OutKind } from '../../engine/src/cluster/subjects.js';
import { captureImage, restoreImage } from '../../engine/src/cluster/state-image.js';

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-state-'));
  const cfg = join(dir, 'c.yaml');
  writeFileSync(cfg, clusterConfigYaml({ servers: ['nats://127.0.0.1:1'], instruments: 1 }));
  const config = await loadConfig(cfg);
  rmSync(dir, { recursive: true, force: true });
  return { config, registry: buildRegistry(config) };
}

function tape(id: string, minutes: number): MarketEvent[] {
  const sim = new MarketSimulator({ seed: 7, instrument: id, startTs: Date.UTC(2026, 10, 2, 23, 30), startPrice: 500_000, durationMs: minutes * 60_000, scenario: 'random', eventsPerHour: 12 });
  const evs: MarketEvent[] = [sim.bookSnapshot() as MarketEvent];
  sim.run((ev) => { evs.push({ ...ev } as MarketEvent); });
  return evs;
}

type Log = { kind: OutKind; body: Record<string, unknown> }[];

describe('cluster checkpoint image', () => {
  it('restored mid-stream, continues with the uninterrupted run\'s outputs and checksum', async () => {
    const { config, registry } = await setup();
    const id = clusterInstrument(0);
    // taken before any event, as an engine node does at start
    const fixed = fixedObjects(registry);
    const evs = tape(id, 90); // crosses 00:00 UTC: a new session, profile and CVD reset after the cut
    expect(evs.length).toBeGreaterThan(5000);
    const full: Log = [];
    const a = new InstrumentState(id, registry, config, (kind, body) => full.push({ kind, body }));
    evs.forEach((ev, i) => a.onEvent(ev, i + 1));
    expect(full.filter((o) => o.kind === 'bar').length).toBeGreaterThan(80);
    expect(full.some((o) => o.kind === 'signal')).toBe(true);
    expect(a.shape().l2).toBe(true);

    for (const cut of [Math.floor(evs.length / 3), Math.floor((evs.length * 2) / 3)]) {
      const before: Log = [];
      const b = new InstrumentState(id, registry, config, (kind, body) => before.push({ kind, body }));
      evs.slice(0, cut).forEach((ev, i) => b.onEvent(ev, i + 1));
      const bytes = encode(b.image(fixed));
      const after: Log = [];
      const c = InstrumentState.restore(id, registry, config, (kind, body) => after.push({ kind, body }), decode(bytes), b.shape(), fixed);
      expect(c.meta.seq).toBe(cut);
      expect(c.checksum()).toBe(b.checksum());
      evs.slice(cut).forEach((ev, i) => c.onEvent(ev, cut + i + 1));
      expect(c.checksum()).toBe(a.checksum());
      const got = JSON.parse(JSON.stringify([...before, ...after])), want = JSON.parse(JSON.stringify(full));
      const at = got.findIndex((g: unknown, i: number) => JSON.stringify(g) !== JSON.stringify(want[i]));
      if (at >= 0) console.log('FIRST DIFF', at, before.length, JSON.stringify(got[at]).slice(0, 400), JSON.stringify(want[at]).slice(0, 400));
      expect(got).toEqual(want);
      // the restored state images to the same bytes as the uninterrupted one
      expect(Buffer.from(encode(c.image(fixed))).equals(Buffer.from(encode(a.image(fixed))))).toBe(true);
    }
  });

  it('keeps shared buffers shared, cycles, -0 and undefined; fails loudly on state it cannot restore', () => {
    class Holder { buf = new Float64Array(8); view = this.buf.subarray(2, 4); self: Holder | null = null; z = -0; u: undefined = undefined; fn = () => 1; }
    const h = new Holder();
    h.self = h; h.view[0] = 5;
    const img = decode(encode(captureImage({ h })));
    const twin = { h: new Holder() };
    const keepFn = twin.h.fn;
    restoreImage(twin, img, new Map());
    expect(twin.h.self).toBe(twin.h);
    expect(twin.h.buf[2]).toBe(5);
    twin.h.view[1] = 9;
    expect(twin.h.buf[3]).toBe(9);
    expect(Object.is(twin.h.z, -0)).toBe(true);
    expect('u' in twin.h && twin.h.u === undefined).toBe(true);
    expect(twin.h.fn).toBe(keepFn);
    // a class the twin lacks and the class list does not name
    expect(() => restoreImage({ h: null }, img, new Map())).toThrow(/class Holder at root\.h is not in the restore class list/);
    // a function the twin does not have (state in a closure)
    const img2 = captureImage({ l: [() => 1] });
    expect(() => restoreImage({ l: [] }, img2, new Map())).toThrow(/a function at root\.l\[0\]/);
  });
});

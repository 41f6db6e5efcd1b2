/**
 * Simulator-made tapes for the cluster test, bench and `npm run cluster`: one generic-CSV trade
 * file per instrument (CLUSTER01…), and a config declaring those instruments. Made here so nothing
 * reads ../shared for a unit test or a local try-out.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MarketSimulator } from '../sim/simulator.js';

export const clusterInstrument = (i: number): string => `CLUSTER${String(i + 1).padStart(2, '0')}`;

/** Write `instruments` files of `minutes` of simulated trading each; returns their paths. */
export function writeClusterTapes(dir: string, o: { instruments: number; minutes: number; seed?: number }): string[] {
  const files: string[] = [];
  for (let i = 0; i < o.instruments; i++) {
    const id = clusterInstrument(i);
    const sim = new MarketSimulator({ seed: (o.seed ?? 21) * 1000 + i, instrument: id, startTs: Date.UTC(2026, 10, 2, 14, 0), startPrice: 500_000 + i * 1000, durationMs: o.minutes * 60_000, scenario: 'random', eventsPerHour: 6 });
    const lines = ['time,symbol,price,qty,side,id'];
    sim.run((ev) => {
      if (ev.type !== 'trade') return;
      lines.push(`${ev.ts},${id},${(ev.price / 100).toFixed(2)},${(ev.size / 1000).toFixed(3)},${ev.side === 'buy' ? 'buy' : 'sell'},${ev.id}`);
    });
    const f = join(dir, `${id.toLowerCase()}.csv`);
    writeFileSync(f, lines.join('\n') + '\n');
    files.push(f);
  }
  return files;
}

/** YAML config of a local cluster over those instruments. */
export function clusterConfigYaml(o: { servers: string[]; instruments: number; leaseTtlMs?: number; snapshotEveryMs?: number }): string {
  const ids = Array.from({ length: o.instruments }, (_, i) => clusterInstrument(i));
  return [
    'instruments:',
    ...ids.map((id) => `  - id: ${id}\n    venue: sim\n    tickSize: "0.01"\n    profileRow: "0.10"\n    footprintRow: "0.05"\n    lotStep: "0.001"\n    assetClass: crypto`),
    'paper:\n  enabled: false',
    'log:\n  level: warn',
    'cluster:',
    `  servers: [${o.servers.map((s) => JSON.stringify(s)).join(', ')}]`,
    `  instruments: [${ids.join(', ')}]`,
    `  leaseTtlMs: ${o.leaseTtlMs ?? 3000}`,
    `  snapshotEveryMs: ${o.snapshotEveryMs ?? 2000}`,
    '',
  ].join('\n');
}

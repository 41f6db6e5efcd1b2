/**
 * The seed preset's config keys (issue 20 §3): ruleMode.preset / ruleMode.seed.{minConfidence,maxDailySignals},
 * checked by config validation (`tapeflow config check`); in live rule mode (`ruleMode.preset: seed`) its
 * evaluations are what /api/v1/rule, the `rule` WS channel and the --json-signals hook serve; `tapeflow backtest`
 * evaluates it with the configured minimum confidence and daily cap.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { validateConfig } from '../../engine/src/config/index.js';
import { startApp } from '../../engine/src/cli/commands/start.js';
import { runBacktest } from '../../engine/src/cli/commands/backtest.js';
import { parseInstrumentsCsv } from '../../engine/src/venues/kite/instruments.js';
import { istDay } from '../../engine/src/signals/pcr.js';
import { randomTape } from '../helpers/tape.js';
import { KITE_CSV_HEADER, kiteTapeFromSim } from '../helpers/kite.js';

const dir = mkdtempSync(join(tmpdir(), 'tapeflow-seed-rule-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ruleMode config keys', () => {
  it('defaults, valid values and clear errors', () => {
    expect(validateConfig({}).config!.ruleMode).toEqual({ preset: 'flowsight', seed: { minConfidence: 7, maxDailySignals: 5 } });
    expect(validateConfig({ ruleMode: { preset: 'seed', seed: { minConfidence: 6.5 } } }).config!.ruleMode).toEqual({ preset: 'seed', seed: { minConfidence: 6.5, maxDailySignals: 5 } });
    const bad = validateConfig({ ruleMode: { preset: 'dashboard', seed: { minConfidence: 11, maxDailySignals: 0 } } });
    expect(bad.errors.map((e) => e.path)).toEqual(['ruleMode.preset', 'ruleMode.seed.minConfidence', 'ruleMode.seed.maxDailySignals']);
  });
});

describe('live rule mode with the seed preset', () => {
  it('serves the seed evaluations (not FlowSight) on /api/v1/rule, the rule channel and the JSON-lines hook', async () => {
    writeFileSync(join(dir, 'live.yaml'), 'feeds: []\nruleMode: { preset: seed, seed: { minConfidence: 5, maxDailySignals: 3 } }\n');
    const printed: any[] = [];
    const app = await startApp({ config: join(dir, 'live.yaml'), port: 0, storePath: null, onRule: (r) => printed.push(JSON.parse(JSON.stringify(r))) });
    try {
      const ws = new WebSocket(`${app.server.url.replace('http', 'ws')}/ws`);
      const items: any[] = [];
      await new Promise<void>((resolve, reject) => {
        ws.on('error', reject);
        ws.on('message', (d) => { const m = unpack(d as Buffer) as Record<string, any>; if (m.d?.item) items.push(m.d.item); if (m.op === 'snapshot') resolve(); });
        ws.on('open', () => { ws.send(pack({ v: 1, op: 'hello', id: 1 })); ws.send(pack({ v: 1, op: 'subscribe', id: 2, ch: 'rule', sym: 'BTCUSDT' })); });
      });
      for (const t of randomTape(5, 4000, { start: Date.UTC(2024, 0, 2, 10, 0), price: 600000 })) app.engine.onEvent({ ...t });
      await new Promise((r) => setTimeout(r, 300));
      ws.close();
      expect(printed.length).toBeGreaterThan(5); // one evaluation per closed bar after the 5-bar lookback
      const r = await (await fetch(`${app.server.url}/api/v1/rule?symbol=BTCUSDT&limit=500`)).json() as Record<string, any>;
      expect(r.available).toBe(true);
      expect(r.recent).toEqual(printed);
      expect(items).toEqual(printed);
      for (const d of printed) {
        expect(d).toMatchObject({ preset: 'seed', symbol: 'BTCUSDT', confidence_scale: 10 });
        expect(['ACCUMULATION', 'DISTRIBUTION', 'BUY', 'SELL', 'NONE']).toContain(d.signal);
        expect(d.confidence).toBeGreaterThanOrEqual(0);
        expect(d.confidence).toBeLessThanOrEqual(10);
        expect(d.emitted).toBe(d.signal !== 'NONE' && d.confidence >= 5 && !d.reasoning.some((x: string) => x.startsWith('not emitted')));
        expect(d.reasoning.some((x: string) => x.startsWith('visible flow'))).toBe(true);
        expect(Object.keys(d.components)).toEqual(['baseType', 'pcrConfirmation', 'orderImbalance', 'institutionalStrength', 'volumeSurge']);
      }
      // no book on this tape: no institutional ratio, no PCR, so no call qualifies — every evaluation says why
      expect(printed.every((d) => d.signal === 'NONE' && d.reasoning.includes('institutional ratio unknown (no book)'))).toBe(true);
    } finally { await app.close(); }
  });
});

describe('backtest with the configured seed gate', () => {
  it('minConfidence and maxDailySignals from the config decide which calls are evaluated', async () => {
    const T0 = Date.UTC(2026, 11, 4, 3, 45);
    const tape = kiteTapeFromSim({ seed: 3, token: 738561, startTs: T0, durationMs: 3 * 3_600_000, intervalMs: 1000, startTicks: 28_250, paisePerTick: 5 });
    const rows = parseInstrumentsCsv(`${KITE_CSV_HEADER}\n738561,2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE`).instruments;
    const lines = [JSON.stringify({ recv: T0, venue: 'kite', frame: { kite: 'instruments', rows } }),
      ...tape.messages.map((m) => JSON.stringify({ recv: m.t, venue: 'kite', frame: { kite: 'bin', b64: Buffer.from(m.bytes).toString('base64') } }))];
    const file = join(dir, 'kite.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    const run = async (seed: Record<string, number>) => {
      const c = validateConfig({ ruleMode: { seed } });
      expect(c.errors).toEqual([]);
      return runBacktest([file], { config: c.config!, eval: { horizonMs: 10 * 60_000, resamples: 200, baselineDraws: 10 } });
    };
    const strict = await run({});
    const loose = await run({ minConfidence: 4, maxDailySignals: 1000 });
    const capped = await run({ minConfidence: 4, maxDailySignals: 2 });
    const n = (r: typeof strict): number => r.report.signalTypes.filter((g) => g.group.startsWith('seed:')).reduce((s, g) => s + g.count + g.skipped, 0);
    console.log(`seed gate in the backtest: default (7, 5) ${JSON.stringify(strict.seedPreset)}; (4, 1000) ${JSON.stringify(loose.seedPreset)}; (4, 2) ${JSON.stringify(capped.seedPreset)}`);
    // the same evaluations every time; only the gate differs
    expect(loose.seedPreset!.calls).toBe(strict.seedPreset!.calls);
    expect(strict.seedPreset!.emitted).toBe(0); // without a PCR no call reaches 7 on this tape
    expect(loose.seedPreset!.emitted).toBeGreaterThan(2);
    expect(n(loose)).toBe(loose.seedPreset!.emitted); // every emitted call is a seed:* entry of the evaluation
    expect(capped.seedPreset!.emitted).toBe(2); // one IST day: the cap of 2
    expect(istDay(T0)).toBe(istDay(T0 + 3 * 3_600_000));
    expect(n(capped)).toBe(2);
  }, 180_000);
});

import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/data.js';
import { rng } from '../helpers/tape.js';
import { commands } from '../../engine/src/cli/commands/index.js';

const BIN = join(REPO_ROOT, 'bin', 'tapeflow.js');
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-cli-'));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  // a generic CSV tape: 3 minutes of trades with a known total
  const r = rng(42);
  const lines = ['time,price,qty,side'];
  let t = Date.UTC(2024, 0, 2, 10, 0), p = 42000;
  for (let i = 0; i < 3000; i++) { t += 59; p += Math.round((r() - 0.5) * 4) / 10; lines.push(`${t},${p.toFixed(1)},0.010,${r() < 0.5 ? 'buy' : 'sell'}`); }
  writeFileSync(join(dir, 'tape.csv.gz'), gzipSync(lines.join('\n') + '\n'));
  writeFileSync(join(dir, 'bad.csv'), ['time,price,qty,side', `${Date.UTC(2024, 0, 2)},42000.0,0.010,buy`, 'not,a,row,at all', `${Date.UTC(2024, 0, 2) + 1},42000.1,0.020,sell`].join('\n'));
});

describe('tapeflow replay', () => {
  it('prints the figures as JSON and two runs give the same checksum', () => {
    const a = cli(['replay', join(dir, 'tape.csv.gz'), '--instrument', 'BTCUSDT', '--timeframe', '1m', '--json']);
    expect(a.code).toBe(0);
    const j = JSON.parse(a.out);
    const i = j.instruments[0];
    expect(i.instrument).toBe('BTCUSDT');
    expect(i.trades).toBe(3000);
    expect(i.volume).toBe(30); // 3000 × 0.010
    expect(i.bars).toBe(3);
    expect(i.buyVolume + i.sellVolume).toBeCloseTo(30, 9);
    expect(i.cvd).toBeCloseTo(i.buyVolume - i.sellVolume, 9);
    expect(i.sessionProfile.poc).toBeGreaterThan(0);
    expect(i.sessionProfile.vah).toBeGreaterThanOrEqual(i.sessionProfile.val);
    expect(i.vwap.upper[0]).toBeGreaterThan(i.vwap.vwap);
    expect(i.checksum).toMatch(/^[0-9a-f]{16}$/);
    const b = JSON.parse(cli(['replay', join(dir, 'tape.csv.gz'), '--instrument', 'BTCUSDT', '--timeframe', '1m', '--json']).out);
    expect(b.checksum).toBe(j.checksum);
    expect(b.instruments[0].checksum).toBe(i.checksum);
  });

  it('a bad line is reported with file and line, counted and skipped; --strict stops', () => {
    const a = cli(['replay', join(dir, 'bad.csv'), '--instrument', 'BTCUSDT', '--json']);
    expect(a.code).toBe(0);
    expect(a.err).toMatch(/bad\.csv:3: /);
    const j = JSON.parse(a.out);
    expect(j.badLines).toBe(1);
    expect(j.instruments[0].trades).toBe(2);
    const s = cli(['replay', join(dir, 'bad.csv'), '--instrument', 'BTCUSDT', '--strict']);
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/bad\.csv:3: /);
  });

  it('prints a readable table by default', () => {
    const a = cli(['replay', join(dir, 'tape.csv.gz'), '--instrument', 'BTCUSDT']);
    expect(a.out).toMatch(/BTCUSDT\s+\[orderflow\]\s+1m bars: 3/);
    expect(a.out).toMatch(/POC \d+/);
    expect(a.out).toMatch(/checksum \(all instruments\): [0-9a-f]{16}/);
  });

  it('rejects unknown options and instruments with a usage error', () => {
    expect(cli(['replay', join(dir, 'tape.csv.gz'), '--frobnicate']).code).toBe(2);
    const u = cli(['replay', join(dir, 'tape.csv.gz'), '--instrument', 'NOPE']);
    expect(u.code).toBe(1);
    expect(u.err).toMatch(/unknown instrument "NOPE"/);
  });
});

describe('tapeflow replay --config', () => {
  it('takes analytics options and instrument overrides from the YAML file; flags override it', () => {
    writeFileSync(join(dir, 'cfg.yaml'), 'analytics:\n  timeframe: 5m\ninstruments:\n  - id: BTCUSDT\n    footprintRow: "1.0"\n');
    const a = JSON.parse(cli(['replay', join(dir, 'tape.csv.gz'), '--instrument', 'BTCUSDT', '--config', join(dir, 'cfg.yaml'), '--json']).out);
    expect(a.instruments[0].timeframe).toBe('5m');
    expect(a.instruments[0].bars).toBe(1);
    const b = JSON.parse(cli(['replay', join(dir, 'tape.csv.gz'), '--instrument', 'BTCUSDT', '--config', join(dir, 'cfg.yaml'), '--timeframe', '1m', '--json']).out);
    expect(b.instruments[0].bars).toBe(3);
    const plain = JSON.parse(cli(['replay', join(dir, 'tape.csv.gz'), '--instrument', 'BTCUSDT', '--timeframe', '1m', '--json']).out);
    expect(b.instruments[0].checksum).not.toBe(plain.instruments[0].checksum); // 1.0 rows instead of 5.0
  });

  it('an invalid config stops with every error named by key path', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'analytics:\n  timeframe: 5m\n  valueAreaPct: 7\nserver:\n  prot: 1\n');
    const r = cli(['replay', join(dir, 'tape.csv.gz'), '--config', join(dir, 'bad.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/analytics\.valueAreaPct/);
    expect(r.err).toMatch(/server\.prot/);
  });
});

describe('--help on every command', () => {
  it('the top level lists the commands', () => {
    const h = cli(['--help']);
    expect(h.code).toBe(0);
    for (const c of commands) expect(h.out).toContain(c.name);
  });
  it.each(commands.map((c) => c.name))('%s --help prints its usage', (name) => {
    const h = cli([name, '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/Usage: tapeflow /);
  });
});

/**
 * `tapeflow record --venue kite` as a user runs it (bin/tapeflow.js) against a loopback Kite Ticker, while an
 * in-process live Engine listens to the same Ticker; `tapeflow replay` of the recording gives the live engine's
 * checksum. With `--config`, the config's kite section (holidays, PCR chain) goes into the recording.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT } from '../helpers/data.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { BookManager } from '../../engine/src/book/manager.js';
import { FeedManager } from '../../engine/src/feeds/manager.js';
import { FakeVenue, waitFor } from '../../engine/src/feeds/testing.js';
import { chainCsv, chainMessage } from '../helpers/kite-chain.js';
import { kiteTapeFromSim } from '../helpers/kite.js';

const BIN = join(REPO_ROOT, 'bin', 'tapeflow.js');
const TOKEN = 738561;
const T0 = Date.UTC(2026, 11, 4, 4, 0, 0);
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

describe('tapeflow record --venue kite', () => {
  it('records a loopback Kite Ticker; tapeflow replay of the files = the live engine checksum', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-kite-rec-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'i.csv'), `${chainCsv()}\n${TOKEN},2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE\n`);
    const kite = { holidays: ['2026-12-25'], pcr: { underlying: 'NIFTY', spot: 'NSE:NIFTY 50', strikes: 1 } };
    writeFileSync(join(dir, 'cfg.yaml'), `feeds:\n  - venue: kite\n    symbols: ["NSE:RELIANCE"]\n    kite: ${JSON.stringify(kite)}\n`);
    const env = { ...process.env, KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 't', KITE_INSTRUMENTS: join(dir, 'i.csv') };
    const saved = { ...process.env };
    Object.assign(process.env, { KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 't', KITE_INSTRUMENTS: join(dir, 'i.csv') });
    cleanup.push(() => { for (const k of ['KITE_API_KEY', 'KITE_ACCESS_TOKEN', 'KITE_INSTRUMENTS']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; });
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    // the live engine of this process, on the same Ticker
    const registry = new InstrumentRegistry();
    const engine = new Engine(registry, { timeframe: '1m', align: 'utc', cvdReset: 'session' });
    let feeds!: FeedManager;
    const books = new BookManager({ registry, emit: engine.onEvent, onResync: (r) => feeds.onResync(r) });
    engine.observe(books.onEvent);
    let liveVolume = 0;
    engine.observe((ev) => { if (ev.type === 'trade' && ev.instrument === 'KITE:NSE:RELIANCE') liveVolume += ev.size; });
    feeds = FeedManager.fromConfig([{ venue: 'kite', symbols: ['NSE:RELIANCE'], wsUrl: v.wsBase, kite }], { registry, sink: engine.onEvent });
    cleanup.push(() => feeds.stop());
    await feeds.start();
    const a = await v.connection(1);

    const child = spawn(process.execPath, [BIN, 'record', '--venue', 'kite', '--symbols', 'NSE:RELIANCE', '--ws-url', v.wsBase, '--config', join(dir, 'cfg.yaml'), '--out', dir, '--prefix', 'kite', '--duration', '6'], { cwd: REPO_ROOT, env });
    cleanup.push(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { err += String(d); });
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    const b = await v.connection(2, 15_000);
    await waitFor(() => v.received.length >= 6, [v], 15_000, 'both clients subscribed');
    expect(v.connectionUrls[1]).toBe('/?api_key=k&access_token=t');
    const tape = kiteTapeFromSim({ seed: 9, token: TOKEN, startTs: T0, durationMs: 3 * 60_000, intervalMs: 1000, startTicks: 28_250, paisePerTick: 5 });
    const both = (bytes: Uint8Array): void => { a.send(Buffer.from(bytes)); b.send(Buffer.from(bytes)); };
    both(chainMessage(26_040, 0, T0 / 1000));
    for (const m of tape.messages) both(m.bytes);
    await new Promise((r) => setTimeout(r, 1100));
    both(chainMessage(26_040, 6000, T0 / 1000 + 180));
    const vol = (k: number): number => new DataView(tape.messages[k]!.bytes.buffer).getUint32(4 + 16);
    await waitFor(() => liveVolume === vol(tape.messages.length - 1) - vol(0), [feeds.feeds[0]!], 10_000, 'live engine got every snapshot');
    const code = await exited;
    expect(code, err).toBe(0);
    expect(out).toMatch(/^recording kite NSE:RELIANCE/);
    const m = /recorded (\d+) frames \((\d+) malformed, (\d+) reconnects, (\d+) gaps\) into:\n((?:\s+\S+\n?)+)/.exec(out);
    expect(m, out).not.toBeNull();
    expect([Number(m![1]), Number(m![2])]).toEqual([1 + 2 + tape.messages.length, 0]); // instruments frame + 2 chain + tape
    const files = m![5]!.trim().split(/\s+/);
    // the first line holds the instruments, the holidays and the PCR chain
    const first = JSON.parse(gunzipSync(readFileSync(files[0]!)).toString('utf8').split('\n')[0]!) as { frame: Record<string, any> };
    expect(first.frame).toMatchObject({ kite: 'instruments', holidays: ['2026-12-25'], pcr: { underlying: 'NIFTY', symbol: 'KITE:NSE:NIFTY 50', strikes: 1 } });
    engine.finish();
    const rep = spawnSync(process.execPath, [BIN, 'replay', ...files, '--timeframe', '1m', '--json'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(rep.status, rep.stderr).toBe(0);
    const j = JSON.parse(rep.stdout) as { checksum: string; badLines: number; instruments: { instrument: string; trades: number }[] };
    expect(j.badLines).toBe(0);
    expect(j.instruments.find((i) => i.instrument === 'KITE:NSE:RELIANCE')!.trades).toBeGreaterThan(100);
    expect(j.checksum).toBe(engine.checksum());
  }, 60_000);
});

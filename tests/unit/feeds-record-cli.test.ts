/**
 * `tapeflow record` as a user runs it (bin/tapeflow.js, dist built by the global setup) against a loopback
 * Binance USD-M double, while an in-process live Engine listens to the same venue; `tapeflow replay` of the
 * recording must give the live engine's checksum. Bad flags → exit 2 with the usage text.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/data.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { BookManager } from '../../engine/src/book/manager.js';
import { FeedManager } from '../../engine/src/feeds/manager.js';
import { FakeVenue, binance, waitFor } from '../../engine/src/feeds/testing.js';
import { LIVE_VENUES } from '../../engine/src/venues/registry.js';

const BIN = join(REPO_ROOT, 'bin', 'tapeflow.js');
const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tapeflow record', () => {
  it('records a loopback Binance USD-M venue; tapeflow replay of the files = the live engine checksum', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-record-cli-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const v = await FakeVenue.start();
    v.binanceRouting = true; // depth/bookTicker on /public, trades on /market, nothing on the retired root
    cleanup.push(() => v.close());
    v.routes.set('/fapi/v1/depth', (url) => ({ body: binance.snapshot(10, [['59990.0', '1.000'], ['59989.0', '4.000']], [['60010.0', '1.000']], T0), headers: { 'x-symbol': url.searchParams.get('symbol')! } }));
    // the live engine of this process, on the same venue
    const registry = new InstrumentRegistry();
    const engine = new Engine(registry, { timeframe: '1m', align: 'utc', cvdReset: 'session' });
    let feeds!: FeedManager;
    const books = new BookManager({ registry, emit: engine.onEvent, onResync: (r) => feeds.onResync(r) });
    engine.observe(books.onEvent);
    let liveTrades = 0;
    engine.observe((ev) => { if (ev.type === 'trade') liveTrades++; });
    feeds = FeedManager.fromConfig([{ venue: 'binance-usdm', symbols: ['BTCUSDT'], wsUrl: `${v.wsBase}/stream`, restUrl: v.restUrl }], { registry, sink: engine.onEvent });
    cleanup.push(() => feeds.stop());
    await feeds.start();
    await v.connection(2);

    const child = spawn(process.execPath, [BIN, 'record', '--venue', 'binance-usdm', '--symbols', 'BTCUSDT', '--ws-url', `${v.wsBase}/stream`, '--rest-url', v.restUrl, '--out', dir, '--prefix', 'cli', '--duration', '4'], { cwd: REPO_ROOT });
    cleanup.push(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { err += String(d); });
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    await v.connection(4, 15_000);
    await waitFor(() => v.openPaths().length === 4, [v], 15_000, 'both clients on both routes');
    // both clients connected: everything from now on reaches both
    const feed = feeds.feeds[0]!;
    v.send(binance.depth('BTCUSDT', 9, 11, 8, [['59991.0', '0.500']], [], T0));
    await waitFor(() => v.requests.filter((q) => q.startsWith('/fapi/v1/depth')).length === 2, [v], 5000, 'both snapshots');
    const N = 300;
    // Book frames travel on /public and trades on /market: two sockets per client, so the interleaving of the
    // two routes may differ between the two clients. Send the book phase first and let both clients take it in
    // before the trades, so that both see the same order.
    for (let i = 0; i < N; i += 25) {
      v.send(binance.depth('BTCUSDT', 12 + i, 12 + i, i === 0 ? 11 : 12 + i - 25, [['59992.0', (1 + i / 100).toFixed(3)]], [], T0));
      v.send(binance.bookTicker('BTCUSDT', 12 + i, '59992.0', '1.0', '60010.0', '1.0', T0));
    }
    await waitFor(() => feed.counters.frames >= 1 + 24, [feed], 5000, 'book phase');
    await new Promise((res) => setTimeout(res, 500));
    for (let i = 0; i < N; i++) {
      const a = 1000 + i;
      v.send(binance.aggTrade('BTCUSDT', a, (60000 + ((i * 37) % 50) / 10).toFixed(1), ((i % 7) + 1 / 1000).toFixed(3), T0 + i * 900, (i * 13) % 5 < 2));
    }
    v.send('{"stream":"btcusdt@aggTrade","data":{'); // malformed: counted and skipped by both
    await waitFor(() => liveTrades === N, [feed], 5000, 'live engine got every trade');
    const code = await exited;
    expect(err).not.toMatch(/failed to start/);
    expect(code).toBe(0);
    expect(out).toMatch(/^recording binance-usdm BTCUSDT/);
    const m = /recorded (\d+) frames \((\d+) malformed, (\d+) reconnects, (\d+) gaps\) into:\n((?:\s+\S+\n?)+)/.exec(out);
    expect(m, out).not.toBeNull();
    // 300 trades + 13 diffs + 12 bookTickers + the REST snapshot + the malformed text = 327 lines
    expect([Number(m![1]), Number(m![2]), Number(m![3]), Number(m![4])], out + err).toEqual([N + 13 + 12 + 1 + 1, 1, 0, 0]);
    const files = m![5]!.trim().split(/\s+/);
    expect(files.every((f) => f.startsWith(join(dir, 'cli-')) && f.endsWith('.ndjson.gz'))).toBe(true);
    expect(readdirSync(dir).length).toBe(files.length);
    engine.finish();
    expect(books.l2.get('BTCUSDT')!.stats.gaps).toBe(0);

    const rep = cli(['replay', ...files, '--timeframe', '1m', '--json']);
    expect(rep.code, rep.err).toBe(0);
    const j = JSON.parse(rep.out) as { checksum: string; badLines: number; instruments: { instrument: string; trades: number }[]; books: { instrument: string; synced: boolean; bestBid: number; stats: { gaps: number } }[] };
    expect(j.instruments.map((i) => [i.instrument, i.trades])).toEqual([['BTCUSDT', N]]);
    expect(j.badLines).toBe(1); // the malformed frame is recorded as the raw text and skipped by replay too
    expect(j.checksum).toBe(engine.checksum());
    const bk = j.books.find((b) => b.instrument === 'BTCUSDT')!;
    expect([bk.synced, bk.bestBid, bk.stats.gaps]).toEqual([true, books.book('BTCUSDT')!.bestBid(), 0]);
  });

  it('bad flags exit 2 with the usage text; --help exits 0', () => {
    const bad: string[][] = [
      ['record'],
      ['record', '--venue', 'kraken', '--symbols', 'BTCUSD'],
      ['record', '--venue', 'binance-usdm'],
      ['record', '--venue', 'binance-usdm', '--symbols', ' , '],
      ['record', '--venue', 'binance-usdm', '--symbols', 'BTCUSDT', '--rotate-mb', 'lots'],
      ['record', '--venue', 'binance-usdm', '--symbols', 'BTCUSDT', '--trade-stream', 'bookTicker'],
      ['record', '--venue', 'binance-usdm', '--symbols', 'BTCUSDT', '--seconds', '5'],
      ['record', '--venue', 'binance-usdm', '--symbols', 'BTCUSDT', 'extra'],
      ['record', '--venue'],
      ['record', '--no-depth=yes', '--venue', 'binance-usdm', '--symbols', 'BTCUSDT'],
    ];
    const msgs: string[] = [];
    for (const a of bad) {
      const r = cli(a);
      expect(r.code, a.join(' ')).toBe(2);
      expect(r.err).toMatch(/Usage: tapeflow record --venue VENUE --symbols A,B/);
      expect(r.out).toBe('');
      msgs.push(r.err.split('\n')[0]!);
    }
    expect(msgs).toEqual([
      // the registry's live venues, in registry order (a new venue folder adds itself here)
      `tapeflow record: --venue must be one of ${LIVE_VENUES.join(', ')}`,
      `tapeflow record: --venue must be one of ${LIVE_VENUES.join(', ')}`,
      'tapeflow record: --symbols needs at least one symbol',
      'tapeflow record: --symbols needs at least one symbol',
      'tapeflow record: --rotate-mb must be a positive number',
      'tapeflow record: --trade-stream must be aggTrade or trade',
      'tapeflow record: unknown option --seconds',
      'tapeflow record: unexpected argument "extra"',
      'tapeflow record: --venue needs a value',
      'tapeflow record: --no-depth takes no value',
    ]);
    const h = cli(['record', '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/--duration S {8}stop after S seconds/);
  });
});

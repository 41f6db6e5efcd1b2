/** Issue 19 §2: the Bybit public trading archive (newest first, Unix seconds with µs, inverse contracts). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import type { MarketEvent, Trade } from '../../engine/src/core/events.js';
import { detectFormat, replayFile } from '../../engine/src/replay/index.js';

const HEADER = 'timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional';
const ROWS = [
  '1569974396.557000,BTCUSD,Sell,25,8320.5,ZeroMinusTick,b1,300480,0.003004,25',
  '1569974396.557000,BTCUSD,Buy,10,8321,PlusTick,b2,120180,0.001201,10',
  '1569888000.719123,BTCUSD,Buy,1000,8300,ZeroPlusTick,a1,12048193,0.12048193,1000',
];

describe('bybit-archive', () => {
  it('is detected from its header', () => {
    expect(detectFormat([HEADER, ...ROWS], 'BTCUSD2019-10-01.csv.gz')).toBe('bybit-archive');
  });
  it('replays newest-first rows forward in time, sizes in contracts of 1 USD, the taker side as the flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bybit-archive-'));
    const f = join(dir, 'BTCUSD2019-10-01.csv.gz');
    writeFileSync(f, gzipSync(Buffer.from([HEADER, ...ROWS].join('\n') + '\n')));
    const registry = new InstrumentRegistry();
    const trades: Trade[] = [];
    const stats = await replayFile(f, (ev: MarketEvent) => { if (ev.type === 'trade') trades.push({ ...ev }); }, { registry });
    expect(stats.format).toBe('bybit-archive');
    expect(stats.trades).toBe(3);
    expect(stats.instruments).toEqual(['BYBIT:BTCUSD']);
    const inst = registry.get('BYBIT:BTCUSD');
    expect(inst.description).toContain('contracts of 1 USD');
    expect(trades.map((t) => t.ts)).toEqual([1569888000719, 1569974396557, 1569974396557]);
    // equal times keep the archive's trade order (b2 happened before b1: the file is newest first)
    expect(trades.map((t) => inst.price.toNumber(t.price))).toEqual([8300, 8321, 8320.5]);
    expect(trades.map((t) => inst.qty.toNumber(t.size))).toEqual([1000, 10, 25]);
    expect(trades.map((t) => t.side)).toEqual(['buy', 'buy', 'sell']);
  });
});

/** /api/v1/profile (session): earlier sessions' POCs no later session traded through are served as nakedPocs, in price units. */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../engine/src/analytics/engine.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { newTrade } from '../../engine/src/core/events.js';
import { HistoryService } from '../../datafeed-adapter/src/service/history.js';
import { profileWork } from '../../datafeed-adapter/src/service/profiles.js';
import { runSync } from '../../datafeed-adapter/src/service/work.js';

const DAY = 86_400_000, T0 = Date.UTC(2024, 7, 6);
let id = 0;
function trade(e: Engine, ts: number, price: number, size = 10): void {
  const t = newTrade('BTCUSDT');
  t.ts = ts; t.id = ++id; t.price = price; t.size = size; t.side = id % 2 ? 'buy' : 'sell'; t.sideSource = 'flag';
  e.onEvent(t);
}
const naked = (s: HistoryService) => (runSync(profileWork(s, 'BTCUSDT', { type: 'session', rows: false })) as { nakedPocs: { price: number; session: string }[] }).nakedPocs;

describe('naked session POCs', () => {
  it('lists the POC of each earlier session no later session reached, and drops it once traded', () => {
    const e = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    const s = new HistoryService(e);
    // day 1 trades around 60 000.0 (ticks of 0.1: 600 000), most at 60 000.0; day 2 around 61 000.0
    for (let k = 0; k < 200; k++) trade(e, T0 + 3_600_000 + k * 1000, 600_000 + (k % 5), k % 5 === 0 ? 50 : 5);
    for (let k = 0; k < 200; k++) trade(e, T0 + DAY + 3_600_000 + k * 1000, 610_000 + (k % 5));
    const n = naked(s);
    expect(n.length).toBe(1);
    expect(n[0].session).toBe('2024-08-06');
    expect(n[0].price).toBe(60_000); // the row's lower edge in price units (the instrument's profile row)
    // day 2 trades back down through 60 000: the POC is no longer naked
    trade(e, T0 + DAY + 7_200_000, 600_000);
    expect(naked(s)).toEqual([]);
  });
});

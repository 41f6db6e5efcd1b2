/**
 * A NIFTY options chain for the loopback Kite Ticker (PCR tests): the instruments dump rows, token numbers and
 * one binary message holding the index and every call and put in full mode (OI and day volume). OI: calls
 * (strike − 25700) × 10, puts (26300 − strike) × 10, so at spot 26040 the chain is balanced (PCR by OI 1) and
 * `putBump` added to the 26000 put's OI tilts it bullish.
 */
import { KITE_CSV_HEADER, indexPacket, kiteMessage, tickPacket } from './kite.js';

export const NIFTY_TOKEN = (1024 << 8) | 9; // index, segment 9
export const CHAIN_STRIKES = [25800, 25900, 26000, 26100, 26200];
export const CHAIN_EXPIRY = '2026-12-10';
export const chainToken = (k: number, pe: boolean): number => ((((k / 100) * 2 + (pe ? 1 : 0)) << 8) | 2);

export function chainCsv(expiry = CHAIN_EXPIRY): string {
  return [KITE_CSV_HEADER, `${NIFTY_TOKEN},256,NIFTY 50,NIFTY 50,0,,0,0.05,1,EQ,INDICES,NSE`,
    ...CHAIN_STRIKES.flatMap((k) => [`${chainToken(k, false)},1,NIFTY26DEC${k}CE,NIFTY,0,${expiry},${k},0.05,75,CE,NFO-OPT,NFO`, `${chainToken(k, true)},1,NIFTY26DEC${k}PE,NIFTY,0,${expiry},${k},0.05,75,PE,NFO-OPT,NFO`]),
  ].join('\n');
}

export function chainMessage(spot: number, putBump: number, secs: number): Uint8Array {
  const oi = (k: number, pe: boolean): number => (pe ? (26300 - k) * 10 : (k - 25700) * 10);
  return kiteMessage([
    indexPacket(NIFTY_TOKEN, { last: spot * 100, high: 0, low: 0, open: 0, close: 0, change: 0, exchangeTime: secs }),
    ...CHAIN_STRIKES.flatMap((k) => [
      tickPacket({ token: chainToken(k, false), last: 10_000, volume: 750, oi: oi(k, false), exchangeTime: secs }),
      tickPacket({ token: chainToken(k, true), last: 10_000, volume: 1500, oi: oi(k, true) + (k === 26000 ? putBump : 0), exchangeTime: secs }),
    ]),
  ]);
}

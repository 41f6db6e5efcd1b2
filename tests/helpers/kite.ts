/**
 * Kite Ticker packets built byte by byte from the documented layout (big-endian; see
 * engine/src/venues/kite/packets.ts for the table), for the parser tests and the loopback Kite server.
 */
export interface FullFields {
  token: number; last: number; lastQty?: number; avg?: number; volume: number; buyQty?: number; sellQty?: number;
  open?: number; high?: number; low?: number; close?: number;
  lastTradeTime?: number; oi?: number; oiHigh?: number; oiLow?: number; exchangeTime?: number;
  /** [qty, raw price, orders] × up to 5 each */
  bids?: Array<[number, number, number]>; asks?: Array<[number, number, number]>;
}

export function ltpPacket(token: number, last: number): Uint8Array {
  const b = new DataView(new ArrayBuffer(8));
  b.setUint32(0, token); b.setInt32(4, last);
  return new Uint8Array(b.buffer);
}

export function indexPacket(token: number, f: { last: number; high: number; low: number; open: number; close: number; change: number; exchangeTime?: number }): Uint8Array {
  const full = f.exchangeTime !== undefined;
  const b = new DataView(new ArrayBuffer(full ? 32 : 28));
  b.setUint32(0, token); b.setInt32(4, f.last); b.setInt32(8, f.high); b.setInt32(12, f.low); b.setInt32(16, f.open); b.setInt32(20, f.close); b.setInt32(24, f.change);
  if (full) b.setUint32(28, f.exchangeTime!);
  return new Uint8Array(b.buffer);
}

/** quote (44 bytes) when `full` is false, else full (184 bytes) */
export function tickPacket(f: FullFields, full = true): Uint8Array {
  const b = new DataView(new ArrayBuffer(full ? 184 : 44));
  b.setUint32(0, f.token); b.setInt32(4, f.last); b.setUint32(8, f.lastQty ?? 0); b.setInt32(12, f.avg ?? 0); b.setUint32(16, f.volume);
  b.setUint32(20, f.buyQty ?? 0); b.setUint32(24, f.sellQty ?? 0);
  b.setInt32(28, f.open ?? 0); b.setInt32(32, f.high ?? 0); b.setInt32(36, f.low ?? 0); b.setInt32(40, f.close ?? 0);
  if (full) {
    b.setUint32(44, f.lastTradeTime ?? 0); b.setUint32(48, f.oi ?? 0); b.setUint32(52, f.oiHigh ?? 0); b.setUint32(56, f.oiLow ?? 0); b.setUint32(60, f.exchangeTime ?? 0);
    const rows = [...pad(f.bids), ...pad(f.asks)];
    rows.forEach(([q, p, n], k) => { const o = 64 + 12 * k; b.setUint32(o, q); b.setInt32(o + 4, p); b.setUint16(o + 8, n); });
  }
  return new Uint8Array(b.buffer);
}

function pad(rows: Array<[number, number, number]> = []): Array<[number, number, number]> {
  const out = rows.slice(0, 5);
  while (out.length < 5) out.push([0, 0, 0]);
  return out;
}

/** A binary message: u16 count, then u16 length + bytes per packet. */
export function kiteMessage(packets: Uint8Array[]): Uint8Array {
  const n = packets.reduce((s, p) => s + 2 + p.length, 2);
  const out = new Uint8Array(n);
  const v = new DataView(out.buffer);
  v.setUint16(0, packets.length);
  let off = 2;
  for (const p of packets) { v.setUint16(off, p.length); out.set(p, off + 2); off += 2 + p.length; }
  return out;
}

/** The instruments dump header as Kite serves it. */
export const KITE_CSV_HEADER = 'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange';

import { MarketSimulator } from '../../engine/src/sim/index.js';
import type { Trade } from '../../engine/src/core/events.js';

export interface KiteTape {
  /** binary full-mode messages and the local time they are sent at (= sample time) */
  messages: Array<{ t: number; bytes: Uint8Array }>;
  /** the simulator's own trades (ground truth, sides flagged), in order */
  truth: Trade[];
  /** sample times, one per message */
  sampleTs: number[];
}

/**
 * Kite full-mode snapshots of a simulator run, as the Ticker sends them: every `intervalMs` a packet with the
 * day's cumulative volume, the last price, OHLC, last trade time and the top 5 levels of the simulator's own
 * book (when something changed). Prices: ticks × `paisePerTick` (tick 0.05 = 5 paise). exchangeTime = sample
 * time in seconds.
 */
export function kiteTapeFromSim(o: { seed: number; token: number; startTs: number; durationMs: number; intervalMs: number; startTicks: number; paisePerTick: number; volumeOffset?: number }): KiteTape {
  const sim = new MarketSimulator({ seed: o.seed, instrument: 'SIM', startTs: o.startTs, startPrice: o.startTicks, levelTicks: 1, durationMs: o.durationMs, scenario: [] });
  const bids = new Map<number, number>(), asks = new Map<number, number>();
  const evs: Array<{ ts: number; apply: () => void }> = [];
  const truth: Trade[] = [];
  let vol = o.volumeOffset ?? 0, last = NaN, lastQty = 0, lastTradeTs = 0, open = NaN, high = -Infinity, low = Infinity;
  sim.run((ev) => {
    if (ev.type === 'book_snapshot') { const b = ev.bids.map((l) => [...l] as [number, number]), a = ev.asks.map((l) => [...l] as [number, number]); evs.push({ ts: ev.ts, apply: () => { bids.clear(); asks.clear(); for (const [p, s] of b) bids.set(p, s); for (const [p, s] of a) asks.set(p, s); } }); }
    else if (ev.type === 'book_delta') { const b = ev.bids.map((l) => [...l] as [number, number]), a = ev.asks.map((l) => [...l] as [number, number]); evs.push({ ts: ev.ts, apply: () => { for (const [p, s] of b) if (s > 0) bids.set(p, s); else bids.delete(p); for (const [p, s] of a) if (s > 0) asks.set(p, s); else asks.delete(p); } }); }
    else if (ev.type === 'trade') {
      const t = { ...ev };
      truth.push(t);
      evs.push({ ts: ev.ts, apply: () => { vol += t.size; last = t.price; lastQty = t.size; lastTradeTs = t.ts; if (open !== open) open = t.price; if (t.price > high) high = t.price; if (t.price < low) low = t.price; } });
    }
  });
  const messages: KiteTape['messages'] = [], sampleTs: number[] = [];
  let i = 0, prevKey = '';
  for (let t = o.startTs + o.intervalMs; t <= o.startTs + o.durationMs; t += o.intervalMs) {
    while (i < evs.length && evs[i]!.ts < t) evs[i++]!.apply();
    if (last !== last) continue;
    const top = (m: Map<number, number>, desc: boolean): Array<[number, number, number]> => [...m.entries()].sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0])).slice(0, 5).map(([p, s]) => [s, p * o.paisePerTick, 1]);
    const b = top(bids, true), a = top(asks, false);
    const key = `${vol}|${last}|${JSON.stringify(b)}|${JSON.stringify(a)}`;
    if (key === prevKey) continue;
    prevKey = key;
    const px = (x: number): number => x * o.paisePerTick;
    messages.push({ t, bytes: kiteMessage([tickPacket({ token: o.token, last: px(last), lastQty, avg: px(last), volume: vol, open: px(open), high: px(high), low: px(low), close: px(open), lastTradeTime: Math.floor(lastTradeTs / 1000), exchangeTime: Math.floor(t / 1000), bids: b, asks: a })]) });
    sampleTs.push(t);
  }
  return { messages, truth, sampleTs };
}

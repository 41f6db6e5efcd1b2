/**
 * Kite Ticker binary messages (facts from the Kite Connect WebSocket streaming docs and Zerodha's client
 * libraries; written here from the layout, not copied).
 *
 * A binary message is big-endian: u16 packet count, then per packet a u16 length and that many bytes.
 * A 1-byte message is a heartbeat. The packet length says its mode:
 *   8   ltp:   token, last price
 *   28  index quote: token, last, high, low, open, close, change      32 index full: + exchange time (s)
 *   44  quote: token, last, last qty, avg price, volume, buy qty, sell qty, open, high, low, close
 *   184 full:  quote + last trade time (s), OI, OI day high, OI day low, exchange time (s),
 *              then 10 depth entries of 12 bytes (u32 qty, i32 price, u16 orders, 2 pad): 5 bids, 5 asks.
 * Prices are integers; the segment (token & 0xff) gives the divisor: CDS (3) 1e7, BCD (6) 1e4, else 100.
 * Anything else (a short message, a length that names no mode, a count the bytes do not hold) is a
 * malformed packet: reported, skipped, and the remaining packets of the message still count.
 */

export type KiteMode = 'ltp' | 'quote' | 'full';

export const KITE_SEGMENTS: Record<number, string> = {
  1: 'nse_cm', 2: 'nse_fo', 3: 'cds_fo', 4: 'bse_cm', 5: 'bse_fo', 6: 'bcd_fo', 7: 'mcx_fo', 8: 'mcx_sx', 9: 'indices',
};

/** Decimals of a segment's price divisor (CDS 1e7, BCD 1e4, every other segment paise = 1e2). */
export function priceDecimals(segment: number): number {
  return segment === 3 ? 7 : segment === 6 ? 4 : 2;
}

/** [quantity, price (raw integer, see priceDecimals), orders] */
export type KiteDepthRow = [qty: number, price: number, orders: number];

export interface KitePacket {
  token: number;
  segment: number;
  mode: KiteMode;
  /** true for the index packets (28/32 bytes) */
  index: boolean;
  /** prices below are raw integers: divide by 10^decimals */
  decimals: number;
  last: number;
  lastQty?: number;
  avgPrice?: number;
  /** cumulative traded volume of the day */
  volume?: number;
  buyQty?: number;
  sellQty?: number;
  open?: number;
  high?: number;
  low?: number;
  close?: number;
  /** index packets: change (raw price integer) */
  change?: number;
  /** seconds since the epoch */
  lastTradeTime?: number;
  oi?: number;
  oiDayHigh?: number;
  oiDayLow?: number;
  /** seconds since the epoch */
  exchangeTime?: number;
  bids?: KiteDepthRow[];
  asks?: KiteDepthRow[];
}

export interface KiteMessage {
  heartbeat: boolean;
  packets: KitePacket[];
  /** one reason per malformed packet (or for the message header) */
  malformed: string[];
}

function packet(v: DataView, off: number, len: number): KitePacket | string {
  if (len < 8) return `packet of ${len} bytes (shorter than an 8-byte ltp packet)`;
  const token = v.getUint32(off);
  const segment = token & 0xff;
  const decimals = priceDecimals(segment);
  const i32 = (o: number): number => v.getInt32(off + o);
  const u32 = (o: number): number => v.getUint32(off + o);
  const base = { token, segment, decimals, last: i32(4) };
  if (len === 8) return { ...base, mode: 'ltp', index: false };
  if (len === 28 || len === 32) {
    const p: KitePacket = { ...base, mode: len === 28 ? 'quote' : 'full', index: true, high: i32(8), low: i32(12), open: i32(16), close: i32(20), change: i32(24) };
    if (len === 32) p.exchangeTime = u32(28);
    return p;
  }
  if (len === 44 || len === 184) {
    const p: KitePacket = {
      ...base, mode: len === 44 ? 'quote' : 'full', index: false,
      lastQty: u32(8), avgPrice: i32(12), volume: u32(16), buyQty: u32(20), sellQty: u32(24),
      open: i32(28), high: i32(32), low: i32(36), close: i32(40),
    };
    if (len === 184) {
      p.lastTradeTime = u32(44); p.oi = u32(48); p.oiDayHigh = u32(52); p.oiDayLow = u32(56); p.exchangeTime = u32(60);
      const rows: KiteDepthRow[] = [];
      for (let k = 0; k < 10; k++) { const o = 64 + 12 * k; rows.push([u32(o), i32(o + 4), v.getUint16(off + o + 8)]); }
      p.bids = rows.slice(0, 5);
      p.asks = rows.slice(5);
    }
    return p;
  }
  if (len > 64 && len < 184) return `full packet truncated in its market depth (${len} of 184 bytes)`;
  return `packet length ${len} names no mode (expected 8, 28, 32, 44 or 184)`;
}

/** Decode one binary message of the Kite Ticker. Never throws: problems land in `malformed`. */
export function decodeKiteMessage(bytes: Uint8Array): KiteMessage {
  const out: KiteMessage = { heartbeat: false, packets: [], malformed: [] };
  if (bytes.length === 1) { out.heartbeat = true; return out; }
  if (bytes.length < 2) { out.malformed.push('empty binary message'); return out; }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = v.getUint16(0);
  let off = 2;
  for (let i = 0; i < n; i++) {
    if (off + 2 > bytes.length) { out.malformed.push(`message declares ${n} packets but ends after ${i}`); break; }
    const len = v.getUint16(off);
    off += 2;
    if (off + len > bytes.length) { out.malformed.push(`packet ${i + 1} declares ${len} bytes but only ${bytes.length - off} remain`); break; }
    const p = packet(v, off, len);
    if (typeof p === 'string') out.malformed.push(`packet ${i + 1}: ${p}`);
    else out.packets.push(p);
    off += len;
  }
  return out;
}

/** Raw integer price → exact decimal string ("123450", 2 → "1234.50"). */
export function rawPrice(raw: number, decimals: number): string {
  const neg = raw < 0;
  const s = String(Math.abs(raw)).padStart(decimals + 1, '0');
  return (neg ? '-' : '') + s.slice(0, s.length - decimals) + '.' + s.slice(s.length - decimals);
}

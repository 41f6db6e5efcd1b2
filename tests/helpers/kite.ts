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

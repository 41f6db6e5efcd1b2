/**
 * msgpack framing. Control messages are packed whole; updates are built as a hand-written map header
 * `{v:1, op:'update', sub, seq, d}` followed by the topic payload that was encoded once for all
 * subscribers (msgpack values concatenate, so the result is an ordinary msgpack map).
 */
import { Packr, Unpackr } from 'msgpackr';

const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export const encode = (x: unknown): Uint8Array => packr.pack(x);
export const decode = (b: Uint8Array): unknown => unpackr.unpack(b);

const enc = new TextEncoder();
function str(s: string): number[] {
  const b = enc.encode(s);
  if (b.length > 31) throw new Error('fixstr only');
  return [0xa0 | b.length, ...b];
}

// 0x85 = fixmap(5); keys in order v, op, sub, seq, d
const HEAD = Uint8Array.from([0x85, ...str('v'), 0x01, ...str('op'), ...str('update'), ...str('sub')]);
const SEQ_KEY = Uint8Array.from(str('seq'));
const D_KEY = Uint8Array.from(str('d'));

function uintLen(n: number): number { return n < 128 ? 1 : n < 0x1_0000_0000 ? 5 : 9; }
function writeUint(out: Uint8Array, view: DataView, o: number, n: number): number {
  if (n < 128) { out[o] = n; return o + 1; }
  if (n < 0x1_0000_0000) { out[o] = 0xce; view.setUint32(o + 1, n); return o + 5; }
  out[o] = 0xcb; view.setFloat64(o + 1, n); return o + 9;
}

/** `{v:1, op:'update', sub, seq, d}` where `payload` is the msgpack encoding of d. */
export function updateFrame(sub: number, seq: number, payload: Uint8Array): Uint8Array {
  const len = HEAD.length + uintLen(sub) + SEQ_KEY.length + uintLen(seq) + D_KEY.length + payload.length;
  const out = new Uint8Array(len);
  const view = new DataView(out.buffer);
  out.set(HEAD, 0);
  let o = writeUint(out, view, HEAD.length, sub);
  out.set(SEQ_KEY, o); o += SEQ_KEY.length;
  o = writeUint(out, view, o, seq);
  out.set(D_KEY, o); o += D_KEY.length;
  out.set(payload, o);
  return out;
}

/** Bytes of one unmasked server WebSocket frame header (RFC 6455 §5.2) for a payload of n bytes. */
function wsHeaderLen(n: number): number { return n < 126 ? 2 : n < 0x1_0000 ? 4 : 10; }

function writeWsHeader(out: Uint8Array, o: number, n: number): number {
  out[o++] = 0x82; // FIN + binary
  if (n < 126) { out[o++] = n; return o; }
  if (n < 0x1_0000) { out[o++] = 126; out[o++] = n >>> 8; out[o++] = n & 0xff; return o; }
  out[o++] = 127;
  const hi = Math.floor(n / 0x1_0000_0000), lo = n >>> 0;
  out[o++] = hi >>> 24; out[o++] = (hi >>> 16) & 0xff; out[o++] = (hi >>> 8) & 0xff; out[o++] = hi & 0xff;
  out[o++] = lo >>> 24; out[o++] = (lo >>> 16) & 0xff; out[o++] = (lo >>> 8) & 0xff; out[o++] = lo & 0xff;
  return o;
}

function putUint(out: Uint8Array, o: number, n: number): number {
  if (n < 128) { out[o] = n; return o + 1; }
  if (n < 0x1_0000_0000) { out[o] = 0xce; out[o + 1] = n >>> 24; out[o + 2] = (n >>> 16) & 0xff; out[o + 3] = (n >>> 8) & 0xff; out[o + 4] = n & 0xff; return o + 5; }
  const f = new DataView(out.buffer, out.byteOffset + o, 9);
  f.setUint8(0, 0xcb); f.setFloat64(1, n);
  return o + 9;
}

/** Wire bytes of a whole frame from frameInto: WebSocket header + update head + payload (sub null: payload alone). */
export function frameLength(sub: number | null, seq: number, payload: number): number {
  const msg = sub === null ? payload : HEAD.length + uintLen(sub) + SEQ_KEY.length + uintLen(seq) + D_KEY.length + payload;
  return wsHeaderLen(msg) + msg;
}

/** Bytes of the part of a frameInto frame that precedes the payload (WebSocket header + update head). */
export function frameHeadLength(sub: number | null, seq: number, payload: number): number {
  return frameLength(sub, seq, payload) - payload;
}

/**
 * Write the part of one complete WebSocket binary message that precedes `payloadLen` payload bytes —
 * the frame header and, for an update, `{v:1, op:'update', sub, seq, d:` — and return the next offset.
 * The payload itself may follow in the same buffer (frameInto) or be written to the socket as its own
 * chunk: the topic's encoded update then goes to every socket as the very same buffer.
 */
export function frameHeadInto(out: Uint8Array, o: number, sub: number | null, seq: number, payloadLen: number): number {
  if (sub === null) return writeWsHeader(out, o, payloadLen);
  o = writeWsHeader(out, o, HEAD.length + uintLen(sub) + SEQ_KEY.length + uintLen(seq) + D_KEY.length + payloadLen);
  out.set(HEAD, o); o += HEAD.length;
  o = putUint(out, o, sub);
  out.set(SEQ_KEY, o); o += SEQ_KEY.length;
  o = putUint(out, o, seq);
  out.set(D_KEY, o);
  return o + D_KEY.length;
}

/**
 * Write one complete WebSocket binary message into `out` at `o` — `{v:1, op:'update', sub, seq, d}`
 * around the shared `payload`, or `payload` alone when sub is null — and return the next offset.
 * A pump writes a connection's small messages into one buffer and hands it to the socket in one
 * write: no per-message fragments, header allocations or DataViews.
 */
export function frameInto(out: Uint8Array, o: number, sub: number | null, seq: number, payload: Uint8Array): number {
  o = frameHeadInto(out, o, sub, seq, payload.length);
  out.set(payload, o);
  return o + payload.length;
}

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

/**
 * The bytes of `{v:1, op:'update', sub, seq, d}` before d's encoding. A server can send this as the
 * first fragment of a WebSocket message and the topic's payload, encoded once, as the final one:
 * every subscriber then gets the very same payload buffer, copied for nobody.
 */
export function updateHead(sub: number, seq: number): Uint8Array {
  const len = HEAD.length + uintLen(sub) + SEQ_KEY.length + uintLen(seq) + D_KEY.length;
  const out = new Uint8Array(len);
  const view = new DataView(out.buffer);
  out.set(HEAD, 0);
  let o = writeUint(out, view, HEAD.length, sub);
  out.set(SEQ_KEY, o); o += SEQ_KEY.length;
  o = writeUint(out, view, o, seq);
  out.set(D_KEY, o);
  return out;
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

import { describe, expect, it } from 'vitest';
import { decode, encode, frameHeadInto, frameHeadLength, frameInto, frameLength } from '../../datafeed-adapter/src/ws/frames.js';

/** Parse one unmasked server frame (RFC 6455 §5.2): [fin+opcode, payload bytes, next offset]. */
function parse(b: Uint8Array, o: number): [number, Uint8Array, number] {
  const op = b[o];
  let n = b[o + 1], p = o + 2;
  expect(n & 0x80).toBe(0); // server frames are never masked
  if (n === 126) { n = (b[p] << 8) | b[p + 1]; p += 2; }
  else if (n === 127) { n = 0; for (let k = 0; k < 8; k++) n = n * 256 + b[p + k]; p += 8; }
  return [op, b.subarray(p, p + n), p + n];
}

describe('ws frames written by the pump', () => {
  it('packs several whole binary messages (short, 16-bit and 64-bit lengths) into one buffer that decodes back', () => {
    const small = encode({ x: 1 }), mid = encode({ s: 'a'.repeat(300) }), big = encode({ s: 'b'.repeat(70_000) });
    const items: [number | null, number, Uint8Array][] = [[3, 1, small], [7, 200, mid], [1, 2 ** 33, big], [null, 0, encode({ op: 'pong' })]];
    const total = items.reduce((s, [sub, seq, p]) => s + frameLength(sub, seq, p.length), 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const [sub, seq, p] of items) at = frameInto(out, at, sub, seq, p);
    expect(at).toBe(total);
    let o = 0;
    const got: unknown[] = [];
    while (o < out.length) { const [op, msg, next] = parse(out, o); expect(op).toBe(0x82); got.push(decode(msg)); o = next; }
    expect(got).toEqual([
      { v: 1, op: 'update', sub: 3, seq: 1, d: { x: 1 } },
      { v: 1, op: 'update', sub: 7, seq: 200, d: { s: 'a'.repeat(300) } },
      { v: 1, op: 'update', sub: 1, seq: 2 ** 33, d: { s: 'b'.repeat(70_000) } },
      { op: 'pong' },
    ]);
  });

  it('frameHeadInto + the payload as its own chunk are byte-identical to frameInto (the shared-buffer path)', () => {
    for (const [sub, seq, n] of [[3, 1, 10], [300, 70_000, 4096], [1, 2 ** 33, 70_000], [null, 0, 200]] as [number | null, number, number][]) {
      const p = encode({ s: 'z'.repeat(n) });
      const whole = new Uint8Array(frameLength(sub, seq, p.length));
      expect(frameInto(whole, 0, sub, seq, p)).toBe(whole.length);
      const head = new Uint8Array(frameHeadLength(sub, seq, p.length));
      expect(frameHeadInto(head, 0, sub, seq, p.length)).toBe(head.length);
      expect(Buffer.concat([head, p]).equals(Buffer.from(whole))).toBe(true);
    }
  });
});

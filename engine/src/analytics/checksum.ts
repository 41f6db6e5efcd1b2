/**
 * Streaming 64-bit FNV-1a style checksum over numbers and strings (as two 32-bit lanes), used to
 * prove that live, replay and backtest produce identical bars. Pure JS, no Node crypto.
 */
export class Checksum {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193 ^ 0x9e3779b9;
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);

  num(x: number): this {
    this.f64[0] = x === 0 ? 0 : x; // fold -0 into 0
    this.mix(this.u32[0]);
    this.mix(this.u32[1]);
    return this;
  }

  /**
   * Same as num() over col[from], …, col[from + n − 1], without a call per value. The lanes stay
   * int32 inside the loop (same bits as the uint32 maths: imul, xor and >>> read only the low 32
   * bits), so nothing is boxed or converted per value; hex() reads them unsigned.
   */
  nums(col: Float64Array, from: number, n: number): this {
    if (n <= 0) return this;
    const w = new Int32Array(col.buffer, col.byteOffset + from * 8, n * 2);
    let h1 = this.h1 | 0, h2 = this.h2 | 0;
    const end = w.length;
    for (let i = 0; i < end; i += 2) {
      const lo = w[i];
      let hi = w[i + 1];
      if (hi === -0x80000000 && lo === 0) hi = 0; // fold -0 into 0, as num() does
      h1 = Math.imul(h1 ^ lo, 0x01000193);
      h2 = Math.imul(h2 ^ (Math.imul(lo, 31) + 7), 0x5bd1e995);
      h2 ^= h2 >>> 15;
      h1 = Math.imul(h1 ^ hi, 0x01000193);
      h2 = Math.imul(h2 ^ (Math.imul(hi, 31) + 7), 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    this.h1 = h1 >>> 0; this.h2 = h2 >>> 0;
    return this;
  }

  str(s: string): this {
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
    this.mix(0xffff);
    return this;
  }

  private mix(v: number): void {
    this.h1 = Math.imul(this.h1 ^ v, 0x01000193) >>> 0;
    // imul(v, 31) + 7 has the same low 32 bits as v * 31 + 7 (the xor reads only those), in int32 maths
    this.h2 = Math.imul(this.h2 ^ (Math.imul(v, 31) + 7), 0x5bd1e995) >>> 0;
    this.h2 = (this.h2 ^ (this.h2 >>> 15)) >>> 0;
  }

  hex(): string {
    return this.h1.toString(16).padStart(8, '0') + this.h2.toString(16).padStart(8, '0');
  }
}

/**
 * OKX order-book checksum (v5 `books`, `books-l2-tbt`, `books50-l2-tbt`): the top 25 levels, interleaved
 * bid then ask per rank, as `price:size` with the venue's own decimal strings, joined by `:`; CRC-32 of that
 * text as a signed 32-bit integer. OKX announced (2026-05-21) that from 2026-06-23 the field is always 0 on
 * production: 0 means "not provided" and is not checked.
 */

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE) of an ASCII string as a signed 32-bit integer. */
export function crc32Signed(s: string): number {
  let c = -1;
  for (let i = 0; i < s.length; i++) c = TABLE[(c ^ s.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) | 0;
}

/** One side of a mirrored book: price string → size string, plus the numeric order of the prices. */
export class StringSide {
  private readonly m = new Map<string, string>();
  constructor(private readonly descending: boolean) {}
  clear(): void { this.m.clear(); }
  /** size "0" removes the level */
  set(px: string, sz: string): void {
    if (Number(sz) === 0) this.m.delete(px);
    else this.m.set(px, sz);
  }
  /** the best `n` levels as [price, size] strings */
  top(n: number): [string, string][] {
    const keys = [...this.m.keys()].sort((a, b) => (this.descending ? Number(b) - Number(a) : Number(a) - Number(b)));
    return keys.slice(0, n).map((k) => [k, this.m.get(k)!]);
  }
}

/** A book mirrored in the venue's strings, for the checksum. */
export class StringBook {
  readonly bids = new StringSide(true);
  readonly asks = new StringSide(false);
  checksum(depth = 25): number {
    const b = this.bids.top(depth);
    const a = this.asks.top(depth);
    const parts: string[] = [];
    for (let i = 0; i < depth; i++) {
      if (i < b.length) parts.push(b[i]![0], b[i]![1]);
      if (i < a.length) parts.push(a[i]![0], a[i]![1]);
    }
    return crc32Signed(parts.join(':'));
  }
}

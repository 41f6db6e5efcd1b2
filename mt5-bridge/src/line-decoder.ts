/**
 * Fragmentation-safe NDJSON line decoder. Bytes are kept as Buffers until a LF arrives, so a UTF-8
 * character split across TCP segments is never decoded in halves; each complete line is decoded with a
 * fatal UTF-8 decoder (a bad line is reported, the stream continues). A trailing CR is dropped (CRLF is
 * tolerated). Memory is bounded: buffered bytes never exceed `maxLine` plus one incoming chunk; when a
 * line grows past `maxLine` the decoder reports `overflow` once and stops (the caller closes).
 */

export interface LineDecoderHandlers {
  line(text: string): void;
  /** a complete line that is not valid UTF-8 */
  badUtf8(byteLength: number): void;
  /** the current line exceeded maxLine bytes */
  overflow(bufferedBytes: number): void;
}

export class LineDecoder {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  /** high-water mark of bytes held between calls (for the memory-bound test) */
  maxBuffered = 0;
  overflowed = false;
  lines = 0;

  /** `maxLine` may be raised after authentication (a small cap before it) */
  constructor(public maxLine: number, private readonly h: LineDecoderHandlers) {}

  get buffered(): number { return this.partBytes; }

  push(chunk: Buffer): void {
    if (this.overflowed) return;
    let start = 0;
    const n = chunk.length;
    while (start < n) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) {
        const rest = n - start;
        if (this.partBytes + rest > this.maxLine) { this.fail(this.partBytes + rest); return; }
        this.parts.push(start === 0 ? chunk : chunk.subarray(start));
        this.partBytes += rest;
        if (this.partBytes > this.maxBuffered) this.maxBuffered = this.partBytes;
        return;
      }
      const len = nl - start;
      if (this.partBytes + len > this.maxLine) { this.fail(this.partBytes + len); return; }
      let bytes: Buffer;
      if (this.partBytes === 0) bytes = chunk.subarray(start, nl);
      else {
        this.parts.push(chunk.subarray(start, nl));
        bytes = Buffer.concat(this.parts, this.partBytes + len);
        this.parts = [];
        this.partBytes = 0;
      }
      start = nl + 1;
      let end = bytes.length;
      if (end > 0 && bytes[end - 1] === 13) end--;
      if (end === 0) continue; // empty line: keepalive, ignored
      this.lines++;
      let text: string;
      try {
        text = this.utf8.decode(end === bytes.length ? bytes : bytes.subarray(0, end));
      } catch {
        this.h.badUtf8(end);
        continue;
      }
      this.h.line(text);
      if (this.overflowed) return;
    }
  }

  private fail(bytes: number): void {
    this.overflowed = true;
    this.parts = [];
    this.partBytes = 0;
    this.h.overflow(bytes);
  }
}

/**
 * Streaming text input for the replay readers: gzip (by magic bytes), single-entry zip archives (the
 * first file entry, stored or deflated; inflated with node:zlib, no dependency), and text encodings
 * UTF-8 (BOM optional), UTF-16 LE/BE (by BOM, or by NUL-byte pattern without BOM). Lines are split on
 * LF with a trailing CR removed. Memory is bounded by the stream chunk size plus the longest line.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip, createInflateRaw } from 'node:zlib';

export interface OpenedInput {
  /** raw bytes of the underlying file read so far */
  bytesRead(): number;
  totalBytes: number;
  /** name of the zip entry when the file is a zip archive */
  entryName?: string;
  stream: Readable;
}

async function readAt(fh: fsp.FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, pos);
  return buf.subarray(0, bytesRead);
}

interface ZipEntry { name: string; method: number; dataStart: number; compressedSize: number }

async function firstZipEntry(path: string, size: number): Promise<ZipEntry> {
  const fh = await fsp.open(path, 'r');
  try {
    const tailLen = Math.min(size, 65557);
    const tail = await readAt(fh, size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
    if (eocd < 0) throw new Error(`${path}: zip without end-of-central-directory record`);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = await readAt(fh, cdOffset, Math.min(65536, size - cdOffset));
    let p = 0;
    while (p + 46 <= cd.length && cd.readUInt32LE(p) === 0x02014b50) {
      const method = cd.readUInt16LE(p + 10);
      const compressedSize = cd.readUInt32LE(p + 20);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const localOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      p += 46 + nameLen + extraLen + commentLen;
      if (name.endsWith('/')) continue; // directory
      if (method !== 0 && method !== 8) throw new Error(`${path}: zip entry ${name} uses unsupported compression method ${method}`);
      const lh = await readAt(fh, localOffset, 30);
      if (lh.readUInt32LE(0) !== 0x04034b50) throw new Error(`${path}: bad zip local header for ${name}`);
      const dataStart = localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
      return { name, method, dataStart, compressedSize };
    }
    throw new Error(`${path}: zip archive has no file entry`);
  } finally {
    await fh.close();
  }
}

function noop(): void {}

/** Open a file as a byte stream of its (decompressed) content. */
export async function openInput(path: string): Promise<OpenedInput> {
  const st = await fsp.stat(path);
  const fh = await fsp.open(path, 'r');
  let magic: Buffer;
  try { magic = await readAt(fh, 0, 4); } finally { await fh.close(); }
  let raw = 0;
  if (magic.length >= 4 && magic.readUInt32LE(0) === 0x04034b50) {
    const e = await firstZipEntry(path, st.size);
    const fileStream = createReadStream(path, { start: e.dataStart, end: e.dataStart + e.compressedSize - 1, highWaterMark: 1 << 16 });
    fileStream.on('data', (c) => { raw += c.length; });
    // pipeline: destroying the returned stream (early stop, sink error) also closes the file
    const stream = e.method === 8 ? pipeline(fileStream, createInflateRaw(), noop) : fileStream;
    return { bytesRead: () => raw, totalBytes: st.size, entryName: e.name, stream };
  }
  const fileStream = createReadStream(path, { highWaterMark: 1 << 16 });
  fileStream.on('data', (c) => { raw += c.length; });
  if (magic.length >= 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
    const gz = pipeline(fileStream, createGunzip(), noop);
    return { bytesRead: () => raw, totalBytes: st.size, stream: gz };
  }
  return { bytesRead: () => raw, totalBytes: st.size, stream: fileStream };
}

/** Pick a decoder from the first bytes: BOMs, else a NUL-byte pattern for BOM-less UTF-16. */
export function pickEncoding(head: Uint8Array): 'utf-8' | 'utf-16le' | 'utf-16be' {
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  if (head.length >= 4 && head[0] !== 0 && head[1] === 0 && head[2] !== 0 && head[3] === 0) return 'utf-16le';
  if (head.length >= 4 && head[0] === 0 && head[1] !== 0 && head[2] === 0 && head[3] !== 0) return 'utf-16be';
  return 'utf-8';
}

/**
 * Decode a byte stream into lines and call `onLine(line, lineNo)` (1-based) for each, synchronously
 * per chunk. `onChunk` is called after each raw chunk (for progress). The BOM is removed.
 */
export async function forEachLine(stream: Readable, onLine: (line: string, lineNo: number) => void, onChunk?: () => void): Promise<number> {
  let decoder: TextDecoder | undefined;
  let carry = '';
  let lineNo = 0;
  let headBuf: Buffer | undefined;
  const feed = (text: string, final: boolean): void => {
    let s = carry.length ? carry + text : text;
    let start = 0;
    for (;;) {
      const nl = s.indexOf('\n', start);
      if (nl < 0) break;
      let end = nl;
      if (end > start && s.charCodeAt(end - 1) === 13) end--;
      lineNo++;
      onLine(s.slice(start, end), lineNo);
      start = nl + 1;
    }
    carry = start === 0 ? s : s.slice(start);
    if (final && carry.length) {
      let end = carry.length;
      if (carry.charCodeAt(end - 1) === 13) end--;
      lineNo++;
      const last = carry.slice(0, end);
      carry = '';
      onLine(last, lineNo);
    }
    s = '';
  };
  for await (const chunk of stream) {
    let buf = chunk as Buffer;
    if (!decoder) {
      // need a few bytes to choose the encoding
      headBuf = headBuf ? Buffer.concat([headBuf, buf]) : buf;
      if (headBuf.length < 4) continue;
      decoder = new TextDecoder(pickEncoding(headBuf));
      buf = headBuf;
      headBuf = undefined;
    }
    feed(decoder.decode(buf, { stream: true }), false);
    onChunk?.();
  }
  if (!decoder) decoder = new TextDecoder(pickEncoding(headBuf ?? Buffer.alloc(0)));
  const rest = headBuf ? decoder.decode(headBuf, { stream: true }) : '';
  feed(rest + decoder.decode(), true);
  onChunk?.();
  return lineNo;
}

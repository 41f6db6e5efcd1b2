/**
 * Raw frame recorder: NDJSON lines `{"recv": ms, "venue": ..., "frame": ...}`, gzip, rotating files —
 * the `recorder-ndjson` format `tapeflow replay` reads. Frames are written in ingestion order as the feed
 * ingests them (after trade dedupe; REST snapshots carry a `symbol`, backfilled trades are written in the
 * stream's frame format with `"_backfill": true`), so a replay of the files reproduces the live bars.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';
import type { FrameTap } from './types.js';

export interface RecorderOptions {
  dir: string;
  /** file name prefix, default "tapeflow" */
  prefix?: string;
  /** rotate after this many uncompressed bytes (default 256 MiB) */
  maxBytes?: number;
  /** rotate after this long (default 1 h) */
  maxMs?: number;
  now?: () => number;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.(\d{3})Z$/, '$1Z');
}

export class FrameRecorder {
  readonly files: string[] = [];
  lines = 0;
  private gz: Gzip | null = null;
  private out: WriteStream | null = null;
  private bytes = 0;
  private openedAt = 0;
  private readonly closing: Promise<void>[] = [];
  private readonly now: () => number;

  constructor(private readonly o: RecorderOptions) {
    this.now = o.now ?? Date.now;
    mkdirSync(o.dir, { recursive: true });
  }

  /** Use as a feed's `tap`. */
  tap: FrameTap = (recv, venue, frame) => this.write(recv, venue, frame);

  write(recv: number, venue: string, frame: unknown): void {
    const line = JSON.stringify({ recv, venue, frame }) + '\n';
    const now = this.now();
    if (!this.gz || this.bytes >= (this.o.maxBytes ?? 256 * 1024 * 1024) || now - this.openedAt >= (this.o.maxMs ?? 3_600_000)) this.rotate(now);
    this.gz!.write(line);
    this.bytes += line.length;
    this.lines++;
  }

  private rotate(now: number): void {
    this.finishCurrent();
    let name = `${this.o.prefix ?? 'tapeflow'}-${stamp(now)}.ndjson.gz`;
    for (let k = 1; this.files.includes(join(this.o.dir, name)); k++) name = `${this.o.prefix ?? 'tapeflow'}-${stamp(now)}-${k}.ndjson.gz`;
    const path = join(this.o.dir, name);
    this.gz = createGzip();
    this.out = createWriteStream(path);
    this.gz.pipe(this.out);
    this.bytes = 0;
    this.openedAt = now;
    this.files.push(path);
  }

  private finishCurrent(): void {
    const gz = this.gz, out = this.out;
    if (!gz || !out) return;
    this.gz = null;
    this.out = null;
    this.closing.push(new Promise<void>((resolve, reject) => {
      out.once('finish', () => resolve());
      out.once('error', reject);
      gz.end();
    }));
  }

  /** Flush and close the current file; resolves when every file is complete on disk. */
  async close(): Promise<void> {
    this.finishCurrent();
    await Promise.all(this.closing);
  }
}

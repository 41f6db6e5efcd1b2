/**
 * Ingest role: replay files (or the config's live feeds) → normalized events → msgpack on
 * tf.ev.<venue>.<instrument>, each with a Nats-Msg-Id built from the venue's own sequence/ids so
 * duplicates (two ingest nodes on one tape, a re-send after reconnect) are stored once.
 * Publishing is pipelined with a bounded window of unacknowledged messages: a slow stream slows
 * this publisher, never the consumers.
 */
import type { MarketEvent } from '../core/events.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import { replayFile } from '../replay/index.js';
import type { Nats } from './nats.js';
import { encode, eventMsgId, eventSubject } from './subjects.js';

/** recent dedup keys remembered for occurrence counting */
const OCC_KEYS = 200_000;

export interface IngestStats { published: number; duplicates: number; errors: number; files: number; done: boolean }

export class Ingest {
  readonly stats: IngestStats = { published: 0, duplicates: 0, errors: 0, files: 0, done: false };
  private readonly occ = new Map<string, number>();
  private inflight: Promise<void>[] = [];

  constructor(private readonly nats: Nats, private readonly registry: InstrumentRegistry, private readonly o: { window?: number; paceEventsPerS?: number; log?: (s: string) => void } = {}) {}

  /** Publish one event (waits only when the window of unacknowledged publishes is full). */
  async publish(ev: MarketEvent): Promise<void> {
    const venue = this.registry.find(ev.instrument)?.venue ?? 'unknown';
    // occurrences per key (instrument, type, time, id/sequence); times interleave (trade time vs quote
    // time), so keys are kept for the last OCC_KEYS events, not reset when the time moves
    const e = ev as { type: string; id?: number; seq?: number };
    const key = `${ev.instrument}:${e.type}:${ev.ts}:${e.type === 'trade' ? e.id : e.seq}`;
    const k = (this.occ.get(key) ?? 0) + 1;
    this.occ.delete(key);
    this.occ.set(key, k);
    if (this.occ.size > OCC_KEYS) this.occ.delete(this.occ.keys().next().value as string);
    const p = this.nats.js.publish(eventSubject(venue, ev.instrument), encode(ev), { msgID: eventMsgId(ev as { type: string; instrument: string; ts: number; id?: number; seq?: number }, venue, k) })
      .then((ack) => { if (ack.duplicate) this.stats.duplicates++; else this.stats.published++; }, (err) => { this.stats.errors++; this.o.log?.(`ingest: publish failed: ${(err as Error).message}\n`); });
    this.inflight.push(p);
    if (this.inflight.length >= (this.o.window ?? 512)) { await Promise.all(this.inflight); this.inflight = []; }
  }

  async flush(): Promise<void> { await Promise.all(this.inflight); this.inflight = []; }

  /** Replay files in order; with paceEventsPerS the tape is published at that rate (a live-like stream). */
  async replay(files: string[]): Promise<void> {
    const pace = this.o.paceEventsPerS ?? 0;
    const t0 = Date.now();
    let n = 0;
    for (const f of files) {
      const evs: MarketEvent[] = [];
      // the replay reader is synchronous per event: buffer the file, then publish with backpressure
      await replayFile(f, (ev) => { evs.push({ ...ev } as MarketEvent); }, { registry: this.registry });
      for (const ev of evs) {
        await this.publish(ev);
        n++;
        if (pace > 0 && n % 50 === 0) { const ahead = t0 + (n / pace) * 1000 - Date.now(); if (ahead > 0) { await this.flush(); await new Promise((r) => setTimeout(r, ahead)); } }
      }
      this.stats.files++;
      this.o.log?.(`ingest: ${f}: ${evs.length} events\n`);
    }
    await this.flush();
    this.stats.done = true;
  }
}

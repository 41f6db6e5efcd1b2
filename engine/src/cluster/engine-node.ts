/**
 * Engine role, per leased instrument: an InstrumentState (the unchanged deterministic pipeline) fed
 * by an ordered JetStream consumer on tf.ev.*.<instrument>, publishing its outputs on
 * tf.out.<instrument>.<kind> with Nats-Msg-Id "<instrument>:<kind>:<k>" (the k-th output of that kind,
 * the same on every run), so outputs a successor re-derives are stored once.
 *
 * Checkpoints: every snapshotEveryMs the whole state is imaged (state-image.ts) between two events,
 * then, once every output up to that point is acknowledged, written to KV tf_snap as chunks
 * img.<instrument>.<node>.<gen>.<n> followed by the header snap.<instrument> {seq, gen, parts, …} (the
 * header switches generations atomically; the previous generation's chunks are deleted after).
 * A node taking the instrument over restores the image named by the header and consumes from seq+1.
 */
import type { TapeFlowConfig } from '../config/types.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import type { MarketEvent } from '../core/events.js';
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { Nats } from './nats.js';
import { InstrumentState, TRADE_BATCH, type StateShape } from './instrument-state.js';
import type { Fixed } from './state-image.js';
import { clockSubject, decode, encode, EVENT_STREAM, instrumentEvents, outSubject, token, type ClockEvent, type OutKind } from './subjects.js';

export { clusterPipelineOptions } from './instrument-state.js';

/** KV value limit is the server's max_payload (1 MiB by default): images travel in chunks below it */
const CHUNK = 512 * 1024;

export interface Checkpoint extends StateShape {
  seq: number; events: number; bars: number; checksum: string; counters: Record<OutKind, number>;
  node: string; at: number; gen: number; parts: number; bytes: number;
}

export const snapKey = (id: string): string => `snap.${token(id)}`;
/** the writing node is part of the key: two nodes briefly running one instrument never mix chunks */
const chunkKey = (id: string, node: string, gen: number, n: number): string => `img.${token(id)}.${token(node)}.${gen}.${n}`;

/** One instrument's pipeline on this node. */
export class InstrumentRun {
  state: InstrumentState;
  private pending: Promise<unknown>[] = [];
  private messages: ConsumerMessages | null = null;
  private stopped = false;
  /** the checkpoint this run was restored from (null: from the stream start) */
  resumedFrom: Checkpoint | null = null;
  /** ms spent loading and restoring the checkpoint */
  restoreMs = 0;
  /** set when the restored state does not match its checkpoint header (a /health problem) */
  diverged: string | null = null;
  publishErrors = 0;
  lastCheckpoint: Checkpoint | null = null;
  /** events applied by this run (not counting the restored ones) */
  applied = 0;

  constructor(readonly id: string, private readonly nats: Nats, private readonly registry: InstrumentRegistry, private readonly config: TapeFlowConfig, private readonly node: string, private readonly fixed: Fixed) {
    this.state = new InstrumentState(id, registry, config, (kind, body) => this.out(kind, body));
  }

  get seq(): number { return this.state.meta.seq; }
  get bars(): number { return this.state.meta.bars; }
  get events(): number { return this.state.meta.events; }

  private out(kind: OutKind, body: Record<string, unknown>): void {
    // trade batches may be cut differently by a successor: their id names the range they hold
    const range = kind === 'trade' ? `:${(body.trades as unknown[]).length}` : '';
    const p = this.nats.js.publish(outSubject(this.id, kind), encode({ instrument: this.id, ...body }), { msgID: `${token(this.id)}:${kind}:${body.k as number}${range}` })
      .catch(() => { this.publishErrors++; });
    this.pending.push(p);
  }

  checksum(): string { return this.state.checksum(); }

  /** Restore the last checkpoint of this instrument, if any (before run()). */
  async resume(): Promise<Checkpoint | null> {
    const t0 = Date.now();
    const h = await this.nats.snaps.get(snapKey(this.id));
    if (!h || h.operation !== 'PUT') return null;
    const cp = decode<Checkpoint>(h.value);
    const parts: Uint8Array[] = [];
    for (let n = 0; n < cp.parts; n++) {
      const e = await this.nats.snaps.get(chunkKey(this.id, cp.node, cp.gen, n));
      if (!e || e.operation !== 'PUT') throw new Error(`checkpoint of ${this.id} at seq ${cp.seq}: chunk ${n} of ${cp.parts} missing`);
      parts.push(e.value);
    }
    const bytes = Buffer.concat(parts);
    if (bytes.length !== cp.bytes) throw new Error(`checkpoint of ${this.id} at seq ${cp.seq}: ${bytes.length} bytes, header says ${cp.bytes}`);
    this.state = InstrumentState.restore(this.id, this.registry, this.config, (kind, body) => this.out(kind, body), decode(bytes), cp, this.fixed);
    if (this.state.meta.seq !== cp.seq || this.checksum() !== cp.checksum) this.diverged = `restored state (seq ${this.state.meta.seq}, checksum ${this.checksum()}) ≠ its checkpoint header (seq ${cp.seq}, checksum ${cp.checksum})`;
    this.resumedFrom = cp;
    this.lastCheckpoint = cp;
    this.restoreMs = Date.now() - t0;
    return cp;
  }

  /** Consume the instrument's events after the restored seq (or from the stream start) until stop(). */
  async run(onEvent?: () => void): Promise<void> {
    const from = this.state.meta.seq;
    const c = await this.nats.js.consumers.get(EVENT_STREAM, from > 0
      ? { filter_subjects: instrumentEvents(this.id), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from + 1 }
      : { filter_subjects: instrumentEvents(this.id), deliver_policy: DeliverPolicy.All });
    this.messages = await c.consume({ max_messages: 2000 });
    if (this.stopped) { this.messages.stop(); return; }
    for await (const m of this.messages) {
      this.state.onEvent(decode<MarketEvent | ClockEvent>(m.data), m.seq);
      this.applied++;
      if (m.info.pending === 0 || this.state.tradeBuf.length >= TRADE_BATCH) this.state.flushTrades();
      onEvent?.();
      if (this.pending.length > 1000) await this.drain();
    }
  }

  async drain(): Promise<void> { const p = this.pending; this.pending = []; await Promise.all(p); }

  /**
   * Image the state now (between two events), wait until every output up to here is stored, then
   * write the chunks and switch the header. A successor restores exactly this point.
   */
  async checkpoint(): Promise<Checkpoint | null> {
    if (this.writing) return null;
    this.writing = true;
    try { return await this.writeCheckpoint(); } finally { this.writing = false; }
  }

  /** a checkpoint is due: the state moved since the last one */
  get dirty(): boolean { return this.state.meta.seq > (this.lastCheckpoint?.seq ?? 0); }

  private writing = false;

  private async writeCheckpoint(): Promise<Checkpoint> {
    const m = this.state.meta;
    const bytes = encode(this.state.image(this.fixed));
    const gen = (this.lastCheckpoint?.gen ?? 0) + 1;
    const cp: Checkpoint = { seq: m.seq, events: m.events, bars: m.bars, checksum: this.checksum(), counters: { ...m.counters }, ...this.state.shape(), node: this.node, at: Date.now(), gen, parts: Math.max(1, Math.ceil(bytes.length / CHUNK)), bytes: bytes.length };
    await this.drain();
    for (let n = 0; n < cp.parts; n++) await this.nats.snaps.put(chunkKey(this.id, this.node, gen, n), bytes.subarray(n * CHUNK, (n + 1) * CHUNK));
    await this.nats.snaps.put(snapKey(this.id), encode(cp));
    const prev = this.lastCheckpoint;
    this.lastCheckpoint = cp;
    if (prev) for (let n = 0; n < prev.parts; n++) await this.nats.snaps.purge(chunkKey(this.id, prev.node, prev.gen, n)).catch(() => {});
    return cp;
  }

  /**
   * Live use: when the open bar's end has passed on the wall clock, put a clock event for it in the log
   * (one per bar end: a second owner's identical one is dropped by its Nats-Msg-Id); the bar closes when
   * this run consumes it, so a replay of the stream closes it at the same point.
   */
  async tickClock(now: number, liveWindowMs: number): Promise<boolean> {
    const end = this.state.clockDue(now, liveWindowMs);
    if (end === null || end === this.clockSent) return false;
    this.clockSent = end;
    const ev: ClockEvent = { type: 'clock', instrument: this.id, ts: end };
    await this.nats.js.publish(clockSubject(this.id), encode(ev), { msgID: `clock:${token(this.id)}:${end}` });
    return true;
  }

  private clockSent = 0;

  stop(): void { this.stopped = true; this.messages?.stop(); }
}

/**
 * Engine role: the unchanged deterministic pipeline (Engine + BookManager + SignalEngine) per leased
 * instrument, fed by an ordered JetStream consumer on tf.ev.*.<instrument> from the stream's start.
 * Outputs go to tf.out.<instrument>.{bar,signal,state,checksum} with Nats-Msg-Id "<instrument>:<kind>:<k>"
 * (the k-th output of that kind, the same on every run), so a node that takes an instrument over
 * re-derives exactly the same outputs and JetStream drops the ones already published.
 * Every snapshotEveryMs a checkpoint {seq, bars, checksum, counters} goes to KV snap.<instrument>;
 * the next owner checks its own checksum when it passes that seq (a divergence is a health problem).
 */
import { Engine } from '../analytics/engine.js';
import { pipelineOptions } from '../config/index.js';
import type { TapeFlowConfig } from '../config/types.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import type { MarketEvent } from '../core/events.js';
import { BookManager } from '../book/manager.js';
import { SignalEngine } from '../signals/engine.js';
import { signalView, transitionView } from '../../../datafeed-adapter/src/views/signals.js';
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { Nats } from './nats.js';
import { decode, encode, EVENT_STREAM, instrumentEvents, outSubject, token, type OutKind } from './subjects.js';

export interface Checkpoint { seq: number; bars: number; checksum: string; counters: Record<OutKind, number>; node: string; at: number }

/** Pipeline options of every engine node and of the single-process reference replay. */
export function clusterPipelineOptions(c: TapeFlowConfig) { return { ...pipelineOptions(c.analytics), align: 'utc' as const }; }

/** One instrument's pipeline on this node. */
export class InstrumentRun {
  readonly engine: Engine;
  readonly signals: SignalEngine;
  seq = 0;
  bars = 0;
  events = 0;
  private readonly counters: Record<OutKind, number> = { bar: 0, signal: 0, state: 0, checksum: 0 };
  private pending: Promise<unknown>[] = [];
  private messages: ConsumerMessages | null = null;
  private stopped = false;
  /** checkpoint left by the previous owner: verified when this run passes its seq */
  verify: Checkpoint | null = null;
  diverged: string | null = null;
  publishErrors = 0;

  constructor(readonly id: string, private readonly nats: Nats, registry: InstrumentRegistry, config: TapeFlowConfig, private readonly node: string) {
    this.engine = new Engine(registry, clusterPipelineOptions(config));
    const books = new BookManager({ registry, emit: this.engine.onEvent });
    this.engine.observe(books.onEvent);
    this.signals = new SignalEngine().attach(this.engine, { books });
    const inst = registry.get(id);
    const price = (t: number) => inst.price.toNumber(t);
    const qty = (l: number) => inst.qty.toNumber(l);
    this.engine.onPipeline((p) => p.onBarClose(({ bar }) => {
      this.bars++;
      this.out('bar', { k: this.counters.bar, time: bar.start, end: bar.end, open: price(bar.open), high: price(bar.high), low: price(bar.low), close: price(bar.close), volume: qty(bar.volume), delta: qty(bar.delta), trades: bar.trades, checksum: p.checksum() });
    }));
    this.signals.onSignal((e) => this.out('signal', { k: this.counters.signal, ...signalView(e, inst) }));
    this.signals.onTransition((t) => this.out('state', { k: this.counters.state, ...transitionView(t, inst) }));
  }

  private out(kind: OutKind, body: Record<string, unknown>): void {
    const k = this.counters[kind]++;
    const p = this.nats.js.publish(outSubject(this.id, kind), encode({ instrument: this.id, ...body }), { msgID: `${token(this.id)}:${kind}:${k}` })
      .catch(() => { this.publishErrors++; });
    this.pending.push(p);
  }

  checksum(): string { return this.engine.pipelines.get(this.id)?.checksum() ?? '0'; }

  /** Consume the instrument's events from the start of the stream until stop(). */
  async run(onEvent?: () => void): Promise<void> {
    const c = await this.nats.js.consumers.get(EVENT_STREAM, { filter_subjects: instrumentEvents(this.id), deliver_policy: DeliverPolicy.All });
    this.messages = await c.consume({ max_messages: 2000 });
    if (this.stopped) { this.messages.stop(); return; }
    for await (const m of this.messages) {
      const ev = decode<MarketEvent>(m.data);
      this.engine.onEvent(ev);
      this.seq = m.seq;
      this.events++;
      if (this.verify && m.seq >= this.verify.seq) {
        if (m.seq === this.verify.seq && this.bars === this.verify.bars && this.checksum() !== this.verify.checksum) this.diverged = `checksum ${this.checksum()} ≠ ${this.verify.checksum} of node ${this.verify.node} at seq ${m.seq}`;
        this.verify = null;
      }
      onEvent?.();
      if (this.pending.length > 1000) await this.drain();
    }
  }

  async drain(): Promise<void> { const p = this.pending; this.pending = []; await Promise.all(p); }

  /** After draining the publishes, what a successor can verify against. */
  async checkpoint(): Promise<Checkpoint> {
    const seq = this.seq, bars = this.bars, checksum = this.checksum(), counters = { ...this.counters };
    await this.drain();
    const cp: Checkpoint = { seq, bars, checksum, counters, node: this.node, at: Date.now() };
    await this.nats.snaps.put(`snap.${token(this.id)}`, encode(cp));
    return cp;
  }

  stop(): void { this.stopped = true; this.messages?.stop(); }
}

/**
 * The deterministic state one engine node keeps per leased instrument: the unchanged Engine, its
 * BookManager and SignalEngine, and the output counters (the k of the k-th bar/signal/state). Its
 * image (state-image.ts) is what a checkpoint stores, so a node taking the instrument over restores
 * it and continues from the next stream sequence with exactly the numbers an uninterrupted run has.
 * Core-safe: no Node imports, no NATS.
 */
import { Engine } from '../analytics/engine.js';
import { pipelineOptions } from '../config/analytics.js';
import type { TapeFlowConfig } from '../config/types.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import type { MarketEvent } from '../core/events.js';
import { COL_ASK_VOL, COL_BID_VOL, COL_UNK_VOL } from '../analytics/row-grid.js';
import { BookManager } from '../book/manager.js';
import { SignalEngine } from '../signals/engine.js';
import { signalView, transitionView } from '../../../datafeed-adapter/src/views/signals.js';
import { captureImage, classesOf, fixedList, reachable, restoreImage, type Fixed } from './state-image.js';
import { STATE_CLASSES } from './state-classes.js';
import type { ClockEvent, OutKind } from './subjects.js';

/**
 * Pipeline options of every engine node and of the single-process reference replay. Closed bars held
 * in memory are bounded (the checkpoint image carries them; nothing in the pipeline or the detectors
 * reads old closed bars, so the outputs do not depend on the bound).
 */
export function clusterPipelineOptions(c: TapeFlowConfig) { return { ...pipelineOptions(c.analytics), align: 'utc' as const, keepBars: 240 }; }

export type Out = (kind: OutKind, body: Record<string, unknown>) => void;

/** most trades in one tf.out.<i>.trade message */
export const TRADE_BATCH = 256;

export interface StateMeta {
  /** last stream sequence applied */
  seq: number;
  events: number;
  bars: number;
  counters: Record<OutKind, number>;
}

/** Which lazily built, wired parts an image holds (the twin builds them before the overlay). */
export interface StateShape { l2: boolean; l3: boolean }

export class InstrumentState {
  readonly engine: Engine;
  readonly books: BookManager;
  readonly signals: SignalEngine;
  /** applied trades not yet published (part of the state: a checkpoint carries them) */
  readonly tradeBuf: (number | string)[][] = [];
  readonly meta: StateMeta = { seq: 0, events: 0, bars: 0, counters: { trade: 0, bar: 0, signal: 0, state: 0, checksum: 0, footprint: 0, profile: 0 } };

  constructor(readonly id: string, registry: InstrumentRegistry, config: TapeFlowConfig, out: Out) {
    this.engine = new Engine(registry, clusterPipelineOptions(config));
    this.books = new BookManager({ registry, emit: this.engine.onEvent });
    this.engine.observe(this.books.onEvent);
    this.signals = new SignalEngine().attach(this.engine, { books: this.books });
    const inst = registry.get(id);
    const price = (t: number) => inst.price.toNumber(t);
    const qty = (l: number) => inst.qty.toNumber(l);
    const emit = (kind: OutKind, body: Record<string, unknown>): void => { out(kind, { k: this.meta.counters[kind]++, ...body }); };
    this.engine.onPipeline((p) => p.onBarClose(({ bar, stats }) => {
      this.flushTrades(); // a bar's trades go out before the bar
      this.meta.bars++;
      emit('bar', { time: bar.start, end: bar.end, open: price(bar.open), high: price(bar.high), low: price(bar.low), close: price(bar.close), volume: qty(bar.volume), delta: qty(bar.delta), trades: bar.trades, checksum: p.checksum() });
      // the closed bar's footprint rows and the developing session profile, in price/instrument units
      const rows: number[][] = [];
      const g = bar.rows, cols = g.cols;
      for (let i = 0; i < g.length; i++) {
        const bid = cols[COL_BID_VOL][i], ask = cols[COL_ASK_VOL][i], unk = cols[COL_UNK_VOL][i];
        if (bid + ask + unk > 0) rows.push([price((g.base + i) * bar.rowTicks), qty(bid), qty(ask), qty(unk)]);
      }
      emit('footprint', { time: bar.start, rows, poc: price(stats.poc), delta: qty(bar.delta) });
      const s = p.profiles.sessions[p.profiles.sessions.length - 1];
      if (s && !s.profile.empty) { const lv = s.profile.levels(); emit('profile', { time: bar.end, session: s.key, poc: price(lv.poc), vah: price(lv.vah), val: price(lv.val), low: price(s.profile.lowPrice), high: price(s.profile.highPrice) }); }
    }));
    // every trade as applied (classified; quote-activity units and L3 book trades included), in ticks and
    // lots like tf.ev: gateways apply these to their WS/history projection without classifying again
    this.engine.onPipeline((p) => p.onTrade((t) => { this.tradeBuf.push([t.ts, t.price, t.size, t.side === 'buy' ? 1 : t.side === 'sell' ? -1 : 0, t.sideSource, t.id]); }));
    this.out = out;
    this.signals.onSignal((e) => emit('signal', signalView(e, inst) as unknown as Record<string, unknown>));
    this.signals.onTransition((t) => emit('state', transitionView(t, inst) as unknown as Record<string, unknown>));
    // created now, not on the first event: the twin a checkpoint is restored into has the same wiring
    this.engine.route(id);
  }

  private readonly out: Out;

  /**
   * Publish the buffered trades as one 'trade' message {k: index of its first trade, trades}. Called at
   * each bar close, when the consumer has caught up (live: every event) and every TRADE_BATCH trades,
   * so batch boundaries depend on timing: a successor may cut them differently, and the gateway
   * applies each trade index once (k tracking), not each message.
   */
  flushTrades(): void {
    const b = this.tradeBuf;
    if (!b.length) return;
    const k = this.meta.counters.trade;
    this.meta.counters.trade += b.length;
    this.out('trade', { k, trades: b.splice(0, b.length) });
  }

  onEvent(ev: MarketEvent | ClockEvent, seq: number): void {
    // the clock closes a finished time bar (as the one-process wall clock does), nothing else
    if (ev.type === 'clock') this.engine.pipeline(this.id).advance(ev.ts);
    else this.engine.onEvent(ev);
    this.meta.seq = seq;
    this.meta.events++;
  }

  /**
   * The end of the open time bar when the wall clock `now` has passed it in live use (the instrument's
   * last event within liveWindowMs of now; never for a replay of old data), else null.
   */
  clockDue(now: number, liveWindowMs: number): number | null {
    const p = this.engine.pipelines.get(this.id);
    const open = p?.openBar;
    if (!p || !open || p.spec.kind !== 'time' || now < open.end || now - p.lastTs > liveWindowMs) return null;
    return open.end;
  }

  checksum(): string { return this.engine.pipelines.get(this.id)?.checksum() ?? '0'; }

  shape(): StateShape { return { l2: this.books.l2.has(this.id), l3: this.books.l3.has(this.id) }; }

  private roots(): object { return { engine: this.engine, books: this.books, signals: this.signals, meta: this.meta, tradeBuf: this.tradeBuf }; }

  /** The image of the whole state (synchronous: taken between two events). */
  image(fixed: Fixed): unknown { return captureImage(this.roots(), fixed); }

  /** A state wired to `out`, overlaid with an image taken by image(). */
  static restore(id: string, registry: InstrumentRegistry, config: TapeFlowConfig, out: Out, img: unknown, shape: StateShape, fixed: Fixed): InstrumentState {
    const s = new InstrumentState(id, registry, config, out);
    if (shape.l2) s.books.sync(id);
    if (shape.l3) s.books.mboBook(id);
    const classes = classesOf([s.roots()], new Map(STATE_CLASSES));
    restoreImage(s.roots(), img, classes, fixed);
    return s;
  }
}

/**
 * The configuration objects every node builds the same way (registry, instruments, calendars), taken
 * once at node start before any event: recorded in an image by index, never copied.
 */
export function fixedObjects(registry: InstrumentRegistry): Fixed { return fixedList([...reachable([registry])]); }

/**
 * Multi-instrument engine: routes the normalized event stream to one InstrumentPipeline per
 * instrument (created on first sight from the registry) and to optional event observers (order
 * books, recorders, detectors). The composition root wires adapters around this.
 */
import type { MarketEvent } from '../core/events.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import { InstrumentPipeline, type PipelineOptions } from './pipeline.js';
import { Checksum } from './checksum.js';

export type EventObserver = (ev: MarketEvent) => void;

export class Engine {
  readonly pipelines = new Map<string, InstrumentPipeline>();
  private readonly observers: EventObserver[] = [];
  private readonly created: ((p: InstrumentPipeline) => void)[] = [];
  events = 0;
  /** route index → pipeline and id: an instrument's index is resolved once (route()), then events index an array */
  private readonly routes: InstrumentPipeline[] = [];
  private readonly routeIds: string[] = [];
  private readonly routeOf = new Map<string, number>();
  private lastInstrument = '';
  private lastPipeline: InstrumentPipeline | null = null;

  constructor(readonly registry: InstrumentRegistry, readonly pipelineOptions: Partial<PipelineOptions> = {}) {}

  /** Called for every event after the pipeline has seen it. */
  observe(fn: EventObserver): void { this.observers.push(fn); }
  /** Called when a pipeline is created (to attach bar listeners, detectors…). */
  onPipeline(fn: (p: InstrumentPipeline) => void): void {
    this.created.push(fn);
    for (const p of this.pipelines.values()) fn(p);
  }

  pipeline(instrument: string): InstrumentPipeline {
    return this.routes[this.route(instrument)];
  }

  /**
   * The route index of an instrument id (its pipeline is created on first use). A feed that knows
   * its instrument resolves this once and hands events to onEventAt: no string lookup per event.
   */
  route(instrument: string): number {
    const ix = this.routeOf.get(instrument);
    if (ix !== undefined) return ix;
    let p = this.pipelines.get(instrument);
    if (!p) {
      p = new InstrumentPipeline(this.registry.get(instrument), this.pipelineOptions);
      this.pipelines.set(instrument, p);
      for (const fn of this.created) fn(p);
    }
    // several names (venue symbol, id) can resolve to one pipeline: each gets an index to it
    const n = this.routes.length;
    this.routes.push(p);
    this.routeIds.push(instrument);
    this.routeOf.set(instrument, n);
    return n;
  }

  /** An event for the instrument at route index `ix` (from route()). */
  onEventAt(ix: number, ev: MarketEvent): void {
    this.events++;
    this.routes[ix].onEvent(ev);
    for (let i = 0; i < this.observers.length; i++) this.observers[i](ev);
  }

  onEvent = (ev: MarketEvent): void => {
    this.events++;
    // events come in runs per instrument: the last route answers first; then a short scan of the
    // route ids (feeds reuse one id string per instrument, so each compare is a pointer check)
    const id = ev.instrument;
    let p = this.lastPipeline;
    if (p === null || id !== this.lastInstrument) {
      const ids = this.routeIds;
      let ix = -1;
      const n = ids.length < 8 ? ids.length : 0;
      for (let i = 0; i < n; i++) if (ids[i] === id) { ix = i; break; }
      if (ix < 0) ix = this.route(id);
      p = this.routes[ix];
      this.lastInstrument = id; this.lastPipeline = p;
    }
    p.onEvent(ev);
    for (let i = 0; i < this.observers.length; i++) this.observers[i](ev);
  };

  finish(): void {
    for (const p of this.pipelines.values()) p.finish();
  }

  /** Checksum over all instruments' bar checksums, in instrument-id order. */
  checksum(): string {
    const h = new Checksum();
    for (const id of [...this.pipelines.keys()].sort()) h.str(id).str(this.pipelines.get(id)!.checksum());
    return h.hex();
  }
}

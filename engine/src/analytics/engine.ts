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
    let p = this.pipelines.get(instrument);
    if (!p) {
      p = new InstrumentPipeline(this.registry.get(instrument), this.pipelineOptions);
      this.pipelines.set(instrument, p);
      for (const fn of this.created) fn(p);
    }
    return p;
  }

  onEvent = (ev: MarketEvent): void => {
    this.events++;
    // events come in runs per instrument: the last route answers without a Map lookup (ids are
    // usually the same string object, so the compare is a pointer check)
    const id = ev.instrument;
    let p = this.lastPipeline;
    if (p === null || id !== this.lastInstrument) { p = this.pipeline(id); this.lastInstrument = id; this.lastPipeline = p; }
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

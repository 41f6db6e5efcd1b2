/**
 * Runs the seed preset (seed-preset.ts) at every bar close of every instrument, from the analytics the signal
 * engine already keeps: flow and move over the last `lookbackBars` closed bars, volume surge against the
 * average of the previous `surgeBars` bars, book imbalance (10 levels; Kite books have 5) and the highest
 * institutional ratio within `nearTicks` of the close (synced book only), and the PCR bias when a provider
 * gives one (Kite feeds with kite.pcr, live or replayed from a recording that holds the chain). Calls pass the
 * minimum-confidence / daily-cap gate before they are emitted.
 */
import type { Engine } from '../analytics/engine.js';
import type { SignalEngine } from './engine.js';
import type { PcrBias } from './pcr.js';
import { imbalance as bookImbalance } from '../book/analytics.js';
import { DEFAULT_SEED_OPTIONS, SeedSignalGate, seedSignal, type SeedOptions, type SeedSignal } from './seed-preset.js';

export interface SeedRunnerOptions extends SeedOptions { lookbackBars: number; surgeBars: number; nearTicks: number }
export const DEFAULT_SEED_RUNNER: Readonly<SeedRunnerOptions> = Object.freeze({ ...DEFAULT_SEED_OPTIONS, lookbackBars: 5, surgeBars: 20, nearTicks: 10 });

export class SeedPresetRunner {
  private readonly o: SeedRunnerOptions;
  private readonly gate: SeedSignalGate;
  private readonly listeners: ((s: SeedSignal) => void)[] = [];
  private readonly evalListeners: ((s: SeedSignal, emitted: boolean) => void)[] = [];
  /** every evaluation (emitted or not), for inspection */
  readonly evaluated = { bars: 0, withBook: 0, withPcr: 0, calls: 0, emitted: 0, gated: 0, maxInstitutionalRatio: 0, maxAbsFlow: 0 };

  constructor(private readonly sig: SignalEngine, opts: Partial<SeedRunnerOptions> = {}, private readonly pcrBias: (instrument: string) => PcrBias | null = () => null) {
    this.o = { ...DEFAULT_SEED_RUNNER, ...opts };
    this.gate = new SeedSignalGate(this.o);
  }

  /** emitted calls only (passed the minimum confidence and the daily cap) */
  onSignal(fn: (s: SeedSignal) => void): void { this.listeners.push(fn); }
  /** every evaluation at a bar close (NONE and gated calls too, with the reason in `reasoning`): live rule mode serves these */
  onEvaluation(fn: (s: SeedSignal, emitted: boolean) => void): void { this.evalListeners.push(fn); }
  private evaluatedOne(s: SeedSignal, emitted: boolean): void { for (const fn of this.evalListeners) fn(s, emitted); }

  attach(engine: Engine): void {
    engine.onPipeline((p) => {
      const bars: Array<{ open: number; close: number; delta: number; volume: number }> = [];
      const inst = p.instrument;
      p.onBarClose(({ bar }) => {
        bars.push({ open: bar.open, close: bar.close, delta: bar.delta, volume: bar.volume });
        if (bars.length > this.o.lookbackBars + this.o.surgeBars) bars.shift();
        if (bars.length < this.o.lookbackBars) return;
        const win = bars.slice(-this.o.lookbackBars), prior = bars.slice(0, -this.o.lookbackBars);
        const vol = win.reduce((s, b) => s + b.volume, 0);
        if (vol <= 0) return;
        const flow = win.reduce((s, b) => s + b.delta, 0) / vol;
        const move = (win[win.length - 1]!.close - win[0]!.open) / win[0]!.open;
        const avg = prior.length ? prior.reduce((s, b) => s + b.volume, 0) / prior.length : NaN;
        const surge = avg > 0 ? vol / this.o.lookbackBars / avg : NaN;
        const s = this.sig.instruments.get(inst.id);
        const book = s?.book && s.book.synced ? s.book : null;
        let ratio = NaN;
        if (book && s?.institutional) {
          ratio = 0;
          for (const l of s.institutional.top(50, bar.end)) if (Math.abs(l.price - bar.close) <= this.o.nearTicks && l.ratio > ratio) ratio = l.ratio;
        }
        this.evaluated.bars++;
        if (book) this.evaluated.withBook++;
        if (ratio > this.evaluated.maxInstitutionalRatio) this.evaluated.maxInstitutionalRatio = ratio;
        if (Math.abs(flow) > this.evaluated.maxAbsFlow) this.evaluated.maxAbsFlow = Math.abs(flow);
        const pcrBias = this.pcrBias(inst.id);
        if (pcrBias !== null) this.evaluated.withPcr++;
        const r = seedSignal({
          ts: bar.end, symbol: inst.id, price: inst.price.toNumber(bar.close), flow, move, institutionalRatio: ratio,
          imbalance: book ? bookImbalance(book, 10) : NaN, volumeSurge: surge, pcrBias,
        }, this.o);
        if (r.call === 'NONE') { this.evaluatedOne(r, false); return; }
        this.evaluated.calls++;
        const ok = this.gate.admit(r);
        if (ok !== true) { this.evaluated.gated++; r.reasoning.push(`not emitted: ${ok}`); this.evaluatedOne(r, false); return; }
        this.evaluated.emitted++;
        for (const fn of this.listeners) fn(r);
        this.evaluatedOne(r, true);
      });
    });
  }
}

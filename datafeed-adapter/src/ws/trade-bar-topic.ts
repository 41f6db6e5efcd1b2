/**
 * bar / footprint at an N-tick ("100T") or volume ("10V", instrument units) timeframe. The snapshot is
 * the REST bars of the stored trades (live-trade-bars.ts); from there every classified trade goes into
 * a TradeBarGrouper seeded with the snapshot's open bar. REST builds its bars with the same grouper
 * (bars.ts hourBars), so live bars close exactly where a later /api/v1/footprint or UDF /history
 * request puts their boundaries (each UTC hour restarts the count).
 */
import type { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import type { InstrumentPipeline } from '../../../engine/src/analytics/pipeline.js';
import type { Trade } from '../../../engine/src/core/events.js';
import type { Instrument } from '../../../engine/src/core/instruments.js';
import { TradeBarGrouper, type CountRule } from '../service/trade-bar-grouper.js';
import { BarTopic, SNAPSHOT_LIMITS, type Encoder, type FootprintView, type SymbolHub, type TopicRequest } from './topics.js';

/** Snapshot source: the latest `limit` REST bars of the rule (ascending; the last may be open). */
export type TradeBarsSource = (symbol: string, rule: CountRule, limit: number) => FootprintBar[];

/** A normalized N-tick / volume timeframe ('100T', '10V', '0.5V'). */
export const TRADE_TF = /^(\d+(?:\.\d+)?)([TV])$/;

/** '100T' → 100 trades, '0.5V' → 0.5 instrument units (as lots); null for other timeframes. */
export function countRuleOf(tf: string, inst: Instrument): CountRule | null {
  const m = TRADE_TF.exec(tf);
  if (!m) return null;
  return m[2] === 'T' ? { kind: 'tick', n: Number(m[1]) } : { kind: 'volume', lots: inst.qty.parse(m[1]) };
}

export class TradeBarTopic extends BarTopic {
  private grouper: TradeBarGrouper | null = null;

  constructor(key: string, ch: 'bar' | 'footprint', hub: SymbolHub, tf: string, intervalMs: number, enc: Encoder, private readonly rule: CountRule, private readonly source: TradeBarsSource, view: FootprintView | null) {
    super(key, ch, hub, tf, intervalMs, enc, false, view);
  }

  private ensure(p: InstrumentPipeline | null): TradeBarGrouper | null {
    if (this.grouper || !p) return this.grouper;
    const cal = this.hub.inst.calendar;
    this.grouper = new TradeBarGrouper(this.hub.inst.id, p.opts.footprintRowTicks ?? this.hub.inst.footprintRowTicks, this.rule,
      (ts) => cal.sessionAt(ts)?.key ?? '', (b) => { this.dirty = false; this.emit(this.project(b, b.start, true, null), 'close'); });
    return this.grouper;
  }

  override onTrade(_bar: FootprintBar, t?: Trade): void {
    const p = this.hub.pipeline;
    const g = this.ensure(p);
    if (!g || !t || !p) return;
    g.add(t, p.cvd.value);
    this.dirty = true;
  }

  /** time-bar closes of the engine's base timeframe say nothing about trade-built bars */
  override onBarClose(): void {}

  override flush(): void {
    const b = this.grouper?.open;
    if (b && b.trades > 0) this.emit(this.project(b, b.start, false, null), 'slot');
  }

  override snapshot(req: TopicRequest): { bars: unknown[]; open: unknown } {
    const lim = SNAPSHOT_LIMITS[this.ch as 'bar' | 'footprint'];
    const limit = Math.max(1, Math.min(lim.max, Math.floor(req.limit ?? lim.def)));
    const g = this.ensure(this.hub.pipeline);
    // one grouping per topic: later subscribers get its closed history from REST and its own open bar
    const bars = this.source(this.hub.inst.id, this.rule, limit + 1);
    const last = bars.length ? bars[bars.length - 1] : null;
    const openRest = last && !last.closed ? last : null;
    if (g && !g.open && openRest) g.seed(openRest);
    const closed = (openRest ? bars.slice(0, -1) : bars).slice(-limit);
    const open = g?.open && g.open.trades > 0 ? this.project(g.open, g.open.start, false, null) : null;
    return { bars: closed.map((b) => this.project(b, b.start, true, null)), open };
  }
}

/** Why an N-tick / volume timeframe cannot be served (null when it can): the REST parameter rules. */
export function tradeTfError(tf: string, inst: Instrument): string | null {
  const m = TRADE_TF.exec(tf);
  if (!m) return `invalid timeframe "${tf}"`;
  const n = Number(m[1]);
  if (m[2] === 'T') return Number.isInteger(n) && n >= 1 && n <= 10_000 ? null : `tick timeframe ${tf} must be 1T..10000T`;
  let lots = NaN;
  try { lots = inst.qty.parse(m[1]); } catch { /* not a multiple of the lot step */ }
  return lots > 0 && Math.abs(inst.qty.toNumber(lots) - n) <= 1e-9 * n ? null : `volume timeframe ${tf} must be a positive multiple of the lot step ${inst.lotStep}`;
}

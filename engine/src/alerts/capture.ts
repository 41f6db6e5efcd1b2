/**
 * The engine-thread side of alerts: turning SignalEngine / Engine events into small plain-data payloads
 * (prices formatted as exact decimal strings, volumes in instrument units) at the moment they happen,
 * and answering the bot commands' questions about live state. Everything here runs inside engine
 * callbacks or between engine chunks: keep it cheap, and return only structured-clone-able data.
 */
import type { Engine } from '../analytics/engine.js';
import type { ClosedBar, InstrumentPipeline } from '../analytics/pipeline.js';
import type { SignalEngine, InstrumentSignals } from '../signals/engine.js';
import { toSessionLevels } from '../signals/framing.js';
import type { RuleSignalJson } from '../signals/rule-mode.js';
import type { Alert, StrategyStatus, Transition } from '../signals/state.js';
import type { SignalEvent } from '../signals/types.js';
import type { ChartSnapshotProvider } from './chart.js';
import type { AlertDataSource, SignalView, StatusView } from './commands.js';
import { systemClock, type Clock } from './sender.js';
import type { AlertPayload, DailyBiasAlert } from './types.js';

/** Builds alert payloads from a SignalEngine's events (one instance per SignalEngine). */
export class AlertCapture {
  private readonly lastRule = new Map<string, string>();
  private readonly lastSession = new Map<string, string>();

  constructor(readonly signals: SignalEngine) {}

  private inst(symbol: string): InstrumentSignals | undefined { return this.signals.instruments.get(symbol); }

  private px(symbol: string, ticks: number): string {
    const s = this.inst(symbol);
    return s ? s.pipeline.instrument.price.format(ticks) : String(ticks);
  }

  private units(symbol: string, lots: number): number {
    const s = this.inst(symbol);
    return s ? s.pipeline.instrument.qty.toNumber(lots) : lots;
  }

  private findSignal(id: string): SignalEvent | null {
    const list = this.signals.signals;
    for (let i = list.length - 1, k = 0; i >= 0 && k < 5000; i--, k++) if (list[i].id === id) return list[i];
    return null;
  }

  private avgVolume(p: InstrumentPipeline, n = 20): number | null {
    const bars = p.bars;
    const k = Math.min(n, bars.length);
    if (!k) return null;
    let s = 0;
    for (let i = bars.length - k; i < bars.length; i++) s += bars[i].bar.volume;
    return s / k;
  }

  fromTransition(t: Transition): AlertPayload | null {
    const p = t.position;
    if (!p) return null;
    const sym = t.instrument;
    const base = { symbol: sym, ts: t.ts, side: p.side, grade: p.grade };
    const open = `${sym}:${p.side}:${p.openedAt}`;
    switch (t.to) {
      case 'POSITION_OPEN': {
        const s = this.inst(sym);
        const ev = this.findSignal(p.signalId);
        const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
        const open0 = s?.pipeline.openBar;
        const deltaLots = num(ev?.evidence.delta) ?? (open0 ? open0.delta : null);
        const volLots = num(ev?.evidence.volume) ?? num(ev?.evidence.aggressiveVolume) ?? (open0 ? open0.volume : null);
        const avg = s ? this.avgVolume(s.pipeline) : null;
        const bias = s?.bias ?? null;
        const risk = Math.abs(p.entry - p.sl);
        return {
          ...base, kind: 'entry', key: `entry:${open}`, score: p.score, pattern: ev ? `${ev.kind}/${ev.variant}` : p.signalId,
          delta: deltaLots === null ? null : this.units(sym, deltaLots), volume: volLots === null ? null : this.units(sym, volLots), avgVolume: avg === null ? null : this.units(sym, avg),
          bias: bias ? { direction: bias.direction, confidence: bias.confidence, shape: bias.shape } : null,
          entry: this.px(sym, p.entry), sl: this.px(sym, p.sl), tp: this.px(sym, p.tp), rr: risk > 0 ? Math.abs(p.tp - p.entry) / risk : 0,
          level: p.level ? { kind: p.level.kind, price: this.px(sym, p.level.price), strength: p.level.strength } : null,
          reasoning: [...t.reasoning],
        };
      }
      case 'BREAK_EVEN':
        return { ...base, kind: 'break_even', key: `be:${open}`, entry: this.px(sym, p.entry), sl: this.px(sym, p.sl), tp: this.px(sym, p.tp), reasoning: [...t.reasoning] };
      case 'TRAILING':
        return { ...base, kind: 'trail', key: `trail:${open}:${t.ts}:${p.sl}`, entry: this.px(sym, p.entry), sl: this.px(sym, p.sl), tp: this.px(sym, p.tp), reasoning: [...t.reasoning] };
      case 'CLOSED': {
        const exit = p.exit ?? NaN;
        return {
          ...base, kind: 'exit', key: `exit:${open}`, entry: this.px(sym, p.entry), exit: this.px(sym, exit), reason: p.exitReason ?? 'manual',
          pnl: this.px(sym, (p.side === 'buy' ? 1 : -1) * (exit - p.entry)), r: p.r ?? 0, durationMs: (p.closedAt ?? t.ts) - p.openedAt, summary: [...t.reasoning],
        };
      }
      default: return null;
    }
  }

  fromSignal(e: SignalEvent): AlertPayload | null {
    if (e.kind !== 'exhaustion' && e.kind !== 'divergence') return null;
    const s = this.inst(e.instrument);
    const p = s?.machine.position;
    if (!s || !p || e.side === p.side) return null;
    const close = s.machine.opts.closeOnOppositeStrength;
    if (e.strength >= close) return null; // the EXIT alert follows
    return {
      kind: 'exit_warning', symbol: e.instrument, ts: e.confirmedAt, key: `warn:${e.instrument}:${p.side}:${p.openedAt}:${e.kind}:${e.confirmedAt}`,
      side: p.side, grade: p.grade, signalKind: e.kind, strength: e.strength, closeThreshold: close, price: this.px(e.instrument, s.machine.lastPrice), entry: this.px(e.instrument, p.entry),
      reasoning: [...e.reasoning],
    };
  }

  fromSweep(a: Alert): AlertPayload | null {
    const e = a.signal;
    return {
      kind: 'sweep', symbol: a.instrument, ts: a.ts, key: `sweep:${a.instrument}:${e.side}:${e.confirmedAt}`, side: e.side,
      low: this.px(a.instrument, e.priceLow), high: this.px(a.instrument, e.priceHigh), strength: e.strength, reasoning: [...e.reasoning],
    };
  }

  fromRule(r: RuleSignalJson): AlertPayload | null {
    const prev = this.lastRule.get(r.symbol);
    this.lastRule.set(r.symbol, r.signal);
    if (r.signal === 'WAIT' || r.signal === prev) return null;
    const ts = Date.parse(r.timestamp);
    const s = this.inst(r.symbol);
    const dec = s ? s.pipeline.instrument.price.decimals : 8;
    return {
      kind: 'rule', symbol: r.symbol, ts, key: `rule:${r.symbol}:${r.signal}:${ts}`, signal: r.signal, confidence: r.confidence, level: r.confidence_level,
      price: Number(r.price.toFixed(dec)).toString(), cvd: this.units(r.symbol, r.metrics.cvd), imbalance: r.metrics.imbalance, vwap: r.metrics.vwap, absorption: r.metrics.absorption,
      sessionActive: r.session_active, session: s?.pipeline.openBar?.sessionKey ?? s?.pipeline.profiles.current?.key ?? '', reasoning: [...r.reasoning],
    };
  }

  /** DAILY BIAS on the first bar after a session closed (once per prior session). */
  fromBar(p: InstrumentPipeline, cb: ClosedBar): AlertPayload | null {
    const sym = p.instrument.id;
    const sessions = p.profiles.sessions;
    let prior: string | null = null;
    for (let i = sessions.length - 1; i >= 0; i--) if (sessions[i].closed) { prior = sessions[i].key; break; }
    if (prior === null || this.lastSession.get(sym) === prior) return null;
    this.lastSession.set(sym, prior);
    return dailyBiasPayload(this.signals, sym, cb.bar.end);
  }
}

/** DAILY BIAS payload of an instrument from the SignalEngine's framing (null before a completed session). */
export function dailyBiasPayload(signals: SignalEngine, sym: string, ts: number): DailyBiasAlert | null {
  const s = signals.instruments.get(sym);
  if (!s || !s.bias) return null;
  const sessions = s.pipeline.profiles.sessions;
  const closed = sessions.filter((x) => x.closed);
  if (!closed.length) return null;
  const prior = closed[closed.length - 1];
  // the developing session: open in the profiles, else (first bar after the close) the session at `ts` or the next one
  const cur = sessions.length && !sessions[sessions.length - 1].closed ? sessions[sessions.length - 1].key : s.pipeline.instrument.calendar.sessionFrom(ts).key;
  const lv = toSessionLevels(prior.key, prior.profile.summary());
  const px = (x: number): string => s.pipeline.instrument.price.format(x);
  const ok = (x: number): string | null => (x === x ? px(x) : null);
  return {
    kind: 'daily_bias', symbol: sym, ts, key: `bias:${sym}:${prior.key}:${cur}`, session: cur || prior.key, priorSession: prior.key,
    shape: s.bias.shape, direction: s.bias.direction, confidence: s.bias.confidence, acceptance: s.bias.acceptance, warning: s.bias.warning,
    poc: ok(lv.pocPrice), vah: ok(lv.vahPrice), val: ok(lv.valPrice), lvns: (lv.lvn ?? []).map((n) => px(n.peakPrice)),
    levels: s.levels.map((l) => ({ kind: l.kind, price: px(l.price), strength: l.strength, merged: l.merged, confluence: l.confluence })),
    reasoning: [...s.bias.reasoning],
  };
}

/** /status view of a StrategyStatus, prices formatted with `fmt` (ticks → decimal string). */
export function statusView(s: StrategyStatus, fmt: (ticks: number) => string): StatusView {
  const px = (t: number): string => (t === t ? fmt(t) : 'n/a');
  const p = s.position;
  return {
    instrument: s.instrument, label: s.label, state: s.state, price: s.price === s.price ? fmt(s.price) : null,
    position: p ? { side: p.side, entry: px(p.entry), sl: px(p.sl), tp: px(p.tp), grade: p.grade } : null,
    bias: s.bias ? { direction: s.bias.direction, confidence: s.bias.confidence } : null,
  };
}

/** The bot commands' view of a SignalEngine (+ a chart provider). Answers with plain data. */
export function engineDataSource(signals: SignalEngine, _engine: Engine | null, charts: ChartSnapshotProvider | null, clock: Clock = systemClock): AlertDataSource {
  const ids = (): string[] => [...signals.instruments.keys()].sort();
  const fmt = (sym: string) => (t: number): string => signals.instruments.get(sym)?.pipeline.instrument.price.format(t) ?? String(t);
  const src: AlertDataSource = {
    symbols: ids,
    resolve: (s) => { const u = s.trim().toUpperCase(); return ids().find((x) => x.toUpperCase() === u) ?? null; },
    status: (s) => { const st = signals.status(s); return st ? statusView(st, fmt(s)) : undefined; },
    bias: (s) => dailyBiasPayload(signals, s, clock.now()),
    signals: (s, n) => {
      const out: SignalView[] = [];
      const f = fmt(s);
      for (let i = signals.signals.length - 1; i >= 0 && out.length < n; i--) {
        const e = signals.signals[i];
        if (e.instrument === s) out.push({ confirmedAt: e.confirmedAt, kind: e.kind, variant: e.variant, side: e.side, low: f(e.priceLow), high: f(e.priceHigh), strength: e.strength });
      }
      return out.reverse();
    },
  };
  if (charts) src.chart = (s, tf) => charts.snapshot(s, tf ? { timeframe: tf } : {});
  return src;
}

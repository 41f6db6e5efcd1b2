/**
 * Composition helpers for the CLI: connect the engine's books and signals to the HTTP providers,
 * the WebSocket channels and the store. Adapters depend on the core; the core knows none of this.
 */
import type { Engine } from '../analytics/engine.js';
import type { BookManager } from '../book/manager.js';
import { DepthHistory } from '../book/depth-history.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import { MergedInstrument, mergeSourceOf } from '../feeds/merge.js';
import { DecimalScale } from '../core/decimal.js';
import type { MergedConfig } from '../config/types.js';
import type { SignalEngine } from '../signals/engine.js';
import type { SeedPresetRunner } from '../signals/seed-runner.js';
import { seedRuleJson } from '../signals/seed-preset.js';
import { PaperTrader, type PaperTraderOptions } from '../signals/paper.js';
import { paperControl } from './paper-control.js';
import type { SignalEvent } from '../signals/types.js';
import type { StrategyStatus } from '../signals/state.js';
import type { Store } from '../store/store.js';
import type { HistoryService, SignalRecord } from '../../../datafeed-adapter/src/service/history.js';
import type { StreamServer } from '../../../datafeed-adapter/src/ws/server.js';
import { levelView, signalView, statusView, transitionView } from '../../../datafeed-adapter/src/views/signals.js';

/** A signal as served by the HTTP API and UDF marks: price in price units (the event keeps ticks). */
function record(e: SignalEvent, registry: InstrumentRegistry): SignalRecord {
  const inst = registry.get(e.instrument);
  const mid = (e.priceLow + e.priceHigh) / 2;
  return { id: e.id, instrument: e.instrument, ts: e.confirmedAt, kind: e.kind, side: e.side === 'buy' || e.side === 'sell' ? e.side : undefined, price: inst.price.toNumber(mid), text: e.reasoning.join('; '), data: signalView(e, inst) };
}

export function wireBooks(service: HistoryService, books: BookManager): void {
  service.providers.orderbook = (symbol, depth) => {
    const b = books.book(symbol);
    if (!b) return null;
    return { ts: Date.now(), synced: b.synced, bids: b.depth('bid', depth).map(([p, s]) => [p, s] as [number, number]), asks: b.depth('ask', depth).map(([p, s]) => [p, s] as [number, number]) };
  };
}

/**
 * Depth history for the heatmap: run-length level runs per instrument (within ±rangeRows footprint
 * rows of the mid, for `windowMs`), served as snapshots sampled on a regular grid so that at most
 * `limit` columns come back: a level is in a column when its run covers the column's start time.
 */
export function wireDepthHistory(service: HistoryService, books: BookManager, registry: InstrumentRegistry, o: { windowMs?: number; rangeRows?: number } = {}): void {
  const hist = new Map<string, DepthHistory>();
  const of = (id: string): DepthHistory => {
    let h = hist.get(id);
    if (!h) {
      const inst = registry.find(id);
      h = new DepthHistory({ windowMs: o.windowMs ?? 2 * 3_600_000, rangeTicks: (inst?.footprintRowTicks ?? 10) * (o.rangeRows ?? 40) });
      hist.set(id, h);
    }
    return h;
  };
  books.onSnapshot((id, book, ts) => { const h = of(id); const m = book.mid(); if (m === m) h.setMid(m); h.onSnapshot(book, ts); });
  books.onLevel((id, side, price, size, _prev, ts) => {
    const h = of(id);
    const b = books.book(id);
    if (b) { const m = b.mid(); if (m === m) h.setMid(m); }
    h.onLevel(side, price, size, ts);
  });
  service.providers.depthHistory = (symbol, from, to, limit) => {
    const h = hist.get(symbol);
    const inst = registry.find(symbol);
    if (!h || !inst) return [];
    const step = Math.max(1000, Math.ceil((to - from) / Math.max(1, limit)));
    const cols = new Map<number, { ts: number; bids: [number, number][]; asks: [number, number][] }>();
    for (const r of h.runs(from, to)) {
      const s = Math.max(r.startTs, from);
      const e = Math.min(r.open ? to : r.endTs, to);
      for (let k = Math.ceil((s - from) / step); from + k * step < e; k++) {
        let c = cols.get(k);
        if (!c) cols.set(k, (c = { ts: from + k * step, bids: [], asks: [] }));
        (r.side === 'bid' ? c.bids : c.asks).push([inst.price.toNumber(r.price), inst.qty.toNumber(r.size)]);
      }
    }
    return [...cols.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
  };
}

/**
 * Signals → HTTP providers, WebSocket and store. Also paper trading: a PaperTrader follows the state
 * machine's entries/exits (`paper` options: account limits, initial balance, notional per trade; `false`
 * = off), served on GET /api/v1/paper and published with each transition on `trade_state` as `paper`
 * (the account action: open / close / refused, plus the account summary). Returns the trader.
 */
export function wireSignals(o: { engine: Engine; signals: SignalEngine; service: HistoryService; stream?: StreamServer; store?: Store; paper?: Partial<PaperTraderOptions> | false; /** each rule-mode decision (e.g. `--json-signals`: one JSON line on stdout) */ onRule?: (r: unknown) => void; /** ruleMode.preset seed: its evaluations are the served rule decisions */ seedRule?: SeedPresetRunner }): { paper: PaperTrader | null } {
  const { signals: sig, service, stream, store } = o;
  const toPrice = (id: string, ticks: number): number => { const s = sig.instruments.get(id); return s ? s.pipeline.instrument.price.toNumber(ticks) : ticks; };
  const paper = o.paper === false ? null : new PaperTrader(o.paper ?? {}, toPrice);
  if (paper) {
    service.providers.paper = (symbol) => paper.snapshot(symbol);
    service.providers.paperControl = paperControl(paper, service, stream);
    // every trade is the market price: stops/targets fill at the breaching trade, the daily-loss stop closes at it
    o.engine.onPipeline((p) => {
      const id = p.instrument.id;
      p.onTrade((t) => {
        for (const e of paper.mark(id, p.instrument.price.toNumber(t.price), t.ts)) stream?.publish('trade_state', id, { paper: { event: e.kind, reason: e.fill?.reason ?? null, fill: e.fill ? { ...e.fill, r: Number.isFinite(e.fill.r) ? e.fill.r : null } : null } });
      });
    });
  }
  service.providers.signals = (q) => sig.signals
    .filter((e) => (!q.symbol || e.instrument === q.symbol) && e.confirmedAt >= q.from && e.confirmedAt < q.to)
    .slice(-q.limit)
    .map((e) => record(e, o.engine.registry));
  service.providers.bias = (symbol) => sig.instruments.get(symbol)?.bias ?? undefined;
  // rule mode: the recent decisions per instrument, served on /api/v1/rule and the `rule` WS channel
  const rules = new Map<string, unknown[]>();
  const serve = (r: { symbol: string }): void => {
    let a = rules.get(r.symbol); if (!a) rules.set(r.symbol, (a = []));
    a.push(r); if (a.length > 500) a.splice(0, a.length - 500);
    stream?.publish('rule', r.symbol, r);
    o.onRule?.(r);
  };
  if (o.seedRule) o.seedRule.onEvaluation((s, emitted) => serve(seedRuleJson(s, emitted)));
  else sig.onRule(serve);
  service.providers.rule = (symbol, limit) => (sig.instruments.has(symbol) ? (rules.get(symbol) ?? []).slice(-limit) : undefined);
  // ticks and lots stay in the engine: every provider answers in price and instrument units
  const inst = (id: string) => o.engine.registry.get(id);
  const status = (s: StrategyStatus) => statusView(s, inst(s.instrument));
  service.providers.levels = (symbol) => sig.instruments.get(symbol)?.levels.map((l) => levelView(l, inst(symbol)));
  service.providers.tradeState = (symbol) => { const s = sig.status(symbol); return s ? status(s) : undefined; };
  service.providers.strategy = () => [...sig.instruments.keys()].map((id) => status(sig.status(id)!));
  service.providers.scanner = () => sig.scanner().map(status);
  // simulated instruments (first-run fallback, demo) are never stored as live data
  const stored = (id: string): boolean => o.engine.registry.find(id)?.venue !== 'simulator';
  sig.onSignal((e) => {
    if (stored(e.instrument)) store?.putSignal(e.instrument, e.confirmedAt, e.kind, e);
    stream?.publish('signal', e.instrument, signalView(e, inst(e.instrument)));
  });
  sig.onTransition((t) => {
    if (stored(t.instrument)) store?.putJournal(t.instrument, t.ts, `${t.from}->${t.to}`, t);
    const pe = paper?.onTransition(t) ?? null;
    const st = sig.status(t.instrument);
    const msg: Record<string, unknown> = { ...transitionView(t, inst(t.instrument)), status: st ? status(st) : null };
    if (paper && pe) {
      const a = paper.account;
      msg.paper = { event: pe.kind, reason: pe.reason ?? null, position: pe.position ?? null, fill: pe.fill ? { ...pe.fill, r: Number.isFinite(pe.fill.r) ? pe.fill.r : null } : null, balance: Math.round(a.balance * 100) / 100, exposure: Math.round(a.exposure() * 100) / 100, stopped: a.stopped, open: a.open.size };
    }
    stream?.publish('trade_state', t.instrument, msg);
    const s = sig.instruments.get(t.instrument);
    if (s) stream?.publish('bias', t.instrument, { bias: s.bias, levels: s.levels.map((l) => levelView(l, inst(t.instrument))) });
  });
  return { paper };
}

/**
 * Close time bars in quiet markets: every second, advance each pipeline to the market clock.
 * Only for live data (replays keep their own recorded time).
 */
export function startClock(engine: Engine, clock: () => number, everyMs = 1000, skip?: (instrument: string) => boolean): () => void {
  const t = setInterval(() => {
    const now = clock();
    for (const [id, p] of engine.pipelines) if (!skip?.(id)) p.advance(now);
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}

/**
 * Multi-venue instruments: each `merged` entry becomes an instrument of its own (e.g. BTC-AGG) whose
 * trades are its sources' trades mapped onto one tick grid, so bars, footprints and profiles come from
 * the normal pipeline; the per-venue split of every footprint cell is served by /api/v1/merged.
 */
export function wireMerged(o: { engine: Engine; registry: InstrumentRegistry; service: HistoryService; merged: MergedConfig[]; timeframeMs: number; keepBars?: number }): MergedInstrument[] {
  const out: MergedInstrument[] = [];
  const bySource = new Map<string, MergedInstrument[]>();
  o.merged.forEach((mc, k) => {
    if (mc.sources.length < 2) throw new Error(`merged[${k}].sources: a merged instrument needs at least two sources`);
    const srcs = mc.sources.map((id, j) => {
      const inst = o.registry.find(id);
      if (!inst) throw new Error(`merged[${k}].sources[${j}]: unknown instrument "${id}"`);
      return inst;
    });
    if (o.registry.find(mc.id)) throw new Error(`merged[${k}].id: "${mc.id}" is already an instrument`);
    const sources = srcs.map((i) => ({ ...mergeSourceOf(i), inverse: i.venue === 'binance-coinm' }));
    // the row height is configured in price units: converted to merged ticks once the merged grid is known
    const grid = new DecimalScale(new MergedInstrument({ id: mc.id, tickSize: mc.tickSize, timeframeMs: o.timeframeMs }, sources).tickSize);
    const rowTicks = mc.row === undefined ? 1 : grid.parse(mc.row);
    if (mc.row !== undefined && (!(rowTicks >= 1) || grid.offGrid)) throw new Error(`merged[${k}].row: ${mc.row} is not a positive multiple of the merged tick size ${grid.step}`);
    const m = new MergedInstrument({ id: mc.id, tickSize: mc.tickSize, rowTicks, timeframeMs: o.timeframeMs }, sources);
    const first = srcs[0];
    o.registry.add(m.instrumentSpec({ session: first.session, thresholds: first.thresholds, assetClass: first.assetClass }));
    for (const i of srcs) { let l = bySource.get(i.id); if (!l) bySource.set(i.id, (l = [])); l.push(m); }
    out.push(m);
  });
  if (!out.length) return out;
  const keepMs = (o.keepBars ?? 1000) * o.timeframeMs;
  o.engine.observe((ev) => {
    if (ev.type !== 'trade') return;
    const ms = bySource.get(ev.instrument);
    if (!ms) return;
    for (const m of ms) {
      const t = m.toTrade(ev);
      if (t) o.engine.onEvent(t);
    }
  });
  o.engine.onPipeline((p) => {
    const m = out.find((x) => x.id === p.instrument.id);
    if (m) p.onBarClose(({ bar }) => m.prune(bar.end - keepMs));
  });
  o.service.providers.merged = (symbol, from, to, venue) => {
    const m = out.find((x) => x.id === symbol);
    if (!m) return null;
    const inst = o.registry.get(symbol);
    const cells = m.cells().filter((c) => c.barStart >= from && c.barStart < to);
    const qty = (lots: number): number => inst.qty.toNumber(lots);
    return cells.map((c) => ({
      time: c.barStart, price: inst.price.toNumber(c.price), buy: qty(c.buy), sell: qty(c.sell), unknown: qty(c.unknown), trades: c.trades,
      venues: Object.fromEntries(Object.entries(c.venues).filter(([v]) => !venue || v === venue).map(([v, x]) => [v, { buy: qty(x.buy), sell: qty(x.sell), unknown: qty(x.unknown), trades: x.trades }])),
    })).filter((c) => Object.keys(c.venues).length > 0);
  };
  return out;
}

/**
 * Derived tickers for the Charting Library studies (charting-hosts §3.5): `BTCUSDT#CVD`,
 * `#DELTA`, `#VWAP`, `#IMB`, `#SIG` resolve like their base symbol (same session/timezone, so bars
 * align) and serve bars whose OHLCV carry the order-flow values:
 *
 * | kind  | open            | high              | low               | close            | volume          |
 * |-------|-----------------|-------------------|-------------------|------------------|-----------------|
 * | CVD   | cvd open        | cvd high          | cvd low           | cvd close        | abs(bar delta)  |
 * | DELTA | 0               | deltaMax          | deltaMin          | bar delta        | bar volume      |
 * | VWAP  | vwap            | vwap + 1σ         | vwap − 1σ         | vwap             | σ               |
 * | IMB   | buy imbalances  | max(buy, sell)    | min(buy, sell)    | sell imbalances  | stacked runs    |
 * | SIG   | buy signals     | buy kinds bitmask | sell kinds bitmask| sell signals     | signals         |
 *
 * `withDerivedTickers(datafeed)` wraps any IBasicDataFeed (TapeFlowDatafeed) so it resolves and
 * serves these from `/api/v1/footprint`, `/api/v1/delta`, `/api/v1/vwap`, `/api/v1/signals` and the
 * stream `delta`/`footprint`/`vwap` channels. Browser-safe.
 */
import type {
  Bar, DatafeedErrorCallback, HistoryCallback, IBasicDataFeed, LibrarySymbolInfo, Mark, PeriodParams, ResolutionString, ResolveCallback,
  SubscribeBarsCallback, SymbolResolveExtension, GetMarksCallback,
} from '../../datafeed-adapter/src/client/types.js';
import { vwapFromBars } from '../render/vwap.js';
import { fromApiBar } from '../render/prepare.js';

export const DERIVED_KINDS = ['CVD', 'DELTA', 'VWAP', 'IMB', 'SIG'] as const;
export type DerivedKind = (typeof DERIVED_KINDS)[number];
export const SIGNAL_BITS: Record<string, number> = { absorption: 1, initiative: 2, sweep: 4, exhaustion: 8, divergence: 16, iceberg: 32, entry: 64, exit: 128 };

export function parseDerivedTicker(name: string): { base: string; kind: DerivedKind } | null {
  const i = name.lastIndexOf('#');
  if (i <= 0) return null;
  const kind = name.slice(i + 1).toUpperCase() as DerivedKind;
  return (DERIVED_KINDS as readonly string[]).includes(kind) ? { base: name.slice(0, i), kind } : null;
}

export const derivedTicker = (base: string, kind: DerivedKind): string => `${base}#${kind}`;

/** LibrarySymbolInfo of a derived ticker: the base's session, timezone and resolutions. */
export function derivedSymbolInfo(base: LibrarySymbolInfo, kind: DerivedKind, volumeDecimals = 3): LibrarySymbolInfo {
  const ticker = derivedTicker(base.ticker || base.name, kind);
  const volumeLike = kind === 'CVD' || kind === 'DELTA';
  const counts = kind === 'IMB' || kind === 'SIG';
  return {
    ...base, name: derivedTicker(base.name, kind), ticker, full_name: undefined,
    description: `${base.description || base.name} · ${({ CVD: 'cumulative delta', DELTA: 'bar delta', VWAP: 'session VWAP', IMB: 'imbalance count', SIG: 'order-flow signals' } as const)[kind]}`,
    type: 'index', format: volumeLike ? 'volume' : 'price',
    pricescale: counts ? 1 : volumeLike ? 10 ** volumeDecimals : base.pricescale, minmov: 1,
    visible_plots_set: 'ohlcv', has_empty_bars: false,
  };
}

type J = Record<string, any>;

/** Bars (CL: time in ms) of a derived kind from `/api/v1/footprint` bars (rows not needed). */
export function derivedBars(kind: DerivedKind, footprint: J[], extra: { vwap?: J[]; signals?: J[] } = {}): Bar[] {
  if (kind === 'VWAP') {
    return (extra.vwap ?? []).filter((v) => v.vwap !== null).map((v) => {
      const sd = v.stdev ?? 0;
      return { time: v.time, open: v.vwap, high: v.vwap + sd, low: v.vwap - sd, close: v.vwap, volume: sd };
    });
  }
  if (kind === 'SIG') {
    const times = footprint.map((b) => b.time as number);
    const agg = new Map<number, { b: number; s: number; bm: number; sm: number }>();
    for (const s of extra.signals ?? []) {
      const i = indexAt(times, s.ts ?? s.time);
      if (i < 0) continue;
      const a = agg.get(times[i]) ?? { b: 0, s: 0, bm: 0, sm: 0 };
      const bit = SIGNAL_BITS[s.kind] ?? 0;
      if (s.side === 'sell') { a.s++; a.sm |= bit; } else { a.b++; a.bm |= bit; }
      agg.set(times[i], a);
    }
    return times.map((t) => { const a = agg.get(t) ?? { b: 0, s: 0, bm: 0, sm: 0 }; return { time: t, open: a.b, high: a.bm, low: a.sm, close: a.s, volume: a.b + a.s }; });
  }
  return footprint.map((b): Bar => {
    switch (kind) {
      case 'CVD': return { time: b.time, open: b.cvd.open, high: b.cvd.high, low: b.cvd.low, close: b.cvd.close, volume: Math.abs(b.delta) };
      case 'DELTA': return { time: b.time, open: 0, high: b.deltaMax ?? Math.max(0, b.delta), low: b.deltaMin ?? Math.min(0, b.delta), close: b.delta, volume: b.volume };
      default: {
        const bi = b.buyImbalances ?? 0, si = b.sellImbalances ?? 0;
        return { time: b.time, open: bi, high: Math.max(bi, si), low: Math.min(bi, si), close: si, volume: Array.isArray(b.stacked) ? b.stacked.length : 0 };
      }
    }
  });
}

/** Stream item → derived bar (delta channel for CVD/DELTA, footprint for IMB, vwap for VWAP). */
export function derivedStreamBar(kind: DerivedKind, d: J, barTime?: number): Bar | null {
  switch (kind) {
    case 'CVD': return { time: d.t, open: d.cvdO, high: d.cvdH, low: d.cvdL, close: d.cvdC, volume: Math.abs(d.delta) };
    case 'DELTA': return { time: d.t, open: 0, high: d.deltaMax, low: d.deltaMin, close: d.delta, volume: (d.buy ?? 0) + (d.sell ?? 0) };
    case 'IMB': return { time: d.t, open: d.buyImbalances, high: Math.max(d.buyImbalances, d.sellImbalances), low: Math.min(d.buyImbalances, d.sellImbalances), close: d.sellImbalances, volume: 0 };
    case 'VWAP': return d.vwap === null || barTime === undefined ? null : { time: barTime, open: d.vwap, high: d.vwap + (d.stdev ?? 0), low: d.vwap - (d.stdev ?? 0), close: d.vwap, volume: d.stdev ?? 0 };
    default: return null;
  }
}

function indexAt(times: number[], ms: number): number {
  let lo = 0, hi = times.length - 1, r = -1;
  while (lo <= hi) { const m = (lo + hi) >> 1; if (times[m] <= ms) { r = m; lo = m + 1; } else hi = m - 1; }
  return r;
}

/** Datafeed marks (Unix SECONDS, at the start of the bar containing each signal, ≤ 10 per bar). */
export function signalMarks(signals: J[], barTimesMs: number[]): Mark[] {
  const perBar = new Map<number, number>();
  const out: Mark[] = [];
  for (const s of signals) {
    const i = indexAt(barTimesMs, s.ts ?? s.time);
    if (i < 0) continue;
    const t = barTimesMs[i];
    const n = perBar.get(t) ?? 0;
    if (n >= 10) continue;
    perBar.set(t, n + 1);
    const buy = s.side !== 'sell';
    out.push({ id: String(s.id ?? `${s.kind}:${t}:${n}`), time: Math.floor(t / 1000), color: buy ? 'green' : 'red', text: s.text ?? `${s.kind} ${s.side ?? ''}`.trim(), label: String(s.kind ?? '?').slice(0, 1).toUpperCase(), labelFontColor: '#ffffff', minSize: 14 });
  }
  return out;
}

export interface DerivedOptions {
  /** origin of /api/v1 (default: the datafeed's baseUrl or location.origin) */
  apiBase: string;
  fetch?: typeof fetch;
  token?: string;
}

interface StreamLike { subscribe(ch: string, sym: string, h: { onSnapshot(d: any): void; onUpdate(d: any): void }, o?: { tf?: string }): { unsubscribe(): void } }

/**
 * Wraps a datafeed: derived tickers are resolved and served here, everything else is delegated.
 * This is what `TapeFlowDatafeed` needs to call for `BTCUSDT#CVD` etc.: `resolveDerived`,
 * `getDerivedBars`, `subscribeDerived` (below), or simply use the wrapper.
 */
export function withDerivedTickers<T extends IBasicDataFeed>(inner: T & { stream?: StreamLike }, o: Partial<DerivedOptions> = {}): T {
  const api = o.apiBase ?? ((inner as any).base as string | undefined) ?? (typeof location !== 'undefined' ? location.origin : '');
  const f = o.fetch ?? globalThis.fetch.bind(globalThis);
  const get = async (path: string, q: Record<string, string | number>): Promise<J> => {
    const qs = Object.entries({ ...q, ...(o.token ? { token: o.token } : {}) }).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');
    const r = await f(`${api}${path}?${qs}`);
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return (await r.json()) as J;
  };
  const subs = new Map<string, { unsubscribe(): void }[]>();
  const wrapper = Object.create(inner) as T;
  Object.assign(wrapper, {
    resolveSymbol(name: string, ok: ResolveCallback, bad: DatafeedErrorCallback, ext?: SymbolResolveExtension) {
      const d = parseDerivedTicker(name);
      if (!d) return inner.resolveSymbol(name, ok, bad, ext);
      inner.resolveSymbol(d.base, (info) => ok(derivedSymbolInfo(info, d.kind)), bad, ext);
    },
    getBars(info: LibrarySymbolInfo, res: ResolutionString, p: PeriodParams, ok: HistoryCallback, bad: DatafeedErrorCallback) {
      const d = parseDerivedTicker(info.ticker || info.name);
      if (!d) return inner.getBars(info, res, p, ok, bad);
      getDerivedBars(get, d.base, d.kind, res, p).then((bars) => ok(bars, bars.length ? {} : { noData: true }), (e: Error) => bad(e.message));
    },
    subscribeBars(info: LibrarySymbolInfo, res: ResolutionString, onTick: SubscribeBarsCallback, guid: string, reset: () => void) {
      const d = parseDerivedTicker(info.ticker || info.name);
      if (!d) return inner.subscribeBars(info, res, onTick, guid, reset);
      const stream = inner.stream;
      if (!stream) return;
      subs.set(guid, subscribeDerived(stream, d.base, d.kind, res, onTick));
    },
    unsubscribeBars(guid: string) {
      const s = subs.get(guid);
      if (s) { for (const x of s) x.unsubscribe(); subs.delete(guid); return; }
      inner.unsubscribeBars(guid);
    },
    getMarks(info: LibrarySymbolInfo, from: number, to: number, cb: GetMarksCallback<Mark>, res: ResolutionString) {
      const sym = parseDerivedTicker(info.ticker || info.name)?.base ?? (info.ticker || info.name);
      Promise.all([
        get('/api/v1/signals', { symbol: sym, from: from * 1000, to: to * 1000 }),
        get('/api/v1/footprint', { symbol: sym, resolution: res, from: from * 1000, to: to * 1000, rows: 'false' }),
      ]).then(([s, fp]) => cb(signalMarks(s.signals ?? [], (fp.bars ?? []).map((b: J) => b.time))), () => cb([]));
    },
  });
  return wrapper;
}

type Getter = (path: string, q: Record<string, string | number>) => Promise<J>;

export async function getDerivedBars(get: Getter, base: string, kind: DerivedKind, res: string, p: PeriodParams): Promise<Bar[]> {
  const q = { symbol: base, resolution: res, from: Math.floor(p.from) * 1000, to: Math.ceil(p.to) * 1000, countback: Math.max(0, Math.floor(p.countBack)), rows: 'false' };
  const fp = await get('/api/v1/footprint', q);
  const bars: J[] = fp.bars ?? [];
  if (!bars.length) return [];
  if (kind === 'VWAP') {
    const v = await get('/api/v1/vwap', { symbol: base, resolution: res, anchor: bars[0].time, to: q.to });
    const series: J[] = v.anchored?.series ?? [];
    if (series.length) return derivedBars('VWAP', bars, { vwap: series }).filter((b) => b.time < q.to);
    // no trade history behind /api/v1/vwap (engine without a store): session VWAP from the footprint rows
    const withRows = await get('/api/v1/footprint', { ...q, rows: 'true' });
    const pts = vwapFromBars((withRows.bars ?? []).map(fromApiBar));
    return derivedBars('VWAP', bars, { vwap: pts.map((p) => ({ time: p.time, vwap: p.vwap, stdev: p.sd })) }).filter((b) => b.time < q.to);
  }
  if (kind === 'SIG') {
    const s = await get('/api/v1/signals', { symbol: base, from: bars[0].time, to: q.to });
    return derivedBars('SIG', bars, { signals: s.signals ?? [] });
  }
  return derivedBars(kind, bars).filter((b) => b.time < q.to);
}

export function subscribeDerived(stream: StreamLike, base: string, kind: DerivedKind, res: string, onTick: SubscribeBarsCallback): { unsubscribe(): void }[] {
  let last = -Infinity;
  const emit = (b: Bar | null): void => { if (b && b.time >= last) { last = b.time; onTick(b); } };
  if (kind === 'CVD' || kind === 'DELTA') return [stream.subscribe('delta', base, { onSnapshot: (d) => { if (d.open) emit(derivedStreamBar(kind, d.open)); }, onUpdate: (d) => emit(derivedStreamBar(kind, d)) }, { tf: res })];
  if (kind === 'IMB') return [stream.subscribe('footprint', base, { onSnapshot: (d) => { if (d.open) emit(derivedStreamBar(kind, d.open)); }, onUpdate: (d) => emit(derivedStreamBar(kind, d)) }, { tf: res })];
  if (kind === 'VWAP') {
    let barTime: number | undefined;
    return [
      stream.subscribe('bar', base, { onSnapshot: (d) => { barTime = d.open?.t; }, onUpdate: (d) => { barTime = d.t; } }, { tf: res }),
      stream.subscribe('vwap', base, { onSnapshot: (d) => emit(derivedStreamBar('VWAP', d, barTime)), onUpdate: (d) => emit(derivedStreamBar('VWAP', d, barTime)) }),
    ];
  }
  return [];
}

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
import { groupSignalMarks } from '../../datafeed-adapter/src/client/marks.js';
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
    ...base, name: derivedTicker(base.name, kind), ticker,
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

/** Datafeed marks (Unix SECONDS, at the start of the bar holding each signal): ≤ 3 per bar with a count badge (client/marks.ts). */
export function signalMarks(signals: J[], barTimesMs: number[]): Mark[] {
  return groupSignalMarks(signals.map((x) => ({ id: x.id, ts: x.ts ?? x.time ?? x.confirmedAt, kind: String(x.kind ?? '?'), side: x.side, text: x.text })), (ts) => {
    const i = indexAt(barTimesMs, ts);
    return i < 0 ? NaN : barTimesMs[i];
  });
}

export interface DerivedOptions {
  /** origin of /api/v1 (default: the datafeed's baseUrl or location.origin) */
  apiBase: string;
  fetch?: typeof fetch;
  token?: string;
}

interface StreamLike { subscribe(ch: string, sym: string, h: { onSnapshot(d: any): void; onUpdate(d: any): void; onError?(e: any): void }, o?: { tf?: string }): { unsubscribe(): void } }

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
  const lastBars = new Map<string, Bar>();
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
      getDerivedBars(get, d.base, d.kind, res, p).then((bars) => {
        if (p.firstDataRequest && bars.length) lastBars.set(`${info.ticker || info.name}|${res}`, bars[bars.length - 1]);
        ok(bars, bars.length ? {} : { noData: true });
      }, (e: Error) => bad(e.message));
    },
    subscribeBars(info: LibrarySymbolInfo, res: ResolutionString, onTick: SubscribeBarsCallback, guid: string, reset: () => void) {
      const d = parseDerivedTicker(info.ticker || info.name);
      if (!d) return inner.subscribeBars(info, res, onTick, guid, reset);
      const stream = inner.stream;
      if (!stream) return;
      subs.set(guid, subscribeDerived(stream, d.base, d.kind, res, onTick, { last: lastBars.get(`${info.ticker || info.name}|${res}`), get }));
    },
    unsubscribeBars(guid: string) {
      const s = subs.get(guid);
      if (s) { for (const x of s) x.unsubscribe(); subs.delete(guid); return; }
      inner.unsubscribeBars(guid);
    },
    getMarks(info: LibrarySymbolInfo, from: number, to: number, cb: GetMarksCallback<Mark>, res: ResolutionString) {
      // marks always come from the base symbol's UDF /marks (grouped per bar server-side, any `to`)
      const d = parseDerivedTicker(info.ticker || info.name);
      const baseInfo = d ? { ...info, name: d.base, ticker: d.base } : info;
      if (inner.getMarks) return inner.getMarks(baseInfo, from, to, cb, res);
      get('/marks', { symbol: baseInfo.ticker || baseInfo.name, from: Math.max(0, Math.floor(from)), to: Math.min(Math.ceil(to), MAX_UDF_S), resolution: res })
        .then((m) => cb(Array.isArray(m) ? (m as Mark[]) : []), () => cb([]));
    },
  });
  return wrapper;
}

type Getter = (path: string, q: Record<string, string | number>) => Promise<J>;

/** Bars served per derived request at most (the library asks for up to 1.2 M on a replay's first load). */
export const MAX_DERIVED_BARS = 5000;
const MAX_UDF_S = 4_102_444_799;
const DAY_MS = 86_400_000;

/**
 * Derived bars for a library request, clamped to what exists: `countBack` to MAX_DERIVED_BARS, the
 * library's `to` (the browser's now, or 2037 for marks) to the server's range limits, and the VWAP and
 * signal requests to the span of the footprint bars actually returned.
 */
export async function getDerivedBars(get: Getter, base: string, kind: DerivedKind, res: string, p: PeriodParams): Promise<Bar[]> {
  const toMs = Math.min(Math.ceil(p.to) * 1000, MAX_UDF_S * 1000);
  const q = { symbol: base, resolution: res, from: Math.max(0, Math.floor(p.from) * 1000), to: toMs, countback: Math.min(MAX_DERIVED_BARS, Math.max(1, Math.floor(p.countBack || 0))), rows: 'false' };
  const fp = await get('/api/v1/footprint', q);
  const bars: J[] = (fp.bars ?? []).filter((b: J) => b.time < toMs);
  if (!bars.length) return [];
  const first = bars[0].time as number;
  const last = bars[bars.length - 1];
  // the end of what exists: the last bar's end (open bars: its start + 1 ms)
  const end = Math.min(toMs, typeof last.end === 'number' && last.end > last.time ? last.end : last.time + 1);
  // tick resolutions: the main series has one bar per second (UDF /history merges same-second tick bars), so must we
  const perSecond = /T$/.test(res) ? (b: Bar[]) => mergeSameSecond(kind, b) : (b: Bar[]) => b;
  if (kind === 'VWAP') {
    let series: J[] = [];
    if (end - first <= 31 * DAY_MS && !/T$/.test(res)) {
      try { series = (await get('/api/v1/vwap', { symbol: base, resolution: res, anchor: first, to: end })).anchored?.series ?? []; } catch { series = []; }
    }
    if (series.length) return derivedBars('VWAP', bars, { vwap: series }).filter((b) => b.time < toMs);
    // longer than the anchored series allows, tick bars, or no trade history behind /api/v1/vwap: session VWAP from the footprint rows
    const withRows = await get('/api/v1/footprint', { ...q, rows: 'true' });
    const pts = vwapFromBars((withRows.bars ?? []).map(fromApiBar));
    return perSecond(derivedBars('VWAP', bars, { vwap: pts.map((x) => ({ time: x.time, vwap: x.vwap, stdev: x.sd })) }).filter((b) => b.time < toMs));
  }
  if (kind === 'SIG') {
    const s = await get('/api/v1/signals', { symbol: base, from: Math.max(first, end - 399 * DAY_MS), to: end, limit: 10000 });
    return perSecond(derivedBars('SIG', bars, { signals: s.signals ?? [] }));
  }
  return perSecond(derivedBars(kind, bars));
}

/** Merge derived bars that start in the same second into one bar stamped at that second. */
export function mergeSameSecond(kind: DerivedKind, bars: Bar[]): Bar[] {
  const out: Bar[] = [];
  let run = 0; // DELTA: running delta inside the merged bar (its extremes are high/low)
  for (const b of bars) {
    const t = Math.floor(b.time / 1000) * 1000;
    const m = out[out.length - 1];
    if (!m || m.time !== t) {
      out.push({ ...b, time: t });
      run = b.close;
      continue;
    }
    switch (kind) {
      case 'CVD': m.high = Math.max(m.high, b.high); m.low = Math.min(m.low, b.low); m.close = b.close; m.volume = (m.volume ?? 0) + (b.volume ?? 0); break;
      case 'DELTA': m.high = Math.max(m.high, run + b.high); m.low = Math.min(m.low, run + b.low); run += b.close; m.close = run; m.volume = (m.volume ?? 0) + (b.volume ?? 0); break;
      case 'VWAP': Object.assign(m, { open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume }); break;
      case 'SIG': m.open += b.open; m.close += b.close; m.high = m.high | b.high; m.low = m.low | b.low; m.volume = (m.volume ?? 0) + (b.volume ?? 0); break;
      default: m.open += b.open; m.close += b.close; m.high = Math.max(m.open, m.close); m.low = Math.min(m.open, m.close); m.volume = (m.volume ?? 0) + (b.volume ?? 0);
    }
  }
  return out;
}

function bucketMsOf(res: string): number | null {
  // tick resolutions: the main series shows one bar per second (same-second tick bars merged)
  if (/T$/.test(res)) return 1000;
  const m = /^(\d*)([SDW]?)$/.exec(res);
  if (!m) return null;
  const n = m[1] === '' ? 1 : Number(m[1]);
  return n * (m[2] === 'S' ? 1000 : m[2] === 'D' ? DAY_MS : m[2] === 'W' ? 7 * DAY_MS : 60_000);
}

/**
 * Realtime bars of a derived ticker at any resolution. CVD/DELTA ride the `delta` channel, IMB the
 * `footprint` channel and VWAP the `vwap` channel (bar time from `bar`); when the server cannot stream
 * the resolution (seconds with a 1m engine) CVD/DELTA are built here from the `tick` channel, VWAP takes
 * its bar time from the trades, and IMB fetches each bar from /api/v1/footprint once it closed.
 * SIG counts the `signal` channel's items into the bar holding them.
 */
export function subscribeDerived(stream: StreamLike, base: string, kind: DerivedKind, res: string, onTick: SubscribeBarsCallback, o: { last?: Bar; get?: Getter } = {}): { unsubscribe(): void }[] {
  let last = o.last ?? null;
  const emit = (b: Bar | null): void => { if (b && (!last || b.time >= last.time)) { last = b; onTick({ ...b }); } };
  const out: { unsubscribe(): void }[] = [];
  const bucket = bucketMsOf(res);
  const barOf = (ts: number): number => (bucket ? Math.floor(ts / bucket) * bucket : ts);
  /** tick-built fallback: every trade as [ts, price, size, side] */
  const ticks = (onTrade: (ts: number, size: number, side: number) => void): void => {
    out.push(stream.subscribe('tick', base, { onSnapshot: () => {}, onUpdate: (u) => { for (const t of u.trades ?? []) onTrade(t[0], t[2], t[3]); } }, {}));
  };
  const channel = (ch: string, tf: string | undefined, h: { onSnapshot(d: any): void; onUpdate(d: any): void }, fallback: () => void): void => {
    let fell = false;
    out.push(stream.subscribe(ch, base, { ...h, onError: (e: { code?: string }) => { if (e.code === 'bad_timeframe' && !fell) { fell = true; fallback(); } } }, tf === undefined ? {} : { tf }));
  };
  if (kind === 'CVD' || kind === 'DELTA') {
    channel('delta', res, { onSnapshot: (d) => { if (d.open) emit(derivedStreamBar(kind, d.open)); }, onUpdate: (d) => emit(derivedStreamBar(kind, d)) }, () => {
      let d = 0, dMax = 0, dMin = 0, vol = 0, t = last?.time ?? -1;
      let cvdO = last ? last.close : 0, cvd = cvdO, cH = cvd, cL = cvd;
      if (kind === 'DELTA' && last) { d = last.close; dMax = last.high; dMin = last.low; vol = last.volume ?? 0; }
      ticks((ts, size, side) => {
        const bt = barOf(ts);
        if (bt < t) return;
        if (bt > t) { t = bt; d = 0; dMax = 0; dMin = 0; vol = 0; cvdO = cvd; cH = cvd; cL = cvd; }
        const sd = side > 0 ? size : side < 0 ? -size : 0;
        d += sd; cvd += sd; vol += size;
        dMax = Math.max(dMax, d); dMin = Math.min(dMin, d); cH = Math.max(cH, cvd); cL = Math.min(cL, cvd);
        emit(kind === 'CVD' ? { time: t, open: cvdO, high: cH, low: cL, close: cvd, volume: Math.abs(d) } : { time: t, open: 0, high: dMax, low: dMin, close: d, volume: vol });
      });
    });
  } else if (kind === 'IMB') {
    channel('footprint', res, { onSnapshot: (d) => { if (d.open) emit(derivedStreamBar(kind, d.open)); }, onUpdate: (d) => emit(derivedStreamBar(kind, d)) }, () => {
      let t = last?.time ?? -1;
      ticks((ts) => {
        const bt = barOf(ts);
        if (bt <= t) return;
        const closed = t;
        t = bt;
        if (closed >= 0 && o.get) {
          o.get('/api/v1/footprint', { symbol: base, resolution: res, from: closed, to: bt, rows: 'false' })
            .then((r) => { const b = (r.bars ?? []).find((x: J) => x.time === closed); if (b) emit(derivedBars('IMB', [b])[0]); }, () => {});
        }
      });
    });
  } else if (kind === 'VWAP') {
    let barTime: number | undefined = last?.time;
    let vw: J | null = null;
    const push = (): void => { if (vw) emit(derivedStreamBar('VWAP', vw, barTime)); };
    channel('bar', res, { onSnapshot: (d) => { barTime = d.open?.t ?? barTime; }, onUpdate: (d) => { barTime = d.t; push(); } }, () => {
      ticks((ts) => { const bt = barOf(ts); if (barTime === undefined || bt > barTime) { barTime = bt; push(); } });
    });
    out.push(stream.subscribe('vwap', base, { onSnapshot: (d) => { vw = d; push(); }, onUpdate: (d) => { vw = d; push(); } }));
  } else if (kind === 'SIG') {
    const agg = { t: last?.time ?? -1, b: last?.open ?? 0, s: last?.close ?? 0, bm: last?.high ?? 0, sm: last?.low ?? 0 };
    const add = (x: J): void => {
      const ts = x?.ts ?? x?.confirmedAt ?? x?.time;
      if (typeof ts !== 'number') return;
      const bt = barOf(ts);
      if (bt < agg.t) return;
      if (bt > agg.t) Object.assign(agg, { t: bt, b: 0, s: 0, bm: 0, sm: 0 });
      const bit = SIGNAL_BITS[x.kind] ?? 0;
      if (x.side === 'sell') { agg.s++; agg.sm |= bit; } else { agg.b++; agg.bm |= bit; }
      emit({ time: agg.t, open: agg.b, high: agg.bm, low: agg.sm, close: agg.s, volume: agg.b + agg.s });
    };
    out.push(stream.subscribe('signal', base, { onSnapshot: () => {}, onUpdate: (d) => add(d?.item) }));
  }
  return out;
}

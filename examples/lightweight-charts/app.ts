/**
 * Example page: Lightweight Charts v5 + every TapeFlow plugin, fed by the datafeed server it is
 * served from (`tapeflow start` / `tapeflow demo --serve` serve examples/ at /): history from
 * /api/v1/footprint, /api/v1/profile, /api/v1/signals, /api/v1/orderbook/history, realtime from the
 * WebSocket `footprint` and `delta` channels through StreamClient. Bundled to app.iife.js by
 * `npm run build`. Query parameters: symbol, tf, mode, rows (row multiplier), theme, bars.
 * `window.tapeflow` exposes the chart and plugins (used by the browser tests).
 */
import * as LWC from 'lightweight-charts';
import { StreamClient, defaultStreamUrl } from '../../datafeed-adapter/src/client/index.js';
import { attachOrderFlow, fromApiBar, fromWireFootprint, fromApiProfile, mergeRows, type FootprintBarData, type FootprintMode, type SignalMark, type OrderFlow } from '../../indicators/lightweight-charts/index.js';

const q = new URLSearchParams(location.search);
const state = {
  symbol: q.get('symbol') ?? 'BTCUSDT', tf: q.get('tf') ?? '1', mode: (q.get('mode') ?? 'bidask') as FootprintMode,
  rows: Number(q.get('rows') ?? 1), theme: (q.get('theme') === 'light' ? 'light' : 'dark') as 'dark' | 'light', bars: Number(q.get('bars') ?? 600),
  stream: q.get('stream') !== '0',
};
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = (s: string): void => { $('status').textContent = s; };

async function api<T>(path: string): Promise<T> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

const bg = state.theme === 'light' ? '#ffffff' : '#131722', fg = state.theme === 'light' ? '#131722' : '#d1d4dc';
document.body.style.background = bg; document.body.style.color = fg;
const chart = LWC.createChart($('chart'), {
  autoSize: true,
  layout: { background: { color: bg }, textColor: fg, attributionLogo: true, panes: { separatorColor: state.theme === 'light' ? '#e0e3eb' : '#2a2e39' } },
  grid: { vertLines: { visible: false }, horzLines: { color: state.theme === 'light' ? '#f0f3fa' : '#1e222d' } },
  timeScale: { timeVisible: true, secondsVisible: false, barSpacing: 80, rightOffset: 2 },
  crosshair: { mode: 0 },
});
let of: OrderFlow = attachOrderFlow(chart, LWC as never, { theme: state.theme, footprint: { mode: state.mode } });
chart.panes()[1]?.setHeight(90); chart.panes()[2]?.setHeight(70);
let raw: FootprintBarData[] = [];
const shape = (b: FootprintBarData): FootprintBarData => mergeRows(b, state.rows);
let sub: { unsubscribe(): void }[] = [];
const stream = new StreamClient({ url: defaultStreamUrl(location.origin) });

async function load(): Promise<void> {
  status('loading');
  for (const s of sub) s.unsubscribe();
  sub = [];
  const fp = await api<{ bars: Record<string, unknown>[] }>(`/api/v1/footprint?symbol=${encodeURIComponent(state.symbol)}&resolution=${state.tf}&countback=${state.bars}&rows=true&to=${Date.now() + 60_000}`);
  raw = fp.bars.map(fromApiBar);
  of.setBars(raw.map(shape));
  const last = raw[raw.length - 1];
  // session profile(s) anchored to their sessions; the visible-range profile is on by default
  try {
    const p = await api<Record<string, unknown>>(`/api/v1/profile?symbol=${encodeURIComponent(state.symbol)}&type=session`);
    if (!p.empty) of.profile?.applyOptions({ sessions: [fromApiProfile(p)] });
  } catch { /* no profile yet */ }
  if (last) {
    try {
      const s = await api<{ signals: Record<string, any>[] }>(`/api/v1/signals?symbol=${encodeURIComponent(state.symbol)}&from=${raw[0].time}&to=${last.time + 3_600_000}`);
      of.signals?.setSignals(s.signals.map((x): SignalMark => ({ id: x.id, time: x.ts, kind: x.kind, side: x.side, price: x.price, text: x.text })));
    } catch { /* signals not wired */ }
    try {
      const d = await api<{ available: boolean; snapshots: { ts: number; bids: [number, number][]; asks: [number, number][] }[] }>(`/api/v1/orderbook/history?symbol=${encodeURIComponent(state.symbol)}&from=${raw[0].time}&to=${last.time + 60_000}&limit=2000`);
      if (d.available) of.heatmap?.setSnapshots(d.snapshots);
    } catch { /* no book */ }
  }
  if (state.stream) {
    sub.push(stream.subscribe('footprint', state.symbol, {
      onSnapshot: (d) => { for (const w of [...d.bars, ...(d.open ? [d.open] : [])]) push(fromWireFootprint(w)); },
      onUpdate: (w) => push(fromWireFootprint(w)),
    }, { tf: state.tf, limit: 5 }));
  }
  status(`${state.symbol} ${state.tf} · ${raw.length} bars · ${state.mode}`);
  (window as any).tapeflow.ready = true;
}

function push(b: FootprintBarData): void {
  const n = raw.length;
  if (n && b.time < raw[n - 1].time) return;
  // the stream has no CVD: carry it from the previous bar so the CVD pane keeps its level
  if (!b.cvd && n) { const prev = raw[n - 1].time === b.time ? raw[n - 2] : raw[n - 1]; if (prev?.cvd) { const o = prev.cvd.close; b.cvd = { open: o, high: o + Math.max(0, b.delta), low: o + Math.min(0, b.delta), close: o + b.delta }; } }
  if (n && raw[n - 1].time === b.time) raw[n - 1] = b; else raw.push(b);
  of.update(shape(b));
}

const tooltip = $('tooltip');
chart.subscribeCrosshairMove((p) => {
  const hit = p.point ? of.footprint.rowAt(p.point.x, p.point.y) : null;
  if (!hit || !p.point) { tooltip.style.display = 'none'; return; }
  tooltip.style.display = 'block';
  tooltip.style.left = `${p.point.x + 16}px`; tooltip.style.top = `${p.point.y + 8}px`;
  tooltip.textContent = `${hit.price}  bid ${hit.bid}  ask ${hit.ask}  Δ ${Number(hit.delta.toFixed(6))}${hit.poc ? '  POC' : ''}${hit.imbalance ? `  imb ${hit.imbalance}` : ''}`;
});

function bindSelect(id: string, key: 'symbol' | 'tf' | 'mode' | 'rows', reload: boolean): void {
  const el = $<HTMLSelectElement>(id);
  if (key !== 'symbol') el.value = String(state[key]);
  el.onchange = () => {
    (state as any)[key] = key === 'rows' ? Number(el.value) : el.value;
    if (key === 'mode') { of.footprint.setFootprintOptions({ mode: state.mode }); status(`${state.symbol} ${state.tf} · ${raw.length} bars · ${state.mode}`); return; }
    if (key === 'rows') { of.setBars(raw.map(shape)); return; }
    if (reload) void load().catch((e) => status(String(e)));
  };
}

/**
 * Feed mode banner: while live venues are unreachable the server serves the simulator (SIM:…
 * instruments) and /api/v1/feeds says so; the page shows the banner and, unless ?symbol was given,
 * opens the simulated instrument so the chart is never blank.
 */
let followedSim = false;
async function checkFeeds(): Promise<void> {
  const f = await api<{ mode?: string; simulated?: { banner: string | null; reason: string | null; instruments: string[] } | null; feeds?: { name: string; stalled?: { reason: string } | null }[]; completeness?: { instrument: string; gaps: { kind: string; reason: string; to: number | null }[] }[] }>('/api/v1/feeds');
  const b = $('banner');
  const sim = f.mode === 'simulated' && f.simulated ? f.simulated : null;
  // otherwise: a stalled feed, or an open gap on the instrument shown
  const stalled = f.feeds?.find((x) => x.stalled);
  const open = f.completeness?.find((c) => c.instrument === state.symbol)?.gaps.find((g) => g.to === null);
  const text = sim?.banner ?? (stalled ? `STALLED — ${stalled.name}: no data` : open ? `DATA GAP — ${open.kind}: ${open.reason}` : '');
  b.hidden = text === '';
  b.textContent = text;
  b.title = sim?.reason ?? stalled?.stalled?.reason ?? '';
  const first = sim?.instruments[0];
  if (first && !followedSim && !q.get('symbol') && !state.symbol.startsWith('SIM:')) {
    followedSim = true;
    state.symbol = first;
    const sel = $<HTMLSelectElement>('symbol');
    if (![...sel.options].some((o) => o.value === first)) { const o = document.createElement('option'); o.value = o.textContent = first; sel.appendChild(o); }
    sel.value = first;
    await load();
  }
}

async function main(): Promise<void> {
  try {
    const inst = await api<{ instruments: { id: string }[] }>('/api/v1/instruments');
    const sel = $<HTMLSelectElement>('symbol');
    for (const i of inst.instruments) { const o = document.createElement('option'); o.value = o.textContent = i.id; sel.appendChild(o); }
    if (inst.instruments.length && !inst.instruments.some((i) => i.id === state.symbol)) state.symbol = inst.instruments[0].id;
    sel.value = state.symbol;
  } catch { /* keep default */ }
  bindSelect('symbol', 'symbol', true); bindSelect('tf', 'tf', true); bindSelect('mode', 'mode', false); bindSelect('rows', 'rows', false);
  if (state.stream) void stream.connect().catch(() => status('stream unavailable'));
  await load();
  const poll = (): void => { void checkFeeds().catch(() => { /* older server: no feed mode */ }); };
  poll();
  setInterval(poll, 5000);
}

(window as any).tapeflow = { chart, get of() { return of; }, LWC, state, stream, ready: false, reload: load, setOrderFlow: (x: OrderFlow) => { of = x; } };
main().catch((e) => { status(`error: ${(e as Error).message}`); (window as any).tapeflow.error = String(e); });

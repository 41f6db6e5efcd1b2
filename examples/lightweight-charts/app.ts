/**
 * The order-flow workstation page (served at / by `tapeflow start`, `demo --serve`, `replay --serve`):
 * Lightweight Charts v5 with every TapeFlow plugin, and panels (signal cards, DOM ladder, time & sales,
 * scanner, paper trading, feed status) in panels/*.ts — one small module each, plain DOM (each panel
 * redraws only its own element; a UI library would add weight to the < 1 MB first load for no gain).
 * History is read once per instrument/timeframe (/api/v1/footprint, /profile, /signals, /scanner,
 * /paper); everything after that arrives over one multiplexed /ws socket (StreamClient.shared):
 * footprint, signal, trade_state, orderbook (DOM ladder + heatmap columns), tick (tape), stats.
 * Settings live in the URL and localStorage. `window.tapeflow` exposes chart, plugins and panels for tests.
 */
import * as LWC from 'lightweight-charts';
import { StreamClient, defaultStreamUrl, type StreamSubscription } from '../../datafeed-adapter/src/client/index.js';
import { attachOrderFlow, cachedTickMarkFormatter, fromApiBar, fromWireFootprint, fromApiProfile, type FootprintBarData, type FootprintMode, type SignalMark, type OrderFlow } from '../../indicators/lightweight-charts/index.js';
import type { WireBook, WireProfile, WireTrade } from '../../datafeed-adapter/src/ws/protocol.js';
import type { NakedSessionPoc } from '../../indicators/render/types.js';
import { loadSettings, saveSettings, footprintParams, footprintView, profileParams, type Settings } from './settings.js';
import { LadderPanel } from './panels/ladder.js';
import { TapePanel } from './panels/tape.js';
import { SignalCardsPanel, type SignalItem, type TransitionItem, type PositionItem } from './panels/signal-cards.js';
import { ScannerPanel, type StatusRow } from './panels/scanner.js';
import { PaperPanel, type PaperSnap } from './panels/paper.js';
import { StatusPanel, type FeedsSnap } from './panels/status.js';
import { TransportBar } from './panels/transport.js';
import { PcrPanel } from './panels/pcr.js';

const q = new URLSearchParams(location.search);
const state: Settings & { stream: boolean } = { ...loadSettings(q), stream: q.get('stream') !== '0' };
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = (s: string): void => { $('status').textContent = s; };
let live = '';
const showStatus = (): void => status(`${state.symbol} ${state.tf} · ${raw.length} bars · ${state.mode}${live ? ` · ${live}` : ''}`);

async function api<T>(path: string): Promise<T> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

document.documentElement.dataset.theme = state.theme;
const bg = state.theme === 'light' ? '#ffffff' : '#131722', fg = state.theme === 'light' ? '#131722' : '#d1d4dc';
const secondsTf = (tf: string): boolean => /S$|s$/.test(tf) || /T$|V$/.test(tf);
const chart = LWC.createChart($('chart'), {
  autoSize: true,
  // no TradingView logo on the panes (it sat over the oldest Δ bars): the licence's attribution and link are the
  // page's footer (#foot), always on screen and over nothing
  layout: { background: { color: bg }, textColor: fg, attributionLogo: false, panes: { separatorColor: state.theme === 'light' ? '#e0e3eb' : '#2a2e39' } },
  grid: { vertLines: { visible: false }, horzLines: { color: state.theme === 'light' ? '#f0f3fa' : '#1e222d' } },
  // seconds on the axis for second, tick and volume bars (5S read "23:58 23:58 23:58" without them)
  // tick-mark labels: the library's own text, formatted once per label instead of on every frame
  timeScale: { timeVisible: true, secondsVisible: secondsTf(state.tf), barSpacing: 80, rightOffset: 2, tickMarkFormatter: cachedTickMarkFormatter },
  crosshair: { mode: 0 },
  // an axis tick label only where its whole text fits in its pane (never half a label at a pane edge)
  rightPriceScale: { entireTextOnly: true },
});
let of: OrderFlow = attachOrderFlow(chart, LWC as never, { theme: state.theme, footprint: { mode: state.mode as FootprintMode } });
/**
 * CVD and Δ panes of 90 and 70 px under the price pane (at most 17 % and 13 % of a short chart). Stretch factors
 * are weights, so they are set from the chart's height on every resize: two setHeight calls in a row left the
 * CVD pane 28 px high (the second call takes its change from every other pane).
 */
function sizePanes(): void {
  const p = chart.panes(), h = $('chart').clientHeight;
  if (p.length < 3 || h <= 0) return;
  const cvd = Math.min(90, Math.round(h * 0.17)), dl = Math.min(70, Math.round(h * 0.13));
  p[0].setStretchFactor(Math.max(1, h - cvd - dl)); p[1].setStretchFactor(cvd); p[2].setStretchFactor(dl);
}
sizePanes();
new ResizeObserver(sizePanes).observe($('chart'));
let raw: FootprintBarData[] = [];
/** each instrument's footprint row (price units, /api/v1/instruments): the Rows setting asks the server for a multiple of it */
const baseRows = new Map<string, number>();
const baseRow = (): number => baseRows.get(state.symbol) ?? 0;
let subs: StreamSubscription[] = [];
const stream = StreamClient.shared({ url: defaultStreamUrl(location.origin), client: 'tapeflow-workstation', onState: (s) => statusPanel.streamState(s) });
const signals: SignalMark[] = [];
const active = new Set<string>();

// ---- panels ------------------------------------------------------------------------------------
const side = $('side');
const statusPanel = new StatusPanel(side);
// bar indexes are the footprint's own (the chart holds a window of them): showBars moves the window
const cards = new SignalCardsPanel(side, (ms) => { const i = of.footprint.indexAt(ms); if (i >= 0) of.footprint.showBars(i - 10, i + 10); });
const ladder = new LadderPanel(side);
const tape = new TapePanel(side, state.big);
const scanner = new ScannerPanel(side, (id) => { void openSymbol(id); });
const paper = new PaperPanel(side);
// a backward seek restarts the server's replay from the file start: every panel reloads
const transport = new TransportBar($('bar'), () => { void load().catch((e) => status(String(e))); });
// options-chain PCR (Kite feeds with kite.pcr): read once, then pushed on the `pcr` channel; hidden when the server has none
const pcrPanel = new PcrPanel(side);
void pcrPanel.follow(() => api('/api/v1/pcr'), state.stream ? stream : null).catch(() => { /* older server: no PCR */ });

function toMark(s: SignalItem): SignalMark {
  return { id: s.id, time: s.confirmedAt, kind: s.kind, side: s.side === 'buy' || s.side === 'sell' ? s.side : undefined, price: (s.priceLow + s.priceHigh) / 2, text: (s.reasoning ?? []).join('; '), data: s as never };
}
function addSignal(s: SignalItem, card = true): void {
  if (signals.some((x) => x.id === s.id)) return;
  const m = toMark(s);
  signals.push(m);
  of.signals?.addSignal(m);
  if (card) cards.signal(s);
}
function showPosition(p: PositionItem | null): void {
  of.signals?.setOpenTrade(p && (p.side === 'buy' || p.side === 'sell') && p.exit === undefined ? { side: p.side, entry: p.entry, stop: p.sl, targets: [p.tp] } : null);
}
function noData(on: boolean, text = ''): void { const n = $('nodata'); n.hidden = !on; n.textContent = text; }

async function load(): Promise<void> {
  status('loading');
  for (const s of subs) s.unsubscribe();
  subs = [];
  signals.length = 0;
  live = '';
  dataTs = 0;
  cards.clear(); tape.clear();
  of.signals?.setSignals([]); of.signals?.setOpenTrade(null);
  chart.applyOptions({ timeScale: { secondsVisible: secondsTf(state.tf) } });
  const sym = encodeURIComponent(state.symbol);
  // tick (100T) and volume (10V) bars are served by agg=tick / agg=volume with their size
  const tv = /^(\d+(?:\.\d+)?)([TV])$/.exec(state.tf);
  const agg = tv ? `agg=${tv[2] === 'T' ? 'tick' : 'volume'}&size=${tv[1]}&resolution=1` : `resolution=${state.tf}`;
  const fp = await api<{ bars: Record<string, unknown>[] }>(`/api/v1/footprint?symbol=${sym}&${agg}&countback=${state.bars}&rows=true&to=${Date.now() + 60_000}${footprintParams(state, baseRow())}`).catch((e) => { status(String(e)); return { bars: [] }; });
  raw = fp.bars.map(fromApiBar);
  of.setBars(raw);
  // an instrument without data is said so and nothing is drawn (never another instrument's axis)
  noData(raw.length === 0 && !active.has(state.symbol), `${state.symbol}: no data on this server${active.size ? ` (data: ${[...active].join(', ')})` : ''}`);
  try {
    const p = await api<Record<string, unknown>>(`/api/v1/profile?symbol=${sym}&type=session${profileParams(state)}`);
    sessionNaked = fromApiProfile(p).nakedPocs ?? [];
    if (!p.empty) of.profile?.applyOptions({ sessions: [fromApiProfile(p)] });
    else of.profile?.applyOptions({ sessions: [] });
    // developing POC at each closed bar of the session (the server's points); live points follow on the profile stream
    devSession = typeof p.session === 'string' ? p.session : null;
    of.pocLevels?.setDeveloping(Array.isArray(p.developing) ? (p.developing as { ts: number; poc: number | null }[]) : [], Number(p.rowSize) || 0);
  } catch { /* no profile yet */ }
  const first = raw[0];
  if (first) {
    try {
      const s = await api<{ signals: { data: SignalItem }[] }>(`/api/v1/signals?symbol=${sym}&from=${first.time}&to=${Math.min(4102444800000, raw[raw.length - 1].time + 3_600_000)}&limit=2000`);
      for (const x of s.signals) if (x.data) addSignal(x.data, false);
      for (const x of s.signals.slice(-20)) if (x.data) cards.signal(x.data);
    } catch { /* signals not wired */ }
  }
  try {
    const t = await api<{ state: (StatusRow & { position: PositionItem | null }) | null }>(`/api/v1/trade-state?symbol=${sym}`);
    cards.status(t.state); showPosition(t.state?.position ?? null);
  } catch { /* no strategy */ }
  if (state.stream) subscribe();
  showStatus();
  (window as any).tapeflow.ready = true;
}

function subscribe(): void {
  const sym = state.symbol;
  subs.push(stream.subscribe('footprint', sym, {
    onSnapshot: (d) => { for (const w of [...d.bars, ...(d.open ? [d.open] : [])]) push(fromWireFootprint(w)); },
    onUpdate: (w) => push(fromWireFootprint(w)),
    // e.g. 15s on a 1m engine: the history is served, live bars are not — said on the page
    onError: (e) => { live = `live bars: ${e.message}`; showStatus(); },
  }, { tf: state.tf, limit: 5, ...footprintView(state, baseRow()) }));
  subs.push(stream.subscribe('signal', sym, {
    onSnapshot: (d) => { for (const it of d.items as SignalItem[]) addSignal(it); },
    onUpdate: (d) => addSignal(d.item as SignalItem),
  }));
  subs.push(stream.subscribe('trade_state', sym, {
    onSnapshot: (d) => { for (const it of d.items as (TransitionItem & { status?: StatusRow })[]) onTransition(it); },
    onUpdate: (d) => onTransition(d.item as TransitionItem & { status?: StatusRow }),
  }));
  // rule mode (LONG/SHORT/WAIT with confidence), when the server runs it
  const rule = (r: { signal?: string; confidence?: number; reasoning?: string[] } | undefined): void => { if (r?.signal) cards.rule(r); };
  subs.push(stream.subscribe('rule' as 'signal', sym, {
    onSnapshot: (d) => rule((d as { items?: unknown[] }).items?.at(-1) as never),
    onUpdate: (d) => rule((d as { item?: unknown }).item as never),
    onError: () => undefined,
  }));
  subs.push(stream.subscribe('orderbook', sym, {
    onSnapshot: (d) => onBook(d), onUpdate: (d) => onBook(d),
  }, { depth: 20 }));
  subs.push(stream.subscribe('tick', sym, {
    onSnapshot: (d) => onTrades(d.trades), onUpdate: (d) => onTrades(d.trades),
  }, { limit: 50 }));
  subs.push(stream.subscribe('stats', sym, { onSnapshot: onStats, onUpdate: onStats }));
  // the session profile live (it froze after the first load before): its POC/VA and the developing POC
  subs.push(stream.subscribe('profile', sym, { onSnapshot: onProfile, onUpdate: onProfile }, state.va > 0 ? { valueArea: state.va / 100 } : {}));
  // feed and data status (mode, venues, gaps, replay position): pushed by the server when it changes
  subs.push(stream.subscribe('feeds', sym, { onSnapshot: onFeeds, onUpdate: onFeeds, onError: () => undefined }));
}

let devSession: string | null = null;
/** earlier sessions' naked POCs (from /api/v1/profile), kept when the live profile replaces the session; a live touch
 * ends the ray at the bar that traded the row (VolumeProfilePrimitive) instead of removing it */
let sessionNaked: NakedSessionPoc[] = [];
function onProfile(w: WireProfile): void {
  if (!w.session || !w.rows.length) return;
  of.profile?.applyOptions({ sessions: [{ start: w.start, end: w.end, rowSize: w.rowSize, rows: w.rows.map(([price, volume, buy, sell]) => ({ price, volume, buy, sell })), poc: w.poc, vah: w.vah, val: w.val, nakedPocs: sessionNaked }] });
  of.pocLevels?.addDeveloping({ ts: w.ts, poc: w.poc }, w.rowSize, w.session !== devSession);
  devSession = w.session;
}

let dataTs = 0;
function onStats(d: { ts: number; trades: number }): void {
  // data time going back: the replay was rewound (by another page, or before our reload): start over
  if (dataTs && d.ts && d.ts < dataTs - 1000) { dataTs = 0; void load().catch((e) => status(String(e))); return; }
  if (d.ts > dataTs) dataTs = d.ts;
  statusPanel.position(d.ts, d.trades); transport.position(d.ts);
}

/** one /api/v1/paper read at a time, however many paper events arrive together (a snapshot holds up to 50) */
let paperBusy = false, paperAgain = false;
function refreshPaper(): void {
  if (paperBusy) { paperAgain = true; return; }
  paperBusy = true;
  void api<PaperSnap>('/api/v1/paper').then((p) => paper.set(p)).catch(() => undefined).finally(() => {
    paperBusy = false;
    if (paperAgain) { paperAgain = false; refreshPaper(); }
  });
}
function onTransition(t: TransitionItem & { status?: StatusRow & { position?: PositionItem | null }; paper?: unknown }): void {
  // a paper-account event (a fill, a refusal) comes alone or with a transition: the paper panel re-reads the account
  if (t?.paper) refreshPaper();
  if (!t || !t.to) return;
  cards.transition(t);
  showPosition(t.status?.position ?? t.position);
  if (t.status) { scanner.update(t.status); cards.status(t.status); }
}
function onBook(b: WireBook): void {
  ladder.render(b);
  if (b.available && b.synced && (b.bids.length || b.asks.length)) of.heatmap?.addSnapshot({ ts: b.ts, bids: b.bids, asks: b.asks });
}
function onTrades(t: WireTrade[]): void {
  tape.add(t);
  for (const x of t) ladder.onTrade(x[1]);
}

function push(b: FootprintBarData): void {
  const n = raw.length;
  if (n && b.time < raw[n - 1].time) return;
  // the stream has no CVD: carry it from the previous bar so the CVD pane keeps its level
  if (!b.cvd && n) { const prev = raw[n - 1].time === b.time ? raw[n - 2] : raw[n - 1]; if (prev?.cvd) { const o = prev.cvd.close; b.cvd = { open: o, high: o + Math.max(0, b.delta), low: o + Math.min(0, b.delta), close: o + b.delta }; } }
  if (n && raw[n - 1].time === b.time) raw[n - 1] = b; else { raw.push(b); showStatus(); }
  if (!n) noData(false);
  of.update(b);
}

// ---- tooltip: signal labels (full reasoning) first, then the footprint cell ----------------------
const tooltip = $('tooltip');
chart.subscribeCrosshairMove((p) => {
  if (!p.point) { tooltip.style.display = 'none'; return; }
  const lab = of.signals?.labels.labelAt(p.point.x, p.point.y);
  const hit = lab ? null : of.footprint.rowAt(p.point.x, p.point.y);
  if (!lab && !hit) { tooltip.style.display = 'none'; return; }
  tooltip.style.display = 'block';
  const r = $('chart').getBoundingClientRect();
  tooltip.style.left = `${Math.max(0, Math.min(r.left + p.point.x + 16, window.innerWidth - 330))}px`; tooltip.style.top = `${r.top + p.point.y + 8}px`;
  if (lab) {
    tooltip.replaceChildren(...lab.signals.map((s) => { const d = document.createElement('div'); d.textContent = `${s.kind.toUpperCase()} ${s.side ?? ''} @ ${s.price ?? ''}: ${s.text ?? ''}`; return d; }));
    return;
  }
  tooltip.textContent = `${hit!.price}  bid ${hit!.bid}  ask ${hit!.ask}  Δ ${Number(hit!.delta.toFixed(6))}${hit!.poc ? '  POC' : ''}${hit!.imbalance ? `  imb ${hit!.imbalance}` : ''}`;
});

// ---- toolbar ------------------------------------------------------------------------------------
async function openSymbol(id: string): Promise<void> {
  state.symbol = id;
  $<HTMLSelectElement>('symbol').value = id;
  saveSettings(state);
  await load().catch((e) => status(String(e)));
}

function bindSelect(id: string, key: 'tf' | 'mode' | 'rows' | 'theme'): void {
  const e = $<HTMLSelectElement>(id);
  e.value = String(state[key]);
  e.onchange = () => {
    (state as any)[key] = key === 'rows' ? Number(e.value) : e.value;
    saveSettings(state);
    if (key === 'theme') { location.search = new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(location.search)), theme: e.value }).toString(); return; }
    if (key === 'mode') { of.footprint.setFootprintOptions({ mode: state.mode as FootprintMode }); showStatus(); return; }
    void load().catch((err) => status(String(err)));
  };
}

function fillSymbols(list: { id: string; active?: boolean }[]): void {
  const sel = $<HTMLSelectElement>('symbol');
  const filter = $<HTMLInputElement>('find').value.trim().toUpperCase();
  sel.replaceChildren();
  // instruments with data first, each marked; the search box filters by id
  const sorted = [...list].sort((a, b) => Number(!!b.active) - Number(!!a.active) || a.id.localeCompare(b.id));
  for (const i of sorted) {
    if (filter && !i.id.toUpperCase().includes(filter) && i.id !== state.symbol) continue;
    const o = document.createElement('option');
    o.value = i.id; o.textContent = `${i.active ? '● ' : '○ '}${i.id}${i.active ? '' : ' (no data)'}`;
    o.dataset.data = i.active ? '1' : '0';
    sel.appendChild(o);
  }
  sel.value = state.symbol;
}

/**
 * Feed mode banner: while live venues are unreachable the server serves the simulator (SIM:…
 * instruments) and /api/v1/feeds says so; the page shows the banner and, unless ?symbol was given,
 * opens the simulated instrument so the chart is never blank.
 */
let followedSim = false;
function onFeeds(f: FeedsSnap): void {
  statusPanel.set(f);
  if (f.replay) transport.remote(f.replay);
  const b = $('banner');
  const sim = f.mode === 'simulated' && f.simulated ? f.simulated : null;
  const stalled = f.feeds?.find((x) => x.stalled);
  const open = f.completeness?.find((c) => c.instrument === state.symbol)?.gaps.find((g) => g.to === null);
  const text = sim?.banner ?? (stalled ? `STALLED — ${stalled.name}: no data` : open ? `DATA GAP — ${open.kind}: ${open.reason}` : '');
  b.hidden = text === '';
  b.textContent = text;
  b.title = sim?.reason ?? stalled?.stalled?.reason ?? '';
  const first = sim?.instruments[0];
  if (first && !followedSim && !q.get('symbol') && !state.symbol.startsWith('SIM:')) {
    followedSim = true;
    const sel = $<HTMLSelectElement>('symbol');
    if (![...sel.options].some((o) => o.value === first)) { const o = document.createElement('option'); o.value = first; o.textContent = `● ${first}`; sel.appendChild(o); }
    void openSymbol(first);
  }
}

async function main(): Promise<void> {
  let instruments: { id: string; active?: boolean; rowSize?: number }[] = [];
  try {
    instruments = (await api<{ instruments: { id: string; active?: boolean; rowSize?: number }[] }>('/api/v1/instruments')).instruments;
    for (const i of instruments) { if (i.active) active.add(i.id); if (i.rowSize) baseRows.set(i.id, i.rowSize); }
    if (instruments.length && !instruments.some((i) => i.id === state.symbol)) state.symbol = (instruments.find((i) => i.active) ?? instruments[0]).id;
    if (!q.get('symbol') && !active.has(state.symbol) && active.size) state.symbol = [...active][0];
  } catch { /* keep default */ }
  fillSymbols(instruments);
  $<HTMLInputElement>('find').oninput = () => fillSymbols(instruments);
  $<HTMLSelectElement>('symbol').onchange = () => { void openSymbol($<HTMLSelectElement>('symbol').value); };
  bindSelect('tf', 'tf'); bindSelect('mode', 'mode'); bindSelect('rows', 'rows'); bindSelect('theme', 'theme');
  // server-side settings: each change re-reads footprint and profile with the new parameters
  for (const [id, key] of [['ratio', 'ratio'], ['compare', 'compare'], ['minvol', 'minVol'], ['va', 'va']] as const) {
    const e = $<HTMLInputElement>(id);
    e.value = String(state[key] || '');
    e.onchange = () => { (state as any)[key] = key === 'compare' ? e.value : Number(e.value) || 0; saveSettings(state); void load().catch((err) => status(String(err))); };
  }
  const big = $<HTMLInputElement>('big');
  big.value = state.big > 0 ? String(state.big) : '';
  big.onchange = () => { state.big = Number(big.value) || 0; tape.threshold = state.big; saveSettings(state); };
  if (state.stream) void stream.connect().catch(() => status('stream unavailable'));
  await transport.init().catch(() => false);
  await load();
  try { scanner.set((await api<{ rows: StatusRow[] }>('/api/v1/scanner')).rows); } catch { /* no strategy */ }
  try { paper.set(await api<PaperSnap>('/api/v1/paper')); } catch { /* no paper */ }
}

(window as any).tapeflow = {
  chart, get of() { return of; }, LWC, state, stream, ready: false, reload: load, setOrderFlow: (x: OrderFlow) => { of = x; },
  panels: { ladder, tape, cards, scanner, paper, status: statusPanel, transport, pcr: pcrPanel }, signals,
};
main().catch((e) => { status(`error: ${(e as Error).message}`); (window as any).tapeflow.error = String(e); });

/**
 * Charting Library example: the user's licensed library (path given in the page), TapeFlowDatafeed
 * wrapped with the derived tickers, the TapeFlow studies via custom_indicators_getter, and the
 * session POC/VAH/VAL drawn with createShape (sync ≤ v28 / Promise v29). Bundled to app.iife.js.
 */
import { TapeFlowDatafeed } from '../../datafeed-adapter/src/client/index.js';
import { tapeflowIndicators, withDerivedTickers, drawProfileLevels, METAINFO, type ChartApiLike, type PineJS } from '../../indicators/charting-library/index.js';

const $ = (id: string): HTMLInputElement => document.getElementById(id) as HTMLInputElement;
const q = new URLSearchParams(location.search);
$('lib').value = q.get('lib') ?? localStorage.getItem('tapeflow.cl.lib') ?? '/charting_library/';
$('symbol').value = q.get('symbol') ?? 'BTCUSDT';

function loadScript(src: string): Promise<void> {
  return new Promise((ok, bad) => { const s = document.createElement('script'); s.src = src; s.onload = () => ok(); s.onerror = () => bad(new Error(`cannot load ${src}`)); document.head.appendChild(s); });
}

async function start(): Promise<void> {
  let lib = $('lib').value.trim();
  if (!lib.endsWith('/')) lib += '/';
  localStorage.setItem('tapeflow.cl.lib', lib);
  const status = document.getElementById('status')!;
  status.textContent = 'loading library…';
  await loadScript(`${lib}charting_library.standalone.js`).catch(() => loadScript(`${lib}charting_library.js`));
  const TV = (window as any).TradingView;
  if (!TV?.widget) { status.textContent = `no TradingView.widget at ${lib}`; return; }
  const symbol = $('symbol').value.trim();
  const datafeed = withDerivedTickers(new TapeFlowDatafeed({ baseUrl: location.origin }), { apiBase: location.origin });
  const widget = new TV.widget({
    container: 'tv', library_path: lib, datafeed, symbol, interval: '1', locale: 'en', autosize: true, theme: 'dark',
    custom_indicators_getter: (PineJS: PineJS) => tapeflowIndicators(PineJS),
    disabled_features: ['use_localstorage_for_settings'],
    // tick (1T, 100T…) and seconds resolutions are featuresets the library leaves off by default; two-character
    // mark labels show the marks' count badge up to "9+"
    enabled_features: ['tick_resolution', 'seconds_resolution', 'two_character_bar_marks_labels'],
  });
  // the page's widget and datafeed, for the browser console and scripts/cl-check.mjs
  Object.assign(window, { tvWidget: widget, tapeflowDatafeed: datafeed });
  widget.onChartReady(async () => {
    const chart = widget.activeChart();
    for (const m of Object.values(METAINFO)) await chart.createStudy(m.description, m.is_price_study === true);
    try {
      const p = await (await fetch(`/api/v1/profile?symbol=${encodeURIComponent(symbol)}&type=session&rows=false`)).json();
      if (!p.empty) await drawProfileLevels(chart as ChartApiLike, { poc: p.poc, vah: p.vah, val: p.val, start: p.start, end: p.end ?? undefined }, { box: true });
    } catch { /* no profile yet */ }
    status.textContent = `${symbol}: studies added`;
  });
}

document.getElementById('go')!.addEventListener('click', () => { void start().catch((e) => { document.getElementById('status')!.textContent = String(e); }); });
if (q.get('lib')) void start();

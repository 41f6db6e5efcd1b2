/**
 * Page settings: URL parameters win, then localStorage (`tapeflow.settings`), then defaults. Every
 * change is written back to both, so a reload or a shared link shows the same view.
 */
export interface Settings {
  symbol: string; tf: string; mode: string; rows: number; theme: 'dark' | 'light'; bars: number; big: number;
  /** sent to the server with each footprint / profile request (0 / '' = the server's configured default) */
  ratio: number; compare: '' | 'diagonal' | 'horizontal'; minVol: number; va: number;
}

const KEY = 'tapeflow.settings';
const DEFAULTS: Settings = { symbol: 'BTCUSDT', tf: '1', mode: 'bidask', rows: 1, theme: 'dark', bars: 600, big: 0, ratio: 0, compare: '', minVol: 0, va: 0 };

export function loadSettings(q: URLSearchParams): Settings {
  let stored: Partial<Settings> = {};
  try { stored = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Settings>; } catch { /* corrupt: defaults */ }
  const s = { ...DEFAULTS, ...stored };
  const str = (k: keyof Settings): string | null => q.get(k);
  return {
    symbol: str('symbol') ?? s.symbol, tf: str('tf') ?? s.tf, mode: str('mode') ?? s.mode,
    rows: Number(str('rows') ?? s.rows) || 1, theme: (str('theme') ?? s.theme) === 'light' ? 'light' : 'dark',
    bars: Number(str('bars') ?? s.bars) || 600, big: Number(str('big') ?? s.big) || 0,
    ratio: Number(str('ratio') ?? s.ratio) || 0, compare: ((c) => (c === 'diagonal' || c === 'horizontal' ? c : ''))(str('compare') ?? s.compare),
    minVol: Number(str('minVol') ?? s.minVol) || 0, va: Number(str('va') ?? s.va) || 0,
  };
}

export function saveSettings(s: Settings): void {
  const { symbol, tf, mode, rows, theme, bars, big, ratio, compare, minVol, va } = s;
  try { localStorage.setItem(KEY, JSON.stringify({ symbol, tf, mode, rows, theme, bars, big, ratio, compare, minVol, va })); } catch { /* private mode */ }
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries({ symbol, tf, mode, rows, theme, big, ratio, compare, minVol, va })) q.set(k, String(v));
  history.replaceState(null, '', `${location.pathname}?${q.toString()}`);
}

/**
 * The server-side part of the settings (imbalance ratio, comparison, min volume, row size = rows ×
 * the instrument's footprint row `baseRow`): the footprint stream subscription's view, and the same
 * as query parameters of /api/v1/footprint. The server merges rows and flags imbalances with them.
 */
export function footprintView(s: Settings, baseRow: number): { imbalanceRatio?: number; imbalanceCompare?: 'diagonal' | 'horizontal'; minVolume?: number; rowSize?: number } {
  return {
    ...(s.ratio > 0 ? { imbalanceRatio: s.ratio } : {}), ...(s.compare ? { imbalanceCompare: s.compare } : {}),
    ...(s.minVol > 0 ? { minVolume: s.minVol } : {}), ...(s.rows > 1 && baseRow > 0 ? { rowSize: Number((s.rows * baseRow).toPrecision(12)) } : {}),
  };
}
export function footprintParams(s: Settings, baseRow: number): string {
  return Object.entries(footprintView(s, baseRow)).map(([k, v]) => `&${k}=${encodeURIComponent(String(v))}`).join('');
}
export function profileParams(s: Settings): string { return s.va > 0 ? `&valueArea=${s.va / 100}` : ''; }

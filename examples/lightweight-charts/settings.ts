/**
 * Page settings: URL parameters win, then localStorage (`tapeflow.settings`), then defaults. Every
 * change is written back to both, so a reload or a shared link shows the same view.
 */
export interface Settings { symbol: string; tf: string; mode: string; rows: number; theme: 'dark' | 'light'; bars: number; big: number }

const KEY = 'tapeflow.settings';
const DEFAULTS: Settings = { symbol: 'BTCUSDT', tf: '1', mode: 'bidask', rows: 1, theme: 'dark', bars: 600, big: 1 };

export function loadSettings(q: URLSearchParams): Settings {
  let stored: Partial<Settings> = {};
  try { stored = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Settings>; } catch { /* corrupt: defaults */ }
  const s = { ...DEFAULTS, ...stored };
  const str = (k: keyof Settings): string | null => q.get(k);
  return {
    symbol: str('symbol') ?? s.symbol, tf: str('tf') ?? s.tf, mode: str('mode') ?? s.mode,
    rows: Number(str('rows') ?? s.rows) || 1, theme: (str('theme') ?? s.theme) === 'light' ? 'light' : 'dark',
    bars: Number(str('bars') ?? s.bars) || 600, big: Number(str('big') ?? s.big) || 0,
  };
}

export function saveSettings(s: Settings): void {
  const { symbol, tf, mode, rows, theme, bars, big } = s;
  try { localStorage.setItem(KEY, JSON.stringify({ symbol, tf, mode, rows, theme, bars, big })); } catch { /* private mode */ }
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries({ symbol, tf, mode, rows, theme, big })) q.set(k, String(v));
  history.replaceState(null, '', `${location.pathname}?${q.toString()}`);
}

/** Colour themes of the renderers (dark and light) with pre-built intensity ramps (no per-cell string work). */

export interface Theme {
  name: 'dark' | 'light';
  background: string;
  text: string;
  textDim: string;
  /** buy / ask side */
  buy: string;
  /** sell / bid side */
  sell: string;
  cellEmpty: string;
  poc: string;
  valueArea: string;
  vah: string;
  val: string;
  imbalanceBuy: string;
  imbalanceSell: string;
  /** text of imbalanced cells */
  imbalanceText: string;
  zoneBuy: string;
  zoneSell: string;
  unfinished: string;
  hvn: string;
  lvn: string;
  nakedPoc: string;
  grid: string;
  /** signal markers (distinct from the cell colours so they are easy to find) */
  markerBuy: string;
  markerSell: string;
  vwap: string;
  band: string;
  /** 8-step ramps, index 0 = faint, 7 = strong */
  buyRamp: string[];
  sellRamp: string[];
  volumeRamp: string[];
}

function hex(c: string): [number, number, number] {
  const h = c.replace('#', '');
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

/** Blend `fg` over `bg` at alpha a (opaque result, so pixel tests can look for exact colours). */
export function mix(bg: string, fg: string, a: number): string {
  const [r1, g1, b1] = hex(bg), [r2, g2, b2] = hex(fg);
  const m = (x: number, y: number): number => Math.round(x + (y - x) * a);
  return `#${[m(r1, r2), m(g1, g2), m(b1, b2)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

const ramp = (bg: string, fg: string): string[] => Array.from({ length: 8 }, (_, i) => mix(bg, fg, 0.18 + (0.72 * i) / 7));

function make(name: 'dark' | 'light', bg: string, text: string, textDim: string, buy: string, sell: string, vol: string, extra: Partial<Theme>): Theme {
  return {
    name, background: bg, text, textDim, buy, sell,
    cellEmpty: mix(bg, textDim, 0.08),
    poc: '#ffb300', valueArea: mix(bg, '#5c6bc0', 0.55), vah: '#5c6bc0', val: '#5c6bc0',
    imbalanceBuy: buy, imbalanceSell: sell, imbalanceText: name === 'dark' ? '#ffee58' : '#6a1b9a',
    zoneBuy: 'rgba(38,166,154,0.18)', zoneSell: 'rgba(239,83,80,0.18)',
    unfinished: '#ab47bc', hvn: '#8d6e63', lvn: '#78909c', nakedPoc: '#ff7043', markerBuy: '#00e5ff', markerSell: '#ff4081', grid: mix(bg, textDim, 0.2),
    vwap: '#ffca28', band: '#42a5f5',
    buyRamp: ramp(bg, buy), sellRamp: ramp(bg, sell), volumeRamp: ramp(bg, vol),
    ...extra,
  };
}

export const DARK: Theme = make('dark', '#131722', '#e0e3eb', '#787b86', '#26a69a', '#ef5350', '#2962ff', {});
export const LIGHT: Theme = make('light', '#ffffff', '#131722', '#6a6d78', '#089981', '#f23645', '#2962ff', { poc: '#ff6d00', vwap: '#f9a825' });

export const themeByName = (n: string | undefined): Theme => (n === 'light' ? LIGHT : DARK);

/** Ramp index 0..7 for a fraction in [0, 1]. */
export const level = (f: number): number => (f <= 0 ? 0 : f >= 1 ? 7 : Math.min(7, Math.floor(f * 8)));

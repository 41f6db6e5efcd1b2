/**
 * Options-chain PCR of the Kite feeds (GET /api/v1/pcr): per underlying the bias, PCR by OI overall and
 * near the money, PCR by volume and the change over the IST session. Hidden when no chain is configured.
 */
import { el, panel } from './dom.js';

export interface PcrChain {
  underlying: string; expiries: string[]; spot: number | null; atmStrike: number | null; bias: string | null;
  overall: { pcrOi: number | null; pcrVolume: number | null };
  nearAtm: { pcrOi: number | null; strikeLow: number; strikeHigh: number } | null;
  changePcrOi: number | null;
}

const f = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : x.toFixed(2));

export class PcrPanel {
  private readonly root: HTMLDetailsElement;
  private readonly body: HTMLDivElement;
  updates = 0;
  constructor(host: HTMLElement) {
    const p = panel(host, 'pcr', 'Options PCR');
    this.root = p.root;
    this.body = p.body;
    this.root.hidden = true;
  }
  set(r: { available?: boolean; chains?: PcrChain[] }): void {
    const chains = r.chains ?? [];
    this.root.hidden = chains.length === 0;
    if (!chains.length) return;
    this.updates++;
    this.body.replaceChildren(...chains.map((c) => {
      const row = el('div', `pcr ${c.bias?.includes('bullish') ? 'ok' : c.bias?.includes('bearish') ? 'warn' : ''}`);
      row.append(
        el('div', '', `${c.underlying} ${c.expiries.join(',')} · ${c.bias ?? 'n/a'}`),
        el('div', '', `OI ${f(c.overall.pcrOi)} · near ATM ${f(c.nearAtm?.pcrOi)}${c.nearAtm ? ` (${c.nearAtm.strikeLow}–${c.nearAtm.strikeHigh})` : ''} · vol ${f(c.overall.pcrVolume)}`),
        el('div', '', `spot ${c.spot ?? 'n/a'} · ATM ${c.atmStrike ?? 'n/a'} · session Δ ${c.changePcrOi === null ? 'n/a' : (c.changePcrOi >= 0 ? '+' : '') + c.changePcrOi.toFixed(2)}`),
      );
      return row;
    }));
  }
}

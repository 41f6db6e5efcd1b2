/**
 * Options-chain PCR of the Kite feeds: per underlying the bias, PCR by OI overall and near the money, PCR by
 * volume and the change over the IST session. GET /api/v1/pcr once names the chains (`symbols`, known before
 * their first report) and gives the latest reports; after that every report arrives on the `pcr` WS channel
 * (pushed when it changes). Hidden when the server has no chain.
 */
import type { StreamClient, StreamSubscription } from '../../../datafeed-adapter/src/client/index.js';
import { el, panel } from './dom.js';

export interface PcrChain {
  underlying: string; symbol?: string | null; expiries: string[]; spot: number | null; atmStrike: number | null; bias: string | null;
  overall: { pcrOi: number | null; pcrVolume: number | null };
  nearAtm: { pcrOi: number | null; strikeLow: number; strikeHigh: number } | null;
  changePcrOi: number | null;
}

const f = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : x.toFixed(2));

export class PcrPanel {
  private readonly root: HTMLDetailsElement;
  private readonly body: HTMLDivElement;
  private readonly badge: HTMLSpanElement;
  private readonly chains = new Map<string, PcrChain>();
  private subs: StreamSubscription[] = [];
  /** reports drawn (HTTP + stream) and those that came from the stream */
  updates = 0;
  streamed = 0;
  constructor(host: HTMLElement) {
    const p = panel(host, 'pcr', 'Options PCR');
    this.root = p.root;
    this.body = p.body;
    this.badge = p.badge;
    this.root.hidden = true;
  }

  /** Load the chains once over HTTP, then follow each on the `pcr` channel (when `stream` is given). */
  async follow(get: () => Promise<{ available?: boolean; symbols?: string[]; chains?: PcrChain[] }>, stream: StreamClient | null): Promise<void> {
    const r = await get();
    for (const c of r.chains ?? []) this.put(c);
    this.draw();
    if (!stream) return;
    for (const s of this.subs) s.unsubscribe();
    this.subs = (r.symbols ?? []).map((sym) => stream.subscribe('pcr', sym, {
      onSnapshot: (d) => { const last = d.items.at(-1) as PcrChain | undefined; if (last) { this.put(last); this.streamed++; this.draw(); } },
      onUpdate: (d) => { this.put(d.item as PcrChain); this.streamed++; this.draw(); },
      onError: () => undefined,
    }));
    if (this.subs.length) { this.badge.textContent = 'live'; this.badge.className = 'badge ok'; }
  }

  private put(c: PcrChain): void { this.chains.set(c.symbol ?? c.underlying, c); }

  /** Draw a set of chains (replaces the current ones). */
  set(r: { chains?: PcrChain[] }): void {
    this.chains.clear();
    for (const c of r.chains ?? []) this.put(c);
    this.draw();
  }

  private draw(): void {
    const chains = [...this.chains.values()];
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

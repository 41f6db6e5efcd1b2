/**
 * Feed and data status: stream connection state, simulated vs live, per-venue feed state, gaps
 * with their spans (from /api/v1/feeds), and the replay / data position from the `stats` channel.
 */
import { el, hms, panel } from './dom.js';

export interface FeedsSnap {
  mode?: string;
  simulated?: { banner: string | null; reason: string | null; instruments: string[] } | null;
  feeds?: { name: string; state?: string; connected?: boolean; stalled?: { reason: string } | null }[];
  completeness?: { instrument: string; gaps: { kind: string; reason: string; from?: number; to: number | null }[] }[];
  replay?: { file?: string; position?: number; speed?: number | string } | null;
}

export class StatusPanel {
  private readonly stream: HTMLDivElement;
  private readonly feeds: HTMLDivElement;
  private readonly pos: HTMLDivElement;
  updates = 0;
  constructor(host: HTMLElement) {
    const p = panel(host, 'status', 'Feed & data status');
    this.stream = el('div', '', 'stream: connecting');
    this.pos = el('div', '', 'data time: –');
    this.feeds = el('div', 'feeds');
    p.body.append(this.stream, this.pos, this.feeds);
  }
  streamState(s: string): void { this.stream.textContent = `stream: ${s}`; this.stream.className = s === 'open' ? 'ok' : 'warn'; }
  position(ts: number, trades: number): void { this.updates++; this.pos.textContent = `data time: ${ts ? `${new Date(ts).toISOString().slice(0, 10)} ${hms(ts)} UTC` : '–'} · ${trades} trades`; }
  set(f: FeedsSnap): void {
    const lines: string[] = [];
    lines.push(f.mode === 'simulated' ? `SIMULATED — ${f.simulated?.reason ?? ''}` : `mode: ${f.mode ?? 'live'}`);
    for (const x of f.feeds ?? []) lines.push(`${x.name}: ${x.stalled ? `STALLED (${x.stalled.reason})` : x.state ?? (x.connected === false ? 'disconnected' : 'connected')}`);
    if (!f.feeds?.length) lines.push('no live venue feeds (replay or simulator)');
    for (const c of f.completeness ?? []) for (const g of c.gaps) lines.push(`gap ${c.instrument} ${g.kind}: ${g.from ? hms(g.from) : '?'} → ${g.to ? hms(g.to) : 'open'} (${g.reason})`);
    this.feeds.replaceChildren(...lines.map((l) => el('div', '', l)));
  }
}

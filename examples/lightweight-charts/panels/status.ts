/**
 * Feed and data status: stream connection state, simulated vs live, per-venue feed state, gaps
 * with their spans and the replay's play state (the `feeds` channel, pushed when it changes), and the
 * data position from the `stats` channel.
 */
import { el, hms, panel, perFrame, setText } from './dom.js';

export interface FeedsSnap {
  mode?: string;
  simulated?: { banner: string | null; reason: string | null; instruments: string[] } | null;
  feeds?: { name: string; state?: string; connected?: boolean; stalled?: { reason: string } | null }[];
  completeness?: { instrument: string; gaps: { kind: string; reason: string; from?: number; to: number | null }[] }[];
  replay?: { files: string[]; playing: boolean; speed: number | 'max'; fed: number; total: number; position: number | null; first: number | null; last: number | null; done: boolean } | null;
}

export class StatusPanel {
  private readonly stream: HTMLDivElement;
  private readonly feeds: HTMLDivElement;
  private readonly pos: HTMLDivElement;
  updates = 0;
  feedUpdates = 0;
  constructor(host: HTMLElement) {
    const p = panel(host, 'status', 'Feed & data status');
    this.stream = el('div', '', 'stream: connecting');
    this.pos = el('div', '', 'data time: –');
    this.feeds = el('div', 'feeds');
    p.body.append(this.stream, this.pos, this.feeds);
  }
  streamState(s: string): void { this.stream.textContent = `stream: ${s}`; this.stream.className = s === 'open' ? 'ok' : 'warn'; }
  private at: [number, number] = [0, 0];
  // the stats channel can push several times a frame: the line is written once per frame
  private readonly drawPos = perFrame(() => { const [ts, trades] = this.at; setText(this.pos, `data time: ${ts ? `${new Date(ts).toISOString().slice(0, 10)} ${hms(ts)} UTC` : '–'} · ${trades} trades`); });
  position(ts: number, trades: number): void { this.updates++; this.at = [ts, trades]; this.drawPos(); }
  set(f: FeedsSnap): void {
    this.feedUpdates++;
    const lines: string[] = [];
    const r = f.replay;
    lines.push(f.mode === 'simulated' ? `SIMULATED — ${f.simulated?.reason ?? ''}` : r ? `REPLAY of ${r.files.map((x) => x.split('/').pop()).join(', ')}` : `mode: ${f.mode ?? 'live'}`);
    if (r) lines.push(`replay: ${r.done ? 'finished' : r.playing ? `playing ${r.speed === 'max' ? 'max' : `${r.speed}×`}` : 'paused'} · ${r.position ? hms(r.position) : '–'} · ${r.fed}/${r.total} events`);
    for (const x of f.feeds ?? []) lines.push(`${x.name}: ${x.stalled ? `STALLED (${x.stalled.reason})` : x.state ?? (x.connected === false ? 'disconnected' : 'connected')}`);
    if (!f.feeds?.length) lines.push(r ? 'no live venue feeds (a recorded file plays)' : 'no live venue feeds');
    for (const c of f.completeness ?? []) for (const g of c.gaps) lines.push(`gap ${c.instrument} ${g.kind}: ${g.from ? hms(g.from) : '?'} → ${g.to ? hms(g.to) : 'open'} (${g.reason})`);
    this.feeds.replaceChildren(...lines.map((l) => el('div', '', l)));
  }
}

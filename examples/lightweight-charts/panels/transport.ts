/**
 * Replay transport (shown only when the server plays a file: GET /replay answers): play/pause,
 * speed, and a seek slider over the file's data time, both ways (a backward seek re-runs the replay
 * from the file start on the server: `onRewind` reloads the page's panels). The position follows the
 * `stats` stream and the play state the `feeds` stream; the server is asked only when the user acts.
 */
import { el, hms, perFrame, setText } from './dom.js';

export interface ReplayStatus { playing: boolean; speed: number | 'max'; fed: number; total: number; position: number | null; first: number | null; last: number | null; done: boolean }

export class TransportBar {
  readonly root: HTMLSpanElement;
  private readonly btn: HTMLButtonElement;
  private readonly speed: HTMLSelectElement;
  private readonly seek: HTMLInputElement;
  private readonly pos: HTMLSpanElement;
  st: ReplayStatus | null = null;
  error = '';
  constructor(host: HTMLElement, private readonly onRewind: () => void) {
    this.root = el('span', 'transport');
    this.root.hidden = true;
    this.btn = el('button', '', 'pause');
    this.btn.title = 'play / pause the replay';
    this.speed = el('select');
    for (const s of ['1', '5', '10', '30', '100', 'max']) { const o = el('option', '', s === 'max' ? 'max' : `${s}×`); o.value = s; this.speed.appendChild(o); }
    this.seek = el('input');
    this.seek.type = 'range'; this.seek.id = 'seek'; this.seek.title = 'seek';
    this.pos = el('span', 'pos');
    this.root.append(el('b', '', 'REPLAY'), this.btn, this.speed, this.seek, this.pos);
    host.appendChild(this.root);
    this.btn.onclick = () => void this.send({ op: this.st?.playing ? 'pause' : 'play' });
    this.speed.onchange = () => void this.send({ op: 'speed', speed: this.speed.value === 'max' ? 'max' : Number(this.speed.value) });
    this.seek.onchange = () => void this.send({ op: 'seek', ts: Number(this.seek.value) }).then((s) => { if (s?.rewound) this.onRewind(); });
  }
  async init(): Promise<boolean> {
    const r = await fetch('/replay').catch(() => null);
    if (!r || !r.ok) return false;
    const j = (await r.json()) as ReplayStatus & { available?: boolean };
    if (!j.available) return false;
    this.show(j);
    this.root.hidden = false;
    return true;
  }
  /** the server's transport state from the `feeds` stream (another page may have paused or seeked) */
  remote(s: ReplayStatus): void { if (!this.root.hidden) this.show(s); }
  async send(body: Record<string, unknown>): Promise<(ReplayStatus & { rewound?: boolean }) | null> {
    const r = await fetch('/replay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const j = (await r.json()) as ReplayStatus & { reason?: string; rewound?: boolean };
    if (!r.ok) { this.error = j.reason ?? `HTTP ${r.status}`; this.pos.textContent = this.error; return null; }
    this.error = '';
    this.show(j);
    return j;
  }
  private show(s: ReplayStatus): void {
    this.st = s;
    this.btn.textContent = s.playing ? 'pause' : 'play';
    this.speed.value = String(s.speed);
    if (s.first !== null && s.last !== null) { this.seek.min = String(s.first); this.seek.max = String(s.last); this.seek.step = '1000'; }
    this.position(s.position ?? 0);
  }
  /** data time reached (from the stats stream) */
  position(ts: number): void {
    if (!this.st || !ts) return;
    this.at = ts; this.drawPos();
  }
  private at = 0;
  // written once per frame however many stats messages arrive in it
  private readonly drawPos = perFrame(() => {
    if (!this.st || !this.at) return;
    const v = String(this.at);
    if (document.activeElement !== this.seek && this.seek.value !== v) this.seek.value = v;
    setText(this.pos, `${hms(this.at)}${this.st.playing ? '' : ' paused'}`);
  });
}

/**
 * Scanner and strategy status across instruments: the 6-step checklist and the priority ranking as
 * /api/v1/scanner serves them (read once), then kept current from each instrument's `trade_state`
 * updates. Clicking a row opens that instrument.
 */
import { el, num, panel } from './dom.js';

export interface StatusRow { instrument: string; label: string; state: string; steps: { name: string; done: boolean; detail: string }[]; completedSteps: number; priority: number; price: number | null }

export class ScannerPanel {
  private readonly body: HTMLDivElement;
  private readonly rows = new Map<string, StatusRow>();
  updates = 0;
  constructor(host: HTMLElement, private readonly open: (id: string) => void) {
    this.body = panel(host, 'scanner', 'Scanner · strategy').body;
  }
  set(rows: StatusRow[]): void { for (const r of rows) this.rows.set(r.instrument, r); this.render(); }
  update(r: StatusRow): void { this.updates++; this.rows.set(r.instrument, r); this.render(); }
  private render(): void {
    const t = el('table', 'scanner');
    const sorted = [...this.rows.values()].sort((a, b) => b.priority - a.priority || a.instrument.localeCompare(b.instrument));
    for (const r of sorted) {
      const tr = el('tr');
      tr.title = r.steps.map((s) => `${s.done ? '✓' : '·'} ${s.name}: ${s.detail}`).join('\n');
      const steps = el('td', 'steps');
      for (const s of r.steps) steps.appendChild(el('i', s.done ? 'done' : '', s.done ? '●' : '○'));
      tr.append(el('td', 'sym', r.instrument), el('td', '', r.state), steps, el('td', '', num(r.priority, 0)), el('td', '', num(r.price, 8)));
      tr.addEventListener('click', () => this.open(r.instrument));
      t.appendChild(tr);
    }
    this.body.replaceChildren(t);
  }
}

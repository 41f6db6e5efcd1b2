/** Tiny DOM helpers shared by the panels (each panel owns one element and redraws only its own rows). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

/** A hideable panel: <details> with a title; the body is what the panel fills. */
export function panel(host: HTMLElement, id: string, title: string): { root: HTMLDetailsElement; body: HTMLDivElement; badge: HTMLSpanElement } {
  const root = el('details', 'panel');
  root.id = `panel-${id}`;
  const hidden = localStorage.getItem(`tapeflow.panel.${id}`) === 'closed';
  root.open = !hidden;
  root.addEventListener('toggle', () => localStorage.setItem(`tapeflow.panel.${id}`, root.open ? 'open' : 'closed'));
  const sum = el('summary', '', title);
  const badge = el('span', 'badge');
  sum.appendChild(badge);
  const body = el('div', 'body');
  root.append(sum, body);
  host.appendChild(root);
  return { root, body, badge };
}

/** price / size text: up to `d` decimals, trailing zeros dropped */
export const num = (x: number | null | undefined, d = 6): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : String(Number(x.toFixed(d))));
export const hms = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/**
 * Runs `fn` once in the next animation frame however often it is asked for before then: a panel fed
 * many stream messages per frame touches the DOM once per frame (each touch costs style, layout and paint).
 */
export function perFrame(fn: () => void): () => void {
  let f = 0;
  return () => { if (!f) f = requestAnimationFrame(() => { f = 0; fn(); }); };
}

/** writes text only when it changed: an unchanged write still invalidates layout and paint */
export function setText(e: HTMLElement, s: string): void { if (e.textContent !== s) e.textContent = s; }

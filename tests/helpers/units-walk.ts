/**
 * The units walk shared by tests/unit/units-walk.test.ts (simulated tape) and tests/real/units-walk-real.test.ts
 * (the real Binance capture): classifies every field of an answer by what it holds and checks prices against
 * the traded price range, sizes against the traded volume, texts for tick/lot numbers.
 */
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { EVIDENCE_UNITS } from '../../engine/src/signals/types.js';
import { CHANNELS } from '../../datafeed-adapter/src/ws/protocol.js';

/** The traded range and volume the answers are judged against (price units, instrument units). */
export const bounds = { lo: 0, hi: 0, totalVolume: 0 };

// ───────────────────────────── field classification ─────────────────────────────

const PRICE_KEYS = new Set(['price', 'open', 'high', 'low', 'close', 'poc', 'vah', 'val', 'last', 'prevClose', 'entry', 'sl', 'tp', 'initialSl', 'exit',
  'priceLow', 'priceHigh', 'level', 'windowLow', 'windowHigh', 'priorExtreme', 'newExtreme', 'vwap', 'peak', 'lp', 'open_price', 'high_price', 'low_price',
  'prev_close_price', 'o', 'h', 'l', 'c', 'upper', 'lower', 'sd1Upper', 'sd1Lower', 'pocPrice', 'vahPrice', 'valPrice', 'lowPrice', 'highPrice']);
const SIZE_KEYS = new Set(['volume', 'buyVolume', 'sellVolume', 'unknownVolume', 'size', 'delta', 'deltaMin', 'deltaMax', 'cvd', 'buy', 'sell', 'unknown',
  'totalVolume', 'sessionVolume', 'v', 'minSize', 'cvdO', 'cvdH', 'cvdL', 'cvdC',
  ...Object.entries(EVIDENCE_UNITS).filter(([, u]) => u === 'size').map(([k]) => k)]);
const TEXT_KEYS = new Set(['text', 'reasoning', 'tooltip', 'detail', 'summary', 'note', 'description']);

export interface Finding { where: string; value: unknown; why: string }
export interface Tally { prices: number; sizes: number; fractionalSizes: number; texts: number }

export function walk(x: unknown, where: string, key: string, parent: Record<string, unknown> | null, out: Finding[], t: Tally): void {
  if (Array.isArray(x)) {
    // tuples: book levels [price, size], wire footprint rows [price, bid, ask, flags], profile rows [price, volume, buy, sell]
    if ((key === 'rows' || key === 'bids' || key === 'asks') && x.length && Array.isArray(x[0])) {
      for (const [k, r] of (x as number[][]).entries()) {
        checkPrice(r[0], `${where}[${k}][0]`, out, t);
        for (let j = 1; j < r.length; j++) if (!(key === 'rows' && r.length === 4 && j === 3 && where.includes('footprint'))) checkSize(r[j], `${where}[${k}][${j}]`, out, t);
      }
      return;
    }
    x.forEach((v, k) => walk(v, `${where}[${k}]`, key, parent, out, t));
    return;
  }
  if (x && typeof x === 'object') {
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) walk(v, `${where}.${k}`, k, x as Record<string, unknown>, out, t);
    return;
  }
  if (typeof x === 'string') {
    if (TEXT_KEYS.has(key)) { t.texts++; checkText(x, where, out); }
    return;
  }
  if (typeof x !== 'number') return;
  const rowLike = parent !== null && 'price' in parent;
  // footprint / profile rows: bid and ask are volumes; a quote's bid/ask are prices
  if ((key === 'bid' || key === 'ask') && rowLike) { checkSize(x, where, out, t); return; }
  if (key === 'bid' || key === 'ask' || key === 'spread') { if (key !== 'spread') checkPrice(x, where, out, t); return; }
  if (where.includes('.cvd.') || where.includes('.cvd[')) { checkSize(x, where, out, t); return; }
  if (PRICE_KEYS.has(key)) { checkPrice(x, where, out, t); return; }
  if (SIZE_KEYS.has(key)) checkSize(x, where, out, t);
}

export function checkPrice(v: unknown, where: string, out: Finding[], t: Tally): void {
  if (typeof v !== 'number') return;
  t.prices++;
  if (!(v >= bounds.lo * 0.97 && v <= bounds.hi * 1.03)) out.push({ where, value: v, why: `price outside the traded range ${bounds.lo}…${bounds.hi}` });
}

export function checkSize(v: unknown, where: string, out: Finding[], t: Tally): void {
  if (typeof v !== 'number') return;
  t.sizes++;
  if (!Number.isInteger(v)) t.fractionalSizes++;
  if (Math.abs(v) > bounds.totalVolume * 1.0001) out.push({ where, value: v, why: `size above the total traded volume ${bounds.totalVolume} (lots?)` });
}

export function checkText(s: string, where: string, out: Finding[]): void {
  if (/\d\s*(lots?|ticks?)\b/.test(s)) out.push({ where, value: s, why: 'text names lots/ticks' });
  // (venue sequence numbers in gap reasons, `U=…` / `lastUpdateId=…`, are ids, not quantities)
  for (const m of s.matchAll(/(?<![\w:/-]|(?:Id|U|u|pu|seq)=)-?\d+(?:\.\d+)?(?![\w:-])/g)) {
    const n = Math.abs(Number(m[0]));
    if (n > bounds.hi * 1.05) out.push({ where, value: s, why: `text number ${m[0]} above the price range (ticks or lots?)` });
  }
}


// ───────────────────────────── walking the server ─────────────────────────────

/** The queries that exercise one route on a tape of `hours` hours from `start` (ms). */
export function queriesFor(path: string, params: readonly { name: string; in?: string }[], udf: boolean, SYM: string, START: number, HOURS: number): string[] {
  const from = udf ? Math.floor(START / 1000) : START;
  const to = udf ? Math.floor((START + HOURS * 3_600_000) / 1000) + 60 : START + HOURS * 3_600_000 + 60_000;
  const v: Record<string, string> = {
    symbol: SYM, symbols: SYM, from: String(from), to: String(to), resolution: '1', countback: '300', limit: '500', depth: '20',
    query: 'BTC', type: '', exchange: '', anchor: String(START + (HOURS - 2) * 3_600_000), sessions: '2', group: '',
  };
  const base = new URLSearchParams();
  for (const p of params) if (p.in !== 'path' && v[p.name] !== undefined && v[p.name] !== '' && !(path === '/api/v1/vwap' && p.name === 'resolution')) base.set(p.name, v[p.name]);
  if (path === '/api/v1/vwap') base.delete('to');
  const q = (extra: Record<string, string> = {}, drop: string[] = []): string => {
    const u = new URLSearchParams(base);
    for (const d of drop) u.delete(d);
    for (const [k, x] of Object.entries(extra)) u.set(k, x);
    return `${path.replace('{symbol}', SYM)}?${u}`;
  };
  switch (path) {
    case '/api/v1/footprint': return [q(), q({ agg: 'tick', size: '200' }), q({ agg: 'volume', size: '20' }), q({ resolution: '5S' }, [])];
    case '/api/v1/profile': return [q({}, ['from', 'to']), q({ type: 'fixed' }), q({ type: 'composite' }, ['from', 'to']), q({ type: 'visible' })];
    case '/api/v1/trades': return [q({}, ['from']), q()];
    case '/api/v1/vwap': return [q({}, ['anchor']), q({ resolution: '1', to: String(START + HOURS * 3_600_000) })];
    case '/history': return [q(), q({ resolution: '1T', countback: '50' }), q({ resolution: '1D' })];
    case '/marks': case '/timescale_marks': return [q(), q({ resolution: '5' })];
    default: return [q()];
  }
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url);
  const txt = await r.text();
  let body: unknown = txt;
  try { body = JSON.parse(txt); } catch { /* /time is text */ }
  return { status: r.status, body };
}

/** One snapshot of every WebSocket channel for `sym` (bar-like channels at tf 1). */
export async function wsSnapshots(url: string, SYM: string): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
  const out: Record<string, unknown> = {};
  const want = CHANNELS.length;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`WS snapshots: got ${Object.keys(out).join(', ')}`)), 20_000);
    ws.on('error', reject);
    ws.on('message', (d) => {
      const m = unpack(d as Buffer) as Record<string, any>;
      if (m.op === 'snapshot' || (m.op === 'error' && typeof m.ref === 'number' && m.ref >= 10)) {
        const ch = m.op === 'snapshot' ? (m.ch as string) : CHANNELS[(m.ref as number) - 10];
        out[ch] = m.op === 'snapshot' ? m.d : m;
        if (Object.keys(out).length === want) { clearTimeout(timer); resolve(); }
      }
    });
    ws.on('open', () => {
      ws.send(pack({ v: 1, op: 'hello', id: 1 }));
      CHANNELS.forEach((ch, k) => ws.send(pack({ v: 1, op: 'subscribe', id: 10 + k, ch, sym: SYM, ...(ch === 'bar' || ch === 'footprint' || ch === 'delta' ? { tf: '1' } : {}) })));
    });
  });
  ws.close();
  return out;
}


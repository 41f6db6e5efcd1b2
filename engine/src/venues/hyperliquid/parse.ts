/**
 * Hyperliquid WebSocket frame parser (live and replay).
 *
 * - `{"channel":"trades","data":[{coin, side, px, sz, time, tid, hash}]}` → Trade per row. `side` is the
 *   taker side: `B` (bid) = buy aggressor, `A` (ask) = sell aggressor. id = `tid`, ts = `time` (ms).
 * - `{"channel":"l2Book","data":{coin, time, levels:[bids, asks]}}` with levels `{px, sz, n}` → BookSnapshot.
 *   Every l2Book message is a full snapshot and carries no sequence (seq NaN): each one replaces the book.
 * - `{"channel":"bbo","data":{coin, time, bbo:[bid|null, ask|null]}}` → Quote.
 * - `subscriptionResponse`, `pong`, `error` and other channels carry no market event and are ignored.
 */
import type { BookSnapshot, Level } from '../../core/events.js';
import type { Instrument } from '../../core/instruments.js';
import { BadRow, type EventSink } from '../../replay/types.js';
import { checkTs } from '../../replay/time.js';
import { asObject, num, type FeedContext } from '../../replay/context.js';
import './meta.js';

type Obj = Record<string, unknown>;

function side(s: unknown): 'buy' | 'sell' {
  if (s === 'B') return 'buy';
  if (s === 'A') return 'sell';
  throw new BadRow(`invalid side ${JSON.stringify(s)} (expected B or A)`);
}

function book(inst: Instrument, rows: unknown, what: string): Level[] {
  if (!Array.isArray(rows)) throw new BadRow(`${what}: expected an array of levels`);
  return (rows as Obj[]).map((l, i) => {
    if (!l || typeof l !== 'object') throw new BadRow(`${what}[${i}]: expected {px, sz, n}`);
    const p = num(inst.price, l.px, `${what} px`);
    const q = num(inst.qty, l.sz, `${what} sz`);
    if (p < 0 || q < 0) throw new BadRow(`${what}[${i}]: negative value`);
    return [p, q] as Level;
  });
}

function samples(...sides: unknown[]): [string[], string[]] {
  const p: string[] = [];
  const q: string[] = [];
  for (const s of sides) if (Array.isArray(s)) for (const l of s as Obj[]) if (l) { p.push(String(l.px)); q.push(String(l.sz)); }
  return [p, q];
}

export function parseHyperliquidFrame(frame: unknown, _recvTs: number, ctx: FeedContext, sink: EventSink): void {
  const o = asObject(frame);
  const ch = o.channel;
  if (ch === 'trades') {
    const data = o.data;
    if (!Array.isArray(data)) throw new BadRow('trades frame without a data array');
    for (const r of data as Obj[]) {
      if (typeof r?.coin !== 'string') throw new BadRow('trade without coin');
      const inst = ctx.resolve('hyperliquid', r.coin, () => [data.map((x) => String((x as Obj).px)), data.map((x) => String((x as Obj).sz))]);
      const price = num(inst.price, r.px, 'px');
      const size = num(inst.qty, r.sz, 'sz');
      if (price <= 0 || size < 0) throw new BadRow(`non-positive price or negative size (${String(r.px)} x ${String(r.sz)})`);
      const t = ctx.trade;
      t.instrument = inst.id; t.ts = checkTs(typeof r.time === 'number' ? r.time : NaN); t.price = price; t.size = size;
      t.id = typeof r.tid === 'number' && Number.isSafeInteger(r.tid) ? r.tid : 0;
      t.side = side(r.side); t.sideSource = 'flag';
      sink(t);
    }
    return;
  }
  if (ch === 'l2Book') {
    const d = o.data as Obj;
    if (!d || typeof d.coin !== 'string') throw new BadRow('l2Book frame without coin');
    const lv = d.levels;
    if (!Array.isArray(lv) || lv.length !== 2) throw new BadRow('l2Book levels must be [bids, asks]');
    const inst = ctx.resolve('hyperliquid', d.coin, () => samples(lv[0], lv[1]));
    const ev: BookSnapshot = { type: 'book_snapshot', instrument: inst.id, ts: checkTs(typeof d.time === 'number' ? d.time : NaN), seq: NaN, bids: book(inst, lv[0], 'bids'), asks: book(inst, lv[1], 'asks') };
    sink(ev);
    return;
  }
  if (ch === 'bbo') {
    const d = o.data as Obj;
    if (!d || typeof d.coin !== 'string' || !Array.isArray(d.bbo)) throw new BadRow('bbo frame without coin or bbo');
    const [b, a] = d.bbo as (Obj | null | undefined)[];
    if (!b && !a) return;
    const inst = ctx.resolve('hyperliquid', d.coin, () => samples([b, a].filter(Boolean)));
    const q = ctx.quote;
    q.instrument = inst.id; q.ts = checkTs(typeof d.time === 'number' ? d.time : NaN);
    q.bid = b ? num(inst.price, b.px, 'bid') : NaN;
    q.ask = a ? num(inst.price, a.px, 'ask') : NaN;
    q.bidSize = b ? num(inst.qty, b.sz, 'bid size') : 0;
    q.askSize = a ? num(inst.qty, a.sz, 'ask size') : 0;
    sink(q);
  }
}

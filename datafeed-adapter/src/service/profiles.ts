/**
 * Volume profiles (/api/v1/profile). type: session (key or current), composite (last N sessions),
 * fixed / visible (time range [from, to), built from the base bars' footprint rows, bars included
 * when their start is in the range; row size = rowTicks if given, else the instrument profile row
 * when it is a multiple of the footprint row, else the footprint row).
 *
 * Bound: session and composite profiles are kept by the engine / store (one row grid each, at most
 * 365 sessions merged); a range profile reads at most `maxBaseBars` base bars, in pages of PAGE_BARS
 * with a yield after each, and says so in `limits` when the cap cut the range.
 */
import type { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import { COL_ASK_VOL, COL_BID_VOL, COL_UNK_VOL } from '../../../engine/src/analytics/row-grid.js';
import { VolumeProfile, type ProfileSummary } from '../../../engine/src/analytics/profile/volume-profile.js';
import type { Instrument } from '../../../engine/src/core/instruments.js';
import type { HistoryService } from './history.js';
import { ServiceError } from './errors.js';
import type { Work } from './work.js';

const PAGE_BARS = 500;

export interface ProfileQuery { type: 'session' | 'fixed' | 'visible' | 'composite'; session?: string; sessions?: number; from?: number; to?: number; rowTicks?: number; rows: boolean; valueAreaPct?: number }

export function* profileWork(s: HistoryService, symbol: string, q: ProfileQuery): Work<Record<string, unknown>> {
  const i = s.instrument(symbol);
  const p = s.pipeline(i.id);
  const px = (t: number): number | null => s.px(i, t);
  const va = q.valueAreaPct !== undefined ? { ...(p?.opts.valueArea ?? {}), pct: q.valueAreaPct } : p?.opts.valueArea;
  let prof: VolumeProfile | null = null;
  let meta: Record<string, unknown> = {};
  let developing: unknown[] | undefined;
  let nakedPocs: { price: number | null; time: number; end: number; session: string }[] | undefined;
  const limits: string[] = [];
  if (q.type === 'session') {
    const live = q.session ? p?.profiles.get(q.session) : p?.profiles.current ?? undefined;
    if (live) {
      prof = live.profile; meta = { session: live.key, start: live.start, end: live.end, closed: live.closed };
      developing = live.developing.map((d) => ({ ts: d.ts, poc: px(d.poc), vah: px(d.vah), val: px(d.val) }));
      nakedPocs = nakedSessionPocs(p!.profiles.sessions, live).map((n) => ({ price: px(n.price), time: n.time, end: n.end, session: n.session }));
    } else if (s.store) {
      const all = s.store.profiles(i.id);
      const sp = q.session ? all.find((x) => x.key === q.session) : all[all.length - 1];
      if (sp) {
        prof = sp.profile; meta = { session: sp.key, start: sp.start, end: sp.end, closed: sp.closed };
        developing = sp.developing.map((d) => ({ ts: d.ts, poc: px(d.poc), vah: px(d.vah), val: px(d.val) }));
      }
    }
    if (!prof && q.session) throw new ServiceError(404, 'session', `no profile for session "${q.session.slice(0, 20)}" of ${i.id}`);
  } else if (q.type === 'composite') {
    const n = q.sessions ?? 5;
    if (p) {
      prof = p.profiles.composite(n);
      const list = p.profiles.sessions;
      const used = list.slice(Math.max(0, list.length - n));
      meta = { sessions: used.map((x) => x.key), start: used[0]?.start ?? null, end: used[used.length - 1]?.end ?? null };
    } else if (s.store) {
      const all = s.store.profiles(i.id);
      const used = all.slice(Math.max(0, all.length - n));
      if (used.length) {
        prof = new VolumeProfile(used[0].profile.rowTicks);
        for (const x of used) if (x.profile.rowTicks === prof.rowTicks) prof.merge(x.profile);
        meta = { sessions: used.map((x) => x.key), start: used[0].start, end: used[used.length - 1].end };
      }
    }
  } else {
    const from = q.from as number, to = q.to as number;
    const fr = s.rowTicks(i);
    const rowTicks = q.rowTicks ?? (i.profileRowTicks % fr === 0 ? i.profileRowTicks : fr);
    const vp = new VolumeProfile(rowTicks);
    yield* baseBarsForward(s, i, from, to, limits, (b) => {
      const g = b.rows;
      for (let k = 0; k < g.length; k++) {
        const price = (g.base + k) * b.rowTicks;
        const bid = g.cols[COL_BID_VOL][k], ask = g.cols[COL_ASK_VOL][k], unk = g.cols[COL_UNK_VOL][k];
        if (bid) vp.add(price, bid, -1);
        if (ask) vp.add(price, ask, 1);
        if (unk) vp.add(price, unk, 0);
      }
    });
    prof = vp;
    meta = { from, to, exact: rowTicks % fr === 0 };
  }
  const base = { symbol: i.id, type: q.type, ...meta, limits };
  if (!prof) return { ...base, empty: true, rowSize: px(s.rowTicks(i)), rows: [], poc: null, vah: null, val: null, hvn: [], lvn: [], shape: 'none', totalVolume: 0 };
  yield;
  return { ...base, ...profileJson(s, i, prof.summary({ valueArea: va, rows: q.rows })), ...(developing ? { developing } : {}), ...(nakedPocs ? { nakedPocs } : {}) };
}

/**
 * Naked (virgin) session POCs as of `upTo`: the POC row [poc, poc + row) of each earlier session
 * (at most the 30 before it) that no later session's range low…high reached, up to and including
 * `upTo`. Ticks; `time` = the session's start (where a chart starts its ray), `end` = its end (where
 * the search for a touch starts).
 */
export function nakedSessionPocs(sessions: readonly { key: string; start: number; end: number; profile: VolumeProfile }[], upTo: { key: string }): { price: number; time: number; end: number; session: string }[] {
  const k = sessions.findIndex((x) => x.key === upTo.key);
  if (k <= 0) return [];
  const sums = sessions.slice(Math.max(0, k - 30), k + 1).map((x) => ({ x, s: x.profile.summary({ rows: false }) }));
  const out: { price: number; time: number; end: number; session: string }[] = [];
  for (let i = 0; i < sums.length - 1; i++) {
    const { x, s } = sums[i];
    if (!Number.isFinite(s.pocPrice) || s.totalVolume === 0) continue;
    const lo = s.pocPrice, hi = s.pocPrice + x.profile.rowTicks;
    let touched = false;
    for (let j = i + 1; j < sums.length && !touched; j++) { const t = sums[j].s; if (t.totalVolume > 0 && t.lowPrice < hi && t.highPrice >= lo) touched = true; }
    if (!touched) out.push({ price: lo, time: x.start, end: x.end, session: x.key });
  }
  return out;
}

/** Base bars with from <= start < to, oldest first: the store before the in-memory bars, then memory. */
function* baseBarsForward(s: HistoryService, i: Instrument, from: number, to: number, limits: string[], visit: (b: FootprintBar) => void): Work<void> {
  const p = s.pipeline(i.id);
  const mem = p ? p.bars.map((x) => x.bar) : [];
  const open = p?.openBar ?? null;
  const memFirst = mem.length ? mem[0].start : open ? open.start : Infinity;
  if (s.store && from < memFirst) {
    const label = s.baseTimeframe(i.id).label;
    const hi = Math.min(to, memFirst);
    let lo = from, scanned = 0;
    for (;;) {
      const n = Math.min(PAGE_BARS, s.opts.maxBaseBars - scanned);
      if (n <= 0) { limits.push(`read at most ${s.opts.maxBaseBars} stored base bars: the profile covers [${from}, ${lo})`); return; }
      const page = s.store.bars(i.id, label, lo, hi, n);
      scanned += page.length;
      for (const b of page) visit(b);
      if (page.length < n) break;
      lo = page[page.length - 1].start + 1;
      yield;
    }
  }
  let k = 0;
  while (k < mem.length && mem[k].start < from) k++;
  for (let j = 0; k < mem.length && mem[k].start < to; k++, j++) {
    visit(mem[k]);
    if (j % PAGE_BARS === PAGE_BARS - 1) yield;
  }
  if (open && open.start >= from && open.start < to && open.trades > 0) visit(open);
}

function profileJson(s: HistoryService, i: Instrument, x: ProfileSummary): Record<string, unknown> {
  const px = (t: number): number | null => s.px(i, t);
  const vol = (v: number): number => i.qty.toNumber(v);
  const node = (n: { lowPrice: number; highPrice: number; peakPrice: number; volume: number }) => ({ low: px(n.lowPrice), high: px(n.highPrice), peak: px(n.peakPrice), volume: vol(n.volume) });
  return {
    empty: x.totalVolume === 0, rowSize: px(x.rowTicks),
    poc: px(x.pocPrice), vah: px(x.vahPrice), val: px(x.valPrice), low: px(x.lowPrice), high: px(x.highPrice),
    totalVolume: vol(x.totalVolume), buyVolume: vol(x.buyVolume), sellVolume: vol(x.sellVolume), unknownVolume: vol(x.unknownVolume), valueAreaVolume: vol(x.areaVolume),
    shape: x.shape, pocPct: Number.isFinite(x.pocPct) ? x.pocPct : null, hvn: x.hvn.map(node), lvn: x.lvn.map(node),
    rows: (x.rows ?? []).filter((r) => r.volume > 0).map((r) => ({ price: px(r.price), volume: vol(r.volume), buy: vol(r.buy), sell: vol(r.sell), ask: vol(r.buy), bid: vol(r.sell), unknown: vol(r.unknown), delta: vol(r.buy - r.sell) })),
  };
}

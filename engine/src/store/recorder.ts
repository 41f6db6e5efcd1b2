/**
 * Wires an Engine to a Store (recording) and restores an Engine from a Store after a restart.
 *
 * Recording (recordEngine): every classified trade (with the CVD after it), every closed bar of each
 * pipeline's base timeframe, the current session profile at each bar close (and the previous one
 * when the session changes), instrument specs and Gap events. Only queue appends happen on the
 * engine's path; the store commits on its own schedule.
 *
 * Recording also writes a state snapshot after each closed time bar (Store.putState: the bar's end, the
 * session VWAP accumulator, the current profile's key and volume), queued after the bar and its profile.
 *
 * Restore (restoreEngine), per stored instrument the registry knows:
 *  1. resume point R: with a usable state snapshot (same session as the last stored trade, its bar stored,
 *     the stored current profile holding the snapshot's volume) the end of the snapshot's bar — then the
 *     current session's profile and VWAP come from the store and only that one open bar is replayed;
 *     otherwise the start of the session containing the last stored trade (the last trade time when it
 *     is outside every session), moved back to the end of the last stored bar that ends at or before it;
 *  2. closed bars that end at or before R are preloaded into `pipeline.bars` (with their stats);
 *  3. session profiles of sessions that started before R are seeded into `pipeline.profiles`;
 *  4. CVD is seeded from the last preloaded bar (`cvdClose`, in its session);
 *  5. stored trades with ts >= R are re-applied to the pipeline WITH their stored side and
 *     classification (not re-classified), which rebuilds the open bar, the current session profile,
 *     session VWAP and CVD exactly as before the restart. The recorder is paused meanwhile.
 * Step 5 applies already-classified trades through `InstrumentPipeline.applyClassified`; the
 * classifier's tick state is advanced with each re-applied trade so the tick rule continues seamlessly.
 * Not restored: the per-bar delta dynamics of the first new bar (momentum NaN), the pipeline checksum
 * (starts over), counters before R.
 */
import type { Trade } from '../core/events.js';
import { newTrade } from '../core/events.js';
import type { Engine } from '../analytics/engine.js';
import type { InstrumentPipeline, ClosedBar } from '../analytics/pipeline.js';
import { computeBarStats, type BarStatsOptions } from '../analytics/bar-stats.js';
import { DeltaDynamicsTracker } from '../analytics/delta.js';
import { COL_ASK_CNT, COL_BID_CNT, COL_UNK_CNT } from '../analytics/row-grid.js';
import type { Store } from './store.js';
import type { VwapState } from '../analytics/vwap.js';

export interface Recorder {
  /** stop/continue queueing writes (restore pauses it) */
  paused: boolean;
}

export function recordEngine(engine: Engine, store: Store): Recorder {
  const rec: Recorder = { paused: false };
  engine.onPipeline((p) => {
    const id = p.instrument.id;
    // simulated data (the first-run fallback, demos) is never stored as live data
    if (p.instrument.venue === 'simulator') return;
    store.putInstrument(p.instrument);
    let lastKey = '';
    p.onTrade((t, bar) => { if (!rec.paused) store.putTrade(t, bar.cvdClose); });
    p.onBarClose((cb) => {
      if (rec.paused) return;
      store.putBar(p.spec.label, cb.bar);
      const cur = p.profiles.current;
      if (!cur) return;
      if (lastKey !== '' && lastKey !== cur.key) {
        const prev = p.profiles.get(lastKey);
        if (prev) store.putProfile(id, prev);
      }
      store.putProfile(id, cur);
      lastKey = cur.key;
      // a state snapshot after the bar and its profile (the trigger of the close is not applied yet: the
      // pipeline closes a bar before the next trade touches anything), so a restart replays one bar, not the day
      if (p.spec.kind === 'time') {
        const sv = p.sessionVwapState();
        if (sv.session === cur.key) store.putState(id, p.spec.label, { v: 1, barEnd: cb.bar.end, session: sv.session, vwap: sv.vwap, profileKey: cur.key, profileVolume: cur.profile.totalVolume } satisfies StateSnapshot);
      }
    });
  });
  engine.observe((ev) => {
    if (ev.type === 'gap' && !rec.paused && engine.registry.find(ev.instrument)?.venue !== 'simulator') store.putGap(ev.instrument, ev.ts, ev.from, ev.to, ev.reason);
  });
  return rec;
}

/** What a restart needs beyond the stored bars and profiles to continue a session without replaying it. */
export interface StateSnapshot {
  v: 1;
  /** end of the last closed bar the snapshot follows */
  barEnd: number;
  /** the session the VWAP belongs to (= the current profile's key) */
  session: string;
  vwap: VwapState;
  profileKey: string;
  /** the stored profile must hold exactly this volume (else it is from another bar close: full replay) */
  profileVolume: number;
}

export function statsOptions(p: InstrumentPipeline): BarStatsOptions {
  return { valueArea: p.opts.valueArea, imbalance: p.opts.imbalance, stackedMinRows: p.opts.stackedMinRows, unfinishedMinBid: 0, unfinishedMinAsk: 0 };
}

/** Apply a trade that is already classified (restore path). See the module comment. */
export function applyClassified(p: InstrumentPipeline, t: Trade): void {
  const scratch = restoreScratch;
  scratch.ts = t.ts; scratch.price = t.price; scratch.size = t.size; scratch.side = 'buy'; scratch.sideSource = 'flag';
  p.classifier.classify(scratch); // advances the tick-rule state only (flagged: side kept)
  p.applyClassified(t);
}
const restoreScratch = newTrade();

export interface RestoreReport {
  instrument: string;
  resumeFrom: number;
  bars: number;
  profiles: number;
  trades: number;
  cvd: number;
  /** resumed from a state snapshot (one bar replayed) rather than from the session start */
  snapshot: boolean;
}

export interface RestoreOptions {
  /** most bars to preload per instrument (default: the pipeline's keepBars, capped at 200 000) */
  maxBars?: number;
  recorder?: Recorder;
}

/**
 * The instrument's state snapshot when a restart can use it: a time-bar pipeline, the snapshot's session is
 * the last trade's, the bar it follows is stored, and the stored current profile holds the snapshot's
 * volume (a crash between the profile and the snapshot writes leaves them apart: then the full replay).
 */
function usableSnapshot(p: InstrumentPipeline, store: Store, id: string, session: string, lastTs: number): StateSnapshot | undefined {
  if (p.spec.kind !== 'time') return undefined;
  const s = store.state(id, p.spec.label) as StateSnapshot | undefined;
  if (!s || s.v !== 1 || s.session !== session || s.barEnd > lastTs + 1) return undefined;
  const bar = store.lastBars(id, p.spec.label, s.barEnd, 1)[0];
  if (!bar || bar.end !== s.barEnd) return undefined;
  const prof = store.profiles(id).find((x) => x.key === s.profileKey);
  if (!prof || prof.profile.totalVolume !== s.profileVolume) return undefined;
  return s;
}

export function restoreEngine(engine: Engine, store: Store, opts: RestoreOptions = {}): RestoreReport[] {
  const out: RestoreReport[] = [];
  if (opts.recorder) opts.recorder.paused = true;
  try {
    for (const { id } of store.instruments()) {
      if (!engine.registry.has(id)) continue;
      const last = store.lastTrades(id, Infinity, 1)[0];
      if (!last) continue;
      const p = engine.pipeline(id);
      const tf = p.spec.label;
      const sess = p.instrument.calendar.sessionAt(last.ts);
      const snap = sess ? usableSnapshot(p, store, id, sess.key, last.ts) : undefined;
      // with a state snapshot the session resumes at its last closed bar; without one, at the session start
      const rs = snap ? snap.barEnd : sess ? sess.start : last.ts;
      const cap = Math.min(opts.maxBars ?? p.opts.keepBars, 200_000);
      const pre = store.lastBars(id, tf, rs, cap).filter((b) => b.end <= rs);
      let resume = pre.length ? pre[pre.length - 1].end : rs;
      // trades of a tick/volume bar cut at rs: resume after the last preloaded bar's last trade
      if (pre.length && p.spec.kind !== 'time') resume = pre[pre.length - 1].lastTs + 1;
      const so = statsOptions(p);
      const dyn = new DeltaDynamicsTracker();
      const closed: ClosedBar[] = pre.map((bar) => ({ bar, stats: computeBarStats(bar, so, dyn.next(bar.delta, bar.buyVolume, bar.sellVolume)) }));
      p.prependBars(closed);

      // session profiles before the resume session
      let nProfiles = 0;
      for (const sp of store.profiles(id)) {
        // the current session's profile as of the snapshot's bar (checked by usableSnapshot)
        const current = snap !== undefined && sp.key === snap.profileKey;
        if (!current && sp.start >= Math.min(resume, rs)) continue;
        const g = sp.profile.grid;
        if (g.length === 0) continue;
        if (!p.profiles.add(sp.start, g.lowRow * sp.profile.rowTicks, 0, 0)) continue;
        const live = p.profiles.get(sp.key);
        if (!live || live.profile.rowTicks !== sp.profile.rowTicks) continue;
        live.profile.clear();
        live.profile.merge(sp.profile);
        for (const c of [COL_BID_CNT, COL_ASK_CNT, COL_UNK_CNT]) live.profile.grid.cols[c].set(g.cols[c].subarray(0, g.length));
        live.developing.push(...sp.developing);
        if (sp.closed) p.profiles.closeUntil(sp.end);
        nProfiles++;
      }

      if (snap) p.restoreSessionVwap(snap.session, snap.vwap);
      // CVD at the resume point
      if (pre.length) {
        for (let i = pre.length - 1; i >= 0; i--) if (pre[i].sessionKey !== '') { p.cvd.enterSession(pre[i].sessionKey); break; }
        p.cvd.value = pre[pre.length - 1].cvdClose;
      } else {
        const before = store.lastTrades(id, resume, 1)[0];
        if (before) {
          const s0 = p.instrument.calendar.sessionAt(before.ts);
          if (s0) p.cvd.enterSession(s0.key);
          p.cvd.value = before.cvd;
        }
      }

      // re-apply stored trades from the resume point, in chunks
      let n = 0;
      const t = newTrade(id);
      let from = resume;
      let skipAtFrom = 0;
      for (;;) {
        const chunk = store.trades(id, from, Infinity, 50_000 + skipAtFrom);
        let i = skipAtFrom;
        if (chunk.length <= skipAtFrom) break;
        for (; i < chunk.length; i++) {
          const s = chunk[i];
          t.ts = s.ts; t.id = s.id; t.price = s.price; t.size = s.size; t.side = s.side; t.sideSource = s.sideSource;
          applyClassified(p, t);
          n++;
        }
        if (chunk.length < 50_000 + skipAtFrom) break;
        // next chunk starts at the last ts; skip the rows with that ts already applied
        const lastTs = chunk[chunk.length - 1].ts;
        let same = 0;
        for (let k = chunk.length - 1; k >= 0 && chunk[k].ts === lastTs; k--) same++;
        from = lastTs;
        skipAtFrom = same;
      }
      out.push({ instrument: id, resumeFrom: resume, bars: closed.length, profiles: nProfiles, trades: n, cvd: p.cvd.value, snapshot: snap !== undefined });
    }
  } finally {
    if (opts.recorder) opts.recorder.paused = false;
  }
  return out;
}

/**
 * The floor for the pipeline cases: the same job as the pipeline, written as one tight loop over
 * preallocated typed arrays with everything known in advance that a floor may know (each
 * instrument's price range over the whole run, UTC-day sessions, 1-minute UTC bars). Job: 1-minute
 * footprint bars with bid/ask volume per row, a session profile per row with the developing
 * POC/VAH/VAL at every bar close, session CVD and session VWAP. Both sides fold their output into
 * the same digest (`OutputDigest`), so the bench checks the pipeline against the floor on every run.
 */
import type { Trade } from '../src/core/events.js';
import type { InstrumentPipeline } from '../src/analytics/pipeline.js';
import { COL_ASK_VOL, COL_BID_VOL } from '../src/analytics/row-grid.js';
import { valueArea } from '../src/analytics/value-area.js';
import { Checksum } from '../src/analytics/checksum.js';
import type { Drive, TradeTape } from './trade-tape.js';

const MINUTE = 60_000, DAY = 86_400_000;

/** Output of one instrument: bars in close order, developing levels in order, final CVD and VWAP. */
export class OutputDigest {
  readonly bars = new Checksum();
  readonly developing = new Checksum();
  nBars = 0;
  cvd = 0;
  vwap = NaN;

  bar(start: number, volume: number, buy: number, sell: number, high: number, low: number): void {
    this.nBars++;
    this.bars.num(start).num(volume).num(buy).num(sell).num(high).num(low);
  }

  row(bid: number, ask: number): void { this.bars.num(bid).num(ask); }

  level(ts: number, poc: number, vah: number, val: number): void { this.developing.num(ts).num(poc).num(vah).num(val); }

  hex(): string { return `${this.nBars}:${this.bars.hex()}:${this.developing.hex()}:${this.cvd}:${this.vwap}`; }
}

/** Attach the digest to a pipeline (bars as they close; call `finish` after the run for the rest). */
export function digestPipeline(p: InstrumentPipeline): { digest: OutputDigest; finish(): void } {
  const d = new OutputDigest();
  p.onBarClose(({ bar }) => {
    d.bar(bar.start, bar.volume, bar.buyVolume, bar.sellVolume, bar.high, bar.low);
    const g = bar.rows, c = g.cols, bid = c[COL_BID_VOL], ask = c[COL_ASK_VOL];
    for (let i = 0; i < g.length; i++) d.row(bid[i], ask[i]);
  });
  return {
    digest: d,
    finish() {
      for (const s of p.profiles.sessions) for (const x of s.developing) d.level(x.ts, x.poc, x.vah, x.val);
      d.cvd = p.cvd.value;
      d.vwap = p.sessionVwap.value;
    },
  };
}

/** Floor state of one instrument. */
interface Lane {
  /** footprint ticks per row and the lowest footprint row of the run (index 0 of bid/ask) */
  fpTicks: number; fpRow0: number;
  /** profile ticks per row and the lowest profile row of the run (index 0 of pBid/pAsk/tot) */
  rowTicks: number; row0: number;
  bid: Float64Array; ask: Float64Array;
  pBid: Float64Array; pAsk: Float64Array; tot: Float64Array;
  barEnd: number; barStart: number; open: boolean;
  high: number; low: number; vol: number; buy: number; sell: number; lowR: number; highR: number;
  day: number; pLow: number; pHigh: number;
  cvd: number; w: number; mean: number; m2: number;
  out: OutputDigest;
}

/** Build the floor for `tape` with each instrument's footprint and profile ticks per row. */
export function makeFloor(tape: TradeTape, rowTicks: (instrument: string) => { footprint: number; profile: number }): { lanes: Lane[]; sink(t: Trade): void; finish(): void } {
  const lanes: Lane[] = tape.names.map((nm, k) => {
    const { footprint: ft, profile: rt } = rowTicks(nm);
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < tape.n; i++) {
      if (tape.inst[i] !== k) continue;
      const p = tape.price[i], m = tape.pivot2[k] - p;
      lo = Math.min(lo, p, m); hi = Math.max(hi, p, m);
    }
    const row0 = Math.floor(lo / rt), rows = Math.floor(hi / rt) - row0 + 1;
    const fpRow0 = Math.floor(lo / ft), fpRows = Math.floor(hi / ft) - fpRow0 + 1;
    return {
      fpTicks: ft, fpRow0, rowTicks: rt, row0, bid: new Float64Array(fpRows), ask: new Float64Array(fpRows),
      pBid: new Float64Array(rows), pAsk: new Float64Array(rows), tot: new Float64Array(rows),
      barEnd: -Infinity, barStart: 0, open: false, high: -Infinity, low: Infinity, vol: 0, buy: 0, sell: 0, lowR: fpRows, highR: -1,
      day: NaN, pLow: rows, pHigh: -1, cvd: 0, w: 0, mean: NaN, m2: 0, out: new OutputDigest(),
    };
  });
  const index = new Map(tape.names.map((nm, k) => [nm, k]));

  const closeBar = (L: Lane): void => {
    L.out.bar(L.barStart, L.vol, L.buy, L.sell, L.high, L.low);
    const bid = L.bid, ask = L.ask;
    for (let r = L.lowR; r <= L.highR; r++) { L.out.row(bid[r], ask[r]); bid[r] = 0; ask[r] = 0; }
    // developing levels of the session profile at the bar close
    const n = L.pHigh - L.pLow + 1, tot = L.tot, pb = L.pBid, pa = L.pAsk;
    for (let i = 0; i < n; i++) tot[i] = pb[L.pLow + i] + pa[L.pLow + i] + 0;
    const va = valueArea(tot, n);
    const px = (i: number): number => (i < 0 ? NaN : (L.row0 + L.pLow + i) * L.rowTicks);
    L.out.level(L.barStart + MINUTE, px(va.poc), px(va.high), px(va.low));
    L.open = false; L.high = -Infinity; L.low = Infinity; L.vol = 0; L.buy = 0; L.sell = 0; L.lowR = bid.length; L.highR = -1;
  };

  return {
    lanes,
    sink(t: Trade): void {
      const L = lanes[index.get(t.instrument) as number];
      const ts = t.ts, p = t.price, s = t.size, buy = t.side === 'buy';
      if (L.open && ts >= L.barEnd) closeBar(L);
      const day = Math.floor(ts / DAY);
      if (day !== L.day) {
        L.day = day; L.cvd = 0; L.w = 0; L.mean = NaN; L.m2 = 0;
        L.pBid.fill(0); L.pAsk.fill(0); L.pLow = L.pBid.length; L.pHigh = -1;
      }
      if (!L.open) { L.open = true; L.barStart = Math.floor(ts / MINUTE) * MINUTE; L.barEnd = L.barStart + MINUTE; }
      const f = Math.floor(p / L.fpTicks) - L.fpRow0;
      const r = L.fpTicks === L.rowTicks ? f : Math.floor(p / L.rowTicks) - L.row0;
      if (p > L.high) L.high = p;
      if (p < L.low) L.low = p;
      L.vol += s;
      if (f < L.lowR) L.lowR = f;
      if (f > L.highR) L.highR = f;
      if (r < L.pLow) L.pLow = r;
      if (r > L.pHigh) L.pHigh = r;
      if (buy) { L.buy += s; L.ask[f] += s; L.pAsk[r] += s; L.cvd += s; }
      else { L.sell += s; L.bid[f] += s; L.pBid[r] += s; L.cvd -= s; }
      // session VWAP, the same West update as the pipeline's
      if (L.w === 0) { L.w = s; L.mean = p; L.m2 = 0; }
      else { L.w += s; const d = p - L.mean; L.mean += (s / L.w) * d; L.m2 += s * d * (p - L.mean); }
    },
    finish(): void {
      for (const L of lanes) {
        if (L.open) closeBar(L);
        L.out.cvd = L.cvd;
        L.out.vwap = L.mean;
      }
    },
  };
}

/** Digest of a whole run: every instrument's output in tape order. */
export function runDigest(outs: readonly OutputDigest[]): string {
  return outs.map((o) => o.hex()).join(' | ');
}

export type { Drive };

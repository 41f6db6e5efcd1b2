/**
 * Tick sources for the simulated EA, as an MT5 terminal would hold them (broker wall-clock ms, MqlTick
 * flags, prices as decimal strings):
 * - forex quote files from ../shared/data/forex, read by the engine's replay readers (bid/ask only,
 *   like MT5 FX/CFD feeds: last 0, volume 0, flags BID/ASK);
 * - a seeded exchange-flagged tape (LAST|VOLUME with BUY/SELL, plus ambiguous 96, unflagged and
 *   undocumented high bits, several ticks per millisecond, interleaved quote ticks);
 * - the market simulator (trades with aggressor flags and top-of-book quotes).
 */
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { DecimalScale } from '../../engine/src/core/decimal.js';
import { replayFile } from '../../engine/src/replay/index.js';
import { MarketSimulator } from '../../engine/src/sim/simulator.js';
import type { SimConfig } from '../../engine/src/sim/types.js';
import { TICK_FLAG_ASK, TICK_FLAG_BID, TICK_FLAG_BUY, TICK_FLAG_LAST, TICK_FLAG_SELL, TICK_FLAG_VOLUME } from './protocol.js';
import type { Mt5Tick, SimSymbol } from './sim-ea.js';
import { mulberry32 } from '../../engine/src/sim/prng.js';

export type OffsetFn = (utcMs: number) => number;

const constOff = (off: number): OffsetFn => () => off;

/** Quote ticks from a forex file (TrueFX / HistData / plain CSV) through the engine's replayFile. */
export async function forexSymbol(path: string, o: { sym?: string; instrument?: string; utcOffset?: number | OffsetFn; limit?: number } = {}): Promise<SimSymbol> {
  const registry = new InstrumentRegistry();
  const ticks: Mt5Tick[] = [];
  const off = typeof o.utcOffset === 'function' ? o.utcOffset : constOff(o.utcOffset ?? 7200);
  let instId = o.instrument;
  let prevBid = NaN, prevAsk = NaN;
  const limit = o.limit ?? Infinity;
  await replayFile(path, (ev) => {
    if (ev.type !== 'quote' || ticks.length >= limit) return;
    instId ??= ev.instrument;
    const inst = registry.get(ev.instrument);
    let flags = 0;
    if (ev.bid !== prevBid) flags |= TICK_FLAG_BID;
    if (ev.ask !== prevAsk) flags |= TICK_FLAG_ASK;
    if (flags === 0) return; // MT5 stores a tick only when something changed
    prevBid = ev.bid; prevAsk = ev.ask;
    const ms = ev.ts + off(ev.ts) * 1000;
    // the terminal's time order is broker ms; files can repeat timestamps
    ticks.push({ ms, bid: inst.price.format(ev.bid), ask: inst.price.format(ev.ask), last: '0', vol: '0', flags, utc: ev.ts });
  }, { registry, instrument: o.instrument });
  ticks.sort((a, b) => a.ms - b.ms);
  const inst = registry.get(instId ?? 'EURUSD');
  const digits = inst.price.decimals;
  return {
    sym: o.sym ?? `${inst.id}.r`,
    spec: { digits, point: inst.price.step, tick_size: inst.price.step, tick_value: '1', contract: '100000', calc: 'SYMBOL_CALC_MODE_FOREX', chart: 'SYMBOL_CHART_MODE_BID', book_levels: 0, tape: 'quotes', side_flags: false, vol_step: '0.01' },
    ticks,
  };
}

export interface FlaggedTapeOptions {
  sym?: string;
  seed?: number;
  n?: number;
  /** UTC ms of the first tick */
  start?: number;
  utcOffset?: number | OffsetFn;
  /** price in points at start (tick size 5 points, like B3 WIN) */
  price?: number;
  /** share of trade ticks with both BUY and SELL set (96) / with neither */
  ambiguous?: number;
  unflagged?: number;
  /** share of buys among flagged trades (0.5 balanced; 1 = "BUY on everything" pathology) */
  buyShare?: number;
  /** OR undocumented high bits (1024) into every trade's flags */
  highBits?: boolean;
}


/** A generated exchange tape (B3-like mini index: integer points, tick size 5, integer contracts). */
export function flaggedTape(o: FlaggedTapeOptions = {}): SimSymbol {
  const r = mulberry32(o.seed ?? 1);
  const n = o.n ?? 10_000;
  const off = typeof o.utcOffset === 'function' ? o.utcOffset : constOff(o.utcOffset ?? -10800);
  let utc = o.start ?? Date.UTC(2024, 6, 1, 13, 0);
  let p = o.price ?? 128_000;
  const ticks: Mt5Tick[] = [];
  const amb = o.ambiguous ?? 0.01, unf = o.unflagged ?? 0.01, buyShare = o.buyShare ?? 0.5;
  while (ticks.length < n) {
    // several ticks can share a millisecond
    if (r() < 0.7) utc += 1 + Math.floor(r() * 40);
    const ms = utc + off(utc) * 1000;
    if (r() < 0.3) {
      p += (Math.floor(r() * 3) - 1) * 5;
      ticks.push({ ms, bid: String(p), ask: String(p + 5), last: '0', vol: '0', flags: TICK_FLAG_BID | TICK_FLAG_ASK, utc });
      continue;
    }
    const u = r();
    let side = 0;
    if (u < amb) side = TICK_FLAG_BUY | TICK_FLAG_SELL;
    else if (u < amb + unf) side = 0;
    else side = r() < buyShare ? TICK_FLAG_BUY : TICK_FLAG_SELL;
    const px = side === TICK_FLAG_SELL ? p : p + 5;
    const vol = 1 + Math.floor(r() * r() * 20);
    ticks.push({ ms, bid: String(p), ask: String(p + 5), last: String(px), vol: String(vol), flags: TICK_FLAG_LAST | TICK_FLAG_VOLUME | side | (o.highBits ? 1024 : 0), utc });
  }
  return {
    sym: o.sym ?? 'WINQ26',
    spec: { digits: 0, point: '1', tick_size: '5', tick_value: '0.2', contract: '1', calc: 'SYMBOL_CALC_MODE_EXCH_FUTURES', chart: 'SYMBOL_CHART_MODE_LAST', book_levels: 10, tape: 'trades', side_flags: true, basis: 'WIN', vol_step: '1' },
    ticks,
  };
}

/** Trades and top-of-book quotes from the market simulator, as an exchange-flagged MT5 tape. */
export function simulatorSymbol(cfg: Partial<SimConfig> & { sym?: string; utcOffset?: number | OffsetFn } = {}): SimSymbol {
  const tickSize = cfg.tickSize ?? '0.25';
  const scale = new DecimalScale(tickSize);
  const off = typeof cfg.utcOffset === 'function' ? cfg.utcOffset : constOff(cfg.utcOffset ?? 0);
  const sim = new MarketSimulator({
    seed: cfg.seed ?? 7, instrument: cfg.instrument ?? 'SIM', startTs: cfg.startTs ?? Date.UTC(2024, 2, 4, 14, 30), startPrice: cfg.startPrice ?? 20_000,
    tickSize, lotStep: '1', durationMs: cfg.durationMs ?? 5 * 60_000, mode: 'full', scenario: cfg.scenario ?? [], flow: cfg.flow,
  });
  const ticks: Mt5Tick[] = [];
  let bid = '0', ask = '0';
  sim.run((ev) => {
    const ms = ev.ts + off(ev.ts) * 1000;
    if (ev.type === 'quote') {
      const nb = ev.bid === ev.bid ? scale.format(ev.bid) : '0', na = ev.ask === ev.ask ? scale.format(ev.ask) : '0';
      const flags = (nb !== bid ? TICK_FLAG_BID : 0) | (na !== ask ? TICK_FLAG_ASK : 0);
      bid = nb; ask = na;
      if (flags) ticks.push({ ms, bid, ask, last: '0', vol: '0', flags, utc: ev.ts });
    } else if (ev.type === 'trade') {
      const side = ev.side === 'buy' ? TICK_FLAG_BUY : ev.side === 'sell' ? TICK_FLAG_SELL : 0;
      ticks.push({ ms, bid, ask, last: scale.format(ev.price), vol: String(ev.size), flags: TICK_FLAG_LAST | TICK_FLAG_VOLUME | side, utc: ev.ts });
    }
  });
  return {
    sym: cfg.sym ?? 'SIMFUT',
    spec: { digits: scale.decimals, point: tickSize, tick_size: tickSize, tick_value: '12.5', contract: '1', calc: 'SYMBOL_CALC_MODE_EXCH_FUTURES', chart: 'SYMBOL_CHART_MODE_LAST', book_levels: 0, tape: 'trades', side_flags: true, vol_step: '1' },
    ticks,
  };
}

/**
 * The shim terminal's broker, written as a tape file the C++ runtime reads (shim/cpp/runtime.cpp):
 * symbols with their specification, every tick with the UTC time it "happens" on the virtual clock and
 * its broker time_msc, DOM images, the broker's UTC offset table (a DST switch is one more row), the
 * virtual clock's start and speed, and per symbol where the terminal's local history starts (older
 * ticks need a blocking history synchronisation).
 */
import { writeFileSync } from 'node:fs';
import type { Mt5Tick, SimSymbol } from '../src/sim-ea.js';

export interface ShimBook { utc: number; bids: [string, string][]; asks: [string, string][] }

export interface ShimSymbol extends SimSymbol {
  /** DOM images in time order (needs InpDom and a book for MarketBookAdd to succeed) */
  books?: ShimBook[];
  /** broker ms: ticks older than this are on the trade server until a history sync (default: all local) */
  localFromMs?: number;
  /** in Market Watch (default true) */
  selected?: boolean;
}

export interface ShimBroker {
  /** virtual UTC at the EA's start, and how many virtual ms pass per real ms */
  startUtc: number;
  speed?: number;
  /** broker UTC offset (s) from a UTC time on; the first row applies before its time too */
  offsets: { fromUtc: number; off: number }[];
  account?: { company: string; server: string; login: number; build?: number };
  symbols: ShimSymbol[];
}

const CALC: Record<string, number> = {
  SYMBOL_CALC_MODE_FOREX: 0, SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE: 1, SYMBOL_CALC_MODE_FUTURES: 2, SYMBOL_CALC_MODE_CFD: 3,
  SYMBOL_CALC_MODE_CFDINDEX: 4, SYMBOL_CALC_MODE_CFDLEVERAGE: 5, SYMBOL_CALC_MODE_EXCH_STOCKS: 32, SYMBOL_CALC_MODE_EXCH_FUTURES: 33,
  SYMBOL_CALC_MODE_EXCH_FUTURES_FORTS: 34,
};
const clean = (s: string | undefined): string => (s ?? '').replace(/[\t\n\r]/g, ' ');

/** Broker ms of a UTC time under an offset table. */
export function brokerMs(offsets: ShimBroker['offsets'], utc: number): number {
  let off = offsets[0]?.off ?? 0;
  for (const o of offsets) if (o.fromUtc <= utc) off = o.off;
  return utc + off * 1000;
}

export function writeBrokerTape(path: string, b: ShimBroker): void {
  const out: string[] = [`clock\t${b.startUtc}\t${b.speed ?? 1}`];
  for (const o of b.offsets) out.push(`offset\t${o.fromUtc}\t${o.off}`);
  const a = b.account ?? { company: 'Shim Broker Ltd', server: 'ShimBroker-Demo', login: 1234567 };
  out.push(`account\t${clean(a.company)}\t${clean(a.server)}\t${a.login}\t${a.build ?? 4620}`);
  b.symbols.forEach((s) => {
    const sp = s.spec;
    out.push(['sym', s.sym, sp.digits, sp.point, sp.tick_size, sp.tick_value ?? '1', sp.contract ?? '1', sp.vol_step ?? '0.01', CALC[sp.calc ?? ''] ?? 0,
      sp.chart === 'SYMBOL_CHART_MODE_LAST' ? 1 : 0, sp.book_levels ?? 0, clean(sp.basis), clean(sp.desc), s.localFromMs ?? '', s.selected === false ? 0 : 1].join('\t'));
  });
  b.symbols.forEach((s, i) => {
    for (const t of s.ticks) out.push(tickLine(i, t));
    for (const k of s.books ?? []) {
      const rows = [...k.asks.map(([p, v]) => `1:${p}:${v}`), ...k.bids.map(([p, v]) => `2:${p}:${v}`)];
      out.push(`b\t${i}\t${k.utc}\t${rows.join(',')}`);
    }
  });
  writeFileSync(path, out.join('\n') + '\n');
}

function tickLine(i: number, t: Mt5Tick): string {
  const v = Number(t.vol);
  const volume = Math.floor(v);
  // MqlTick.volume is the integer volume; volume_real carries fractions (0 when the feed has none)
  return `t\t${i}\t${t.utc}\t${t.ms}\t${t.bid}\t${t.ask}\t${t.last}\t${volume}\t${Number.isInteger(v) ? v : v}\t${t.flags}`;
}

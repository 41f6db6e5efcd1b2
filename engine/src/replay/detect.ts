/**
 * Format detection from content (the first non-empty lines); the file name is only a tie-breaker.
 */
import type { FormatName } from './types.js';
import { VENUES, venueOfFrame } from '../venues/registry.js';

const BOOL = /^(true|false)$/i;
const INT = /^\d+$/;

function tryJson(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function jsonFormat(o: Record<string, unknown>): FormatName | undefined {
  if ('recv' in o && 'venue' in o && 'frame' in o) return 'recorder-ndjson';
  return venueOfFrame(o)?.replay?.format as FormatName | undefined;
}

/** `<receive ns> <frame JSON>` capture: the venue whose detector accepts the frame (Binance when none does). */
function captureFormat(lines: string[]): FormatName {
  for (const l of lines) {
    const sp = l.indexOf(' ');
    const o = sp > 0 ? tryJson(l.slice(sp + 1)) : undefined;
    const v = o && venueOfFrame(o);
    if (v?.replay?.capture) return v.replay.capture as FormatName;
  }
  return 'binance-capture';
}

/** Detect the format of a file from its first lines (BOM and empty lines tolerated). Throws if unknown. */
export function detectFormat(firstLines: string[], fileName: string): FormatName {
  const lines = firstLines.map((l) => l.replace(/^\uFEFF/, '').replace(/\r$/, '')).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`${fileName}: empty file, cannot detect the format`);
  const first = lines[0]!;
  const lower = first.toLowerCase();
  const base = fileName.replace(/^.*[\\/]/, '').toLowerCase();

  if (/^\d{16,19} \{/.test(first)) return captureFormat(lines);
  if (/^(wss?|https?):\/\/\S+ (<->|<-|->) /.test(first) || /^\d{9,11}(\.\d+)?: [{[]/.test(first)) return 'cryptofeed';
  // JSON lines: look at the first line that names a known shape
  if (first.startsWith('{')) {
    for (const l of lines) {
      const o = tryJson(l);
      const f = o && jsonFormat(o);
      if (f) return f;
    }
    for (const v of VENUES) if (v.replay && base.includes(v.family)) return v.replay.format as FormatName;
    throw new Error(`${fileName}: JSON lines of an unknown shape`);
  }
  // CSV-like with headers
  if (lower.startsWith('<date>')) return 'mt5-ticks';
  if (/^\d{4}\.\d{2}\.\d{2}\t\d{2}:\d{2}/.test(first)) return 'mt5-ticks';
  if (lower.includes('ts_recv') && lower.includes('action') && lower.includes('order_id')) return 'cme-mbo';
  if (lower.startsWith('exchange,symbol,timestamp,local_timestamp')) {
    if (lower.includes('is_snapshot')) return 'tardis-incremental-l2';
    if (lower.includes('asks[0].price') || lower.includes('bids[0].price')) return 'tardis-book-snapshot';
    if (lower.includes(',side,price,amount')) return 'tardis-trades';
  }
  if (lower.startsWith('timestamp,symbol,side,size,price,tickdirection')) return 'bybit-archive';
  if (lower.startsWith('agg_trade_id')) return 'binance-archive-aggtrades';
  if (/^id,price,qty,quote_qty,/.test(lower)) return 'binance-archive-trades';
  if (/^ts_utc,ts_ns,bid,ask/.test(lower) || /^[a-z]{3}\/[a-z]{3},\d{8} \d{2}:\d{2}:\d{2}/.test(lower)) return 'truefx';
  if (/^\d{8} \d{9},[\d.]+,[\d.]+/.test(first)) return 'histdata';
  if (/^"?(timestamp|time|datetime|date)"?,"?bid"?,"?ask"?\s*$/.test(lower)) return 'truefx-usdjpy';
  if (/^\d{4}-\d{2}-\d{2}[t ][\d:.]+(z|[+-]\d{2}:?\d{2})?,[\d.]+,[\d.]+\s*$/.test(lower)) return 'truefx-usdjpy';
  // headerless Binance archives
  const f = first.split(',');
  if (f.every((x) => x !== '') && INT.test(f[0]!)) {
    if ((f.length === 7 || f.length === 8) && INT.test(f[3]!) && INT.test(f[4]!) && INT.test(f[5]!) && BOOL.test(f[6]!)) return 'binance-archive-aggtrades';
    if ((f.length === 6 || f.length === 7) && INT.test(f[4]!) && BOOL.test(f[5]!)) return 'binance-archive-trades';
  }
  // generic CSV: a header naming a time and a price column
  const cols = first.split(/[,;\t]/).map((c) => c.trim().replace(/^["'<]|[>"']$/g, '').toLowerCase());
  if (cols.some((c) => TIME_COLS.includes(c)) && cols.some((c) => PRICE_COLS.includes(c))) return 'generic-csv';
  throw new Error(`${fileName}: unknown format (first line: ${JSON.stringify(first.slice(0, 120))})`);
}

export const TIME_COLS = ['time', 'timestamp', 'ts', 'datetime', 'date_time', 'transact_time', 'trade_time', 'time_exchange', 'date'];
export const PRICE_COLS = ['price', 'px', 'last', 'trade_price'];
export const QTY_COLS = ['qty', 'size', 'amount', 'quantity', 'volume', 'vol', 'trade_size'];
export const SIDE_COLS = ['side', 'aggressor', 'aggressor_side', 'taker_side'];
export const ID_COLS = ['id', 'trade_id', 'tradeid'];
export const SYMBOL_COLS = ['symbol', 'instrument', 'ticker'];

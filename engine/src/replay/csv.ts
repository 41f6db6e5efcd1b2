/**
 * Line handlers for the text formats. Each handler gets one line at a time, emits events and throws
 * BadRow for a malformed row; header lines are recognized and skipped.
 */
import type { BookDelta, BookSnapshot, Level, MboEvent, Side } from '../core/events.js';
import type { Instrument } from '../core/instruments.js';
import { SESSION_TEMPLATES } from '../core/sessions.js';
import { BadRow, type EventSink, type FormatName, type ReplayOptions } from './types.js';
import { checkTs, parseEpochMs, parseIsoMs, parseTimeMs } from './time.js';
import { num, type FeedContext } from './context.js';
import { parseBinanceFrame } from '../venues/binance/parse.js';
import { scanBinanceFrame } from '../venues/binance/frame-scan.js';
import { parserFor, parseVenueFrame, tardisVenue, venueFromFileName, venueFromUrl, venueOfFileName, venueOfFormat, venueOfFrame } from '../venues/registry.js';
import { ID_COLS, PRICE_COLS, QTY_COLS, SIDE_COLS, SYMBOL_COLS, TIME_COLS } from './detect.js';

export interface LineHandler {
  line(s: string, lineNo: number): void;
  /** flush buffered state at end of file */
  end?(): void;
}

export interface HandlerEnv {
  ctx: FeedContext;
  sink: EventSink;
  opts: ReplayOptions;
  file: string;
}

/** Reusable field splitter: records separator positions, slices only the fields asked for. */
class Fields {
  private readonly starts = new Int32Array(256);
  private readonly ends = new Int32Array(256);
  n = 0;
  s = '';
  split(s: string, sep: number): number {
    this.s = s;
    let n = 0;
    let start = 0;
    const len = s.length;
    for (let i = 0; i < len && n < 255; i++) {
      if (s.charCodeAt(i) === sep) { this.starts[n] = start; this.ends[n] = i; n++; start = i + 1; }
    }
    this.starts[n] = start; this.ends[n] = len; n++;
    this.n = n;
    return n;
  }
  get(i: number): string {
    if (i >= this.n) return '';
    let a = this.starts[i]!;
    let b = this.ends[i]!;
    // trim spaces and quotes
    while (a < b && (this.s.charCodeAt(a) === 32 || this.s.charCodeAt(a) === 34)) a++;
    while (b > a && (this.s.charCodeAt(b - 1) === 32 || this.s.charCodeAt(b - 1) === 34)) b--;
    return this.s.slice(a, b);
  }
  start(i: number): number { return i < this.n ? this.starts[i]! : 0; }
  end(i: number): number { return i < this.n ? this.ends[i]! : 0; }
  empty(i: number): boolean { return i >= this.n || this.starts[i] === this.ends[i]; }
}

const COMMA = 44;
const TAB = 9;

function isDigit(c: number): boolean { return c >= 48 && c <= 57; }

function makerFlag(s: string): Side {
  const c = s.charCodeAt(0);
  if (c === 116 || c === 84) return 'sell'; // true: buyer is maker -> sell aggressor
  if (c === 102 || c === 70) return 'buy';
  throw new BadRow(`invalid is_buyer_maker ${JSON.stringify(s)}`);
}

function tradeInst(env: HandlerEnv): () => Instrument {
  let inst: Instrument | undefined;
  return () => (inst ??= env.ctx.resolveDefault());
}

function requirePositive(price: number, size: number): void {
  if (!(price > 0) || !(size >= 0)) throw new BadRow('non-positive price or negative size');
}

// ---------------------------------------------------------------------------------------------- JSON

/** Binance variant from the file name's convention (usdm_, spot_, cm_: registry `fileHint`). */
function binanceVenueHint(env: HandlerEnv): void {
  const v = venueOfFileName(env.file.replace(/^.*[\\/]/, ''), 'binance');
  if (v) env.ctx.binanceVenue = v.id;
}

export function binanceCaptureHandler(env: HandlerEnv): LineHandler {
  binanceVenueHint(env);
  return {
    line(s) {
      const sp = receiveSplit(s);
      const recv = parseReceive(s, sp);
      // the known frame shapes are read in place (exact: anything else goes to JSON.parse)
      if (!scanBinanceFrame(s, sp + 1, recv, env.ctx, env.sink)) parseBinanceFrame(jsonLine(s.slice(sp + 1)), recv, env.ctx, env.sink);
    },
  };
}

/** Index of the space in a `<receive ns> <json>` capture line. */
function receiveSplit(s: string): number {
  const sp = s.indexOf(' ');
  if (sp < 0) throw new BadRow('expected "<receive ns> <json>"');
  return sp;
}

function parseReceive(s: string, sp: number): number {
  const recv = parseEpochMs(s, 0, sp);
  if (recv !== recv) throw new BadRow('invalid receive timestamp');
  return recv;
}

function jsonLine(s: string): unknown {
  try { return JSON.parse(s); } catch (e) { throw new BadRow(`invalid JSON: ${(e as Error).message}`); }
}

export function jsonFramesHandler(env: HandlerEnv, venue: string): LineHandler {
  return { line(s) { parseVenueFrame(venue, jsonLine(s), NaN, env.ctx, env.sink); } };
}

export function recorderHandler(env: HandlerEnv): LineHandler {
  return {
    line(s) {
      const o = jsonLine(s) as { recv?: unknown; venue?: unknown; frame?: unknown };
      if (!o || typeof o !== 'object') throw new BadRow('expected a JSON object');
      if (typeof o.venue !== 'string' || !parserFor(o.venue)) throw new BadRow(`unknown venue ${JSON.stringify(o.venue)}`);
      const recv = typeof o.recv === 'number' ? o.recv : NaN;
      if (o.frame === undefined) throw new BadRow('missing frame');
      parseVenueFrame(o.venue, o.frame, recv, env.ctx, env.sink);
    },
  };
}

function guessVenueFromFrame(frame: unknown): string {
  const o = frame as Record<string, unknown>;
  const v = o && typeof o === 'object' ? venueOfFrame(o) : undefined;
  // a Binance frame without a known variant: the Binance parser guesses USD-M/spot/COIN-M per frame
  return v ? (v.family === 'binance' ? 'binance' : v.id) : 'binance';
}

/** `<receive ns> <frame JSON>` capture lines of a venue (hftbacktest-style collectors). */
export function captureHandler(env: HandlerEnv, venue: string): LineHandler {
  return {
    line(s) {
      const sp = receiveSplit(s);
      const recv = parseReceive(s, sp);
      parseVenueFrame(venue, jsonLine(s.slice(sp + 1)), recv, env.ctx, env.sink);
    },
  };
}

/**
 * cryptofeed raw capture: `<url> <-> <recv s>` opens a connection, `<url> <- <recv s>: <msg>` is a sent
 * message (ignored), `<url> -> <recv s>: <body>` is an HTTP response (REST snapshot; symbol from the
 * URL's `symbol=`), `<recv s>: <frame>` a received frame of the current connection.
 */
export function cryptofeedHandler(env: HandlerEnv): LineHandler {
  const base = env.file.replace(/^.*[\\/]/, '');
  let venue = venueFromFileName(base);
  return {
    line(s) {
      const c0 = s.charCodeAt(0);
      if (!isDigit(c0)) {
        const sp = s.indexOf(' ');
        if (sp < 0) throw new BadRow('unrecognized capture line');
        const url = s.slice(0, sp);
        const arrow = s.slice(sp + 1, s.indexOf(' ', sp + 1));
        const v = venueFromUrl(url);
        if (arrow === '<->') { if (v) venue = v; return; }
        if (arrow === '<-') return;
        if (arrow !== '->') throw new BadRow(`unrecognized capture direction ${JSON.stringify(arrow)}`);
        const colon = s.indexOf(': ', sp);
        if (colon < 0) throw new BadRow('HTTP line without body');
        const tsStart = sp + 4;
        const recv = parseEpochMs(s, tsStart, colon);
        const m = /[?&]symbol=([^&\s]+)/i.exec(url);
        env.ctx.symbolHint = m ? m[1] : undefined;
        try {
          parseVenueFrame(v ?? venue ?? 'binance-usdm', jsonLine(s.slice(colon + 2)), recv, env.ctx, env.sink);
        } finally {
          env.ctx.symbolHint = undefined;
        }
        return;
      }
      const colon = s.indexOf(': ');
      if (colon < 0) throw new BadRow('expected "<recv s>: <frame>"');
      const recv = parseEpochMs(s, 0, colon);
      if (recv !== recv) throw new BadRow('invalid receive time');
      const frame = jsonLine(s.slice(colon + 2));
      parseVenueFrame(venue ?? guessVenueFromFrame(frame), frame, recv, env.ctx, env.sink);
    },
  };
}

// ------------------------------------------------------------------------------------------- Binance

/** data.binance.vision aggTrades / trades (header optional, spot µs times handled by magnitude). */
export function binanceArchiveHandler(env: HandlerEnv, kind: 'agg' | 'trades'): LineHandler {
  const f = new Fields();
  const inst = tradeInst(env);
  const t = env.ctx.trade;
  const timeCol = kind === 'agg' ? 5 : 4;
  const makerCol = kind === 'agg' ? 6 : 5;
  return {
    line(s) {
      if (!isDigit(s.charCodeAt(0))) {
        if (/^[a-z_]+,/i.test(s)) return; // header
        throw new BadRow('row does not start with a trade id');
      }
      const n = f.split(s, COMMA);
      if (n < makerCol + 1) throw new BadRow(`expected at least ${makerCol + 1} columns, got ${n}`);
      const i = inst();
      t.instrument = i.id;
      t.id = Number(f.get(0));
      t.price = num(i.price, f.get(1), 'price');
      t.size = num(i.qty, f.get(2), 'quantity');
      requirePositive(t.price, t.size);
      t.ts = checkTs(parseEpochMs(s, f.start(timeCol), f.end(timeCol)), 'time');
      t.side = makerFlag(f.get(makerCol));
      t.sideSource = 'flag';
      env.sink(t);
    },
  };
}

// -------------------------------------------------------------------------------------------- Tardis

function tardisInstrument(env: HandlerEnv, f: Fields, price: string, size: string): Instrument {
  return env.ctx.resolve(tardisVenue(f.get(0)), f.get(1), () => [[price], [size]]);
}

export function tardisTradesHandler(env: HandlerEnv): LineHandler {
  const f = new Fields();
  const t = env.ctx.trade;
  let prefix = '';
  let inst: Instrument | undefined;
  return {
    line(s) {
      if (s.startsWith('exchange,')) return;
      const n = f.split(s, COMMA);
      if (n < 8) throw new BadRow(`expected 8 columns, got ${n}`);
      const price = f.get(6);
      const size = f.get(7);
      if (!inst || !s.startsWith(prefix)) {
        inst = tardisInstrument(env, f, price, size);
        prefix = s.slice(0, f.end(1) + 1);
      }
      t.instrument = inst.id;
      t.ts = checkTs(parseEpochMs(s, f.start(2), f.end(2)), 'timestamp');
      const id = f.get(4);
      t.id = /^\d{1,15}$/.test(id) ? Number(id) : 0;
      t.price = num(inst.price, price, 'price');
      t.size = num(inst.qty, size, 'amount');
      requirePositive(t.price, t.size);
      const side = f.get(5);
      if (side === 'buy' || side === 'sell') { t.side = side; t.sideSource = 'flag'; } else if (side === 'unknown' || side === '') { t.side = 'unknown'; t.sideSource = 'none'; } else throw new BadRow(`invalid side ${JSON.stringify(side)}`);
      env.sink(t);
    },
  };
}

/**
 * Bybit public trading archive (one CSV per symbol and day): `timestamp,symbol,side,size,price,
 * tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional`; timestamp in Unix seconds with
 * microseconds, side = the taker's, size in contracts (inverse BTCUSD: contracts of 1 USD; the
 * instrument unit), rows NEWEST FIRST as Bybit ships them. The rows are parsed as they come and emitted
 * in time order at the end of the file (equal times keep their trade order), so the whole day replays
 * forward; memory is a few numbers per trade.
 */
export function bybitArchiveHandler(env: HandlerEnv): LineHandler {
  const f = new Fields();
  const rows: { inst: string; ts: number; price: number; size: number; side: Side }[] = [];
  return {
    line(s) {
      if (s.startsWith('timestamp,')) return;
      const n = f.split(s, COMMA);
      if (n < 5) throw new BadRow(`expected at least 5 columns, got ${n}`);
      const price = f.get(4), size = f.get(3);
      const inst = env.ctx.resolve('bybit', f.get(1), () => [[price], [size]]);
      const m = /^(\d{9,11})(?:\.(\d{1,9}))?$/.exec(f.get(0));
      if (!m) throw new BadRow(`invalid timestamp ${JSON.stringify(f.get(0))} (Unix seconds expected)`);
      const ts = checkTs(Number(m[1]) * 1000 + Number(((m[2] ?? '') + '000').slice(0, 3)), 'timestamp');
      const sd = f.get(2);
      const side: Side = sd === 'Buy' ? 'buy' : sd === 'Sell' ? 'sell' : ((): Side => { throw new BadRow(`invalid side ${JSON.stringify(sd)}`); })();
      const p = num(inst.price, price, 'price'), q = num(inst.qty, size, 'size');
      requirePositive(p, q);
      rows.push({ inst: inst.id, ts, price: p, size: q, side });
    },
    end() {
      // newest first → oldest first, then a stable sort by time for any row out of order
      rows.reverse();
      rows.sort((a, b) => a.ts - b.ts);
      const t = env.ctx.trade;
      for (const r of rows) {
        t.instrument = r.inst; t.ts = r.ts; t.id = 0; t.price = r.price; t.size = r.size; t.side = r.side; t.sideSource = 'flag';
        env.sink(t);
      }
      rows.length = 0;
    },
  };
}

export function tardisBookSnapshotHandler(env: HandlerEnv): LineHandler {
  const f = new Fields();
  let askP: number[] = [], askQ: number[] = [], bidP: number[] = [], bidQ: number[] = [];
  return {
    line(s) {
      if (s.startsWith('exchange,')) {
        const cols = s.split(',');
        askP = []; askQ = []; bidP = []; bidQ = [];
        cols.forEach((c, i) => {
          const m = /^(asks|bids)\[(\d+)\]\.(price|amount)$/.exec(c.trim());
          if (!m) return;
          const k = Number(m[2]);
          (m[1] === 'asks' ? (m[3] === 'price' ? askP : askQ) : (m[3] === 'price' ? bidP : bidQ))[k] = i;
        });
        return;
      }
      if (askP.length === 0 && bidP.length === 0) throw new BadRow('book snapshot row before the header');
      f.split(s, COMMA);
      const inst = tardisInstrument(env, f, f.get(askP[0] ?? bidP[0] ?? 4), f.get(askQ[0] ?? bidQ[0] ?? 5));
      const side = (pi: number[], qi: number[]): Level[] => {
        const out: Level[] = [];
        for (let k = 0; k < pi.length; k++) {
          if (pi[k] === undefined || f.empty(pi[k]!)) continue;
          out.push([num(inst.price, f.get(pi[k]!), 'price'), num(inst.qty, f.get(qi[k]!), 'amount')]);
        }
        return out;
      };
      const ev: BookSnapshot = {
        type: 'book_snapshot', instrument: inst.id, ts: checkTs(parseEpochMs(s, f.start(2), f.end(2)), 'timestamp'),
        seq: NaN, bids: side(bidP, bidQ), asks: side(askP, askQ),
      };
      env.sink(ev);
    },
  };
}

/** Consecutive rows with the same symbol, local_timestamp and is_snapshot form one event. */
export function tardisIncrementalHandler(env: HandlerEnv): LineHandler {
  const f = new Fields();
  let key = '';
  let snap = false;
  let inst: Instrument | undefined;
  let ts = 0;
  let bids: Level[] = [];
  let asks: Level[] = [];
  const flush = (): void => {
    if (!inst) return;
    if (snap) env.sink({ type: 'book_snapshot', instrument: inst.id, ts, seq: NaN, bids, asks } satisfies BookSnapshot);
    else env.sink({ type: 'book_delta', instrument: inst.id, ts, firstSeq: NaN, seq: NaN, prevSeq: NaN, bids, asks } satisfies BookDelta);
    inst = undefined;
    bids = [];
    asks = [];
  };
  return {
    line(s) {
      if (s.startsWith('exchange,')) return;
      const n = f.split(s, COMMA);
      if (n < 8) throw new BadRow(`expected 8 columns, got ${n}`);
      const isSnap = f.get(4);
      if (isSnap !== 'true' && isSnap !== 'false') throw new BadRow(`invalid is_snapshot ${JSON.stringify(isSnap)}`);
      const side = f.get(5);
      if (side !== 'bid' && side !== 'ask') throw new BadRow(`invalid side ${JSON.stringify(side)}`);
      const rowTs = checkTs(parseEpochMs(s, f.start(2), f.end(2)), 'timestamp');
      const k = s.slice(0, f.end(1)) + s.slice(f.start(3), f.end(4));
      if (k !== key) {
        flush();
        key = k;
      }
      const i = inst ?? tardisInstrument(env, f, f.get(6), f.get(7));
      const p = num(i.price, f.get(6), 'price');
      const q = num(i.qty, f.get(7), 'amount');
      if (p < 0 || q < 0) throw new BadRow('negative price or amount');
      if (!inst) { inst = i; ts = rowTs; snap = isSnap === 'true'; }
      (side === 'bid' ? bids : asks).push([p, q]);
    },
    end: flush,
  };
}

// --------------------------------------------------------------------------------------------- Forex

function quoteOut(env: HandlerEnv, inst: Instrument, ts: number, bid: string, ask: string): void {
  const q = env.ctx.quote;
  q.localTime = undefined;
  q.instrument = inst.id;
  q.ts = ts;
  q.bid = num(inst.price, bid, 'bid');
  q.ask = num(inst.price, ask, 'ask');
  if (!(q.bid > 0) || !(q.ask > 0)) throw new BadRow('non-positive bid or ask');
  q.bidSize = 0;
  q.askSize = 0;
  env.sink(q);
}

/** `ts_utc,ts_ns,bid,ask` (ts_ns preferred) or raw TrueFX `EUR/USD,YYYYMMDD HH:MM:SS.mmm,bid,ask`. */
export function truefxHandler(env: HandlerEnv, variant: 'truefx' | 'plain' = 'truefx'): LineHandler {
  const f = new Fields();
  const inst = tradeInst(env);
  let timeCol = variant === 'plain' ? 0 : 1, bidCol = timeCol + 1, askCol = timeCol + 2, raw = false;
  let symKey = '';
  let symInst: Instrument | undefined;
  return {
    line(s) {
      const n = f.split(s, COMMA);
      if (/^[a-z_]+,/i.test(s) && !s.includes('/')) {
        const cols = s.toLowerCase().split(',').map((c) => c.trim());
        timeCol = cols.indexOf('ts_ns') >= 0 ? cols.indexOf('ts_ns') : cols.findIndex((c) => TIME_COLS.includes(c) || c === 'ts_utc');
        bidCol = cols.indexOf('bid');
        askCol = cols.indexOf('ask');
        if (timeCol < 0 || bidCol < 0 || askCol < 0) throw new BadRow('header without time/bid/ask');
        return;
      }
      if (n > 1 && s.charCodeAt(3) === 47 /* '/' */) { raw = true; timeCol = 1; bidCol = 2; askCol = 3; }
      if (n < 3) throw new BadRow(`expected at least 3 columns, got ${n}`);
      let i: Instrument;
      if (raw && !env.ctx.override) {
        const sym = f.get(0);
        if (sym !== symKey) { symInst = env.ctx.registry.get(sym.replace('/', '')); symKey = sym; }
        i = symInst!;
      } else i = inst();
      const ts = checkTs(parseTimeMs(s, f.start(timeCol), f.end(timeCol)), 'time');
      quoteOut(env, i, ts, f.get(bidCol), f.get(askCol));
    },
  };
}

/** HistData ASCII ticks `YYYYMMDD HHMMSSmmm,bid,ask,vol`; EST = UTC−5 fixed, no DST. */
export function histdataHandler(env: HandlerEnv): LineHandler {
  const f = new Fields();
  const inst = tradeInst(env);
  const d = (s: string, a: number, n: number): number => {
    let v = 0;
    for (let k = 0; k < n; k++) { const c = s.charCodeAt(a + k); if (!isDigit(c)) return NaN; v = v * 10 + c - 48; }
    return v;
  };
  return {
    line(s) {
      const n = f.split(s, COMMA);
      if (n < 3) throw new BadRow(`expected at least 3 columns, got ${n}`);
      if (f.end(0) - f.start(0) !== 18 || s.charCodeAt(f.start(0) + 8) !== 32) throw new BadRow('expected time "YYYYMMDD HHMMSSmmm"');
      const a = f.start(0);
      const y = d(s, a, 4), mo = d(s, a + 4, 2), dd = d(s, a + 6, 2);
      const h = d(s, a + 9, 2), mi = d(s, a + 11, 2), se = d(s, a + 13, 2), ms = d(s, a + 15, 3);
      if (!(mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31 && h <= 23 && mi <= 59 && se <= 60 && ms >= 0 && y >= 0)) throw new BadRow('invalid time');
      const ts = checkTs(Date.UTC(y, mo - 1, dd, h, mi, se, ms) + 5 * 3600_000, 'time');
      quoteOut(env, inst(), ts, f.get(1), f.get(2));
    },
  };
}

// ----------------------------------------------------------------------------------------------- MT5

function timeOfDayMs(s: string, a: number, b: number): number {
  // HH:MM[:SS[.mmm]]
  const dd = (i: number): number => {
    const c1 = s.charCodeAt(i), c2 = s.charCodeAt(i + 1);
    return isDigit(c1) && isDigit(c2) ? (c1 - 48) * 10 + (c2 - 48) : NaN;
  };
  if (b - a < 5 || s.charCodeAt(a + 2) !== 58) return NaN;
  const h = dd(a), m = dd(a + 3);
  let sec = 0, ms = 0;
  if (b - a >= 8) {
    if (s.charCodeAt(a + 5) !== 58) return NaN;
    sec = dd(a + 6);
    if (b - a > 8) {
      if (s.charCodeAt(a + 8) !== 46) return NaN;
      let k = 0;
      for (let i = a + 9; i < b; i++) {
        const c = s.charCodeAt(i);
        if (!isDigit(c)) return NaN;
        if (k < 3) { ms = ms * 10 + c - 48; k++; }
      }
      while (k < 3) { ms *= 10; k++; }
    }
  }
  if (!(h <= 24 && m <= 59 && sec <= 60)) return NaN;
  return ((h * 60 + m) * 60 + sec) * 1000 + ms;
}

/**
 * MT5 tick export: `<DATE> <TIME> <BID> <ASK> <LAST> <VOLUME> <FLAGS>` (tabs). Rows with BID/ASK → Quote,
 * the missing side carried forward; rows with LAST and flag 8 (or LAST without a FLAGS column) → Trade
 * with VOLUME; flags 32 buy / 64 sell give the side, both or neither → unknown. Times are broker server
 * time: ts = server time − brokerUtcOffsetMinutes.
 */
export function mt5Handler(env: HandlerEnv): LineHandler {
  const f = new Fields();
  const inst = tradeInst(env);
  const offset = (env.opts.brokerUtcOffsetMinutes ?? 0) * 60_000;
  let cDate = 0, cTime = 1, cBid = 2, cAsk = 3, cLast = 4, cVol = 5, cFlags = 6;
  let dateKey = '';
  let dateMs = NaN;
  let bid = NaN, ask = NaN;
  return {
    line(s) {
      if (s.charCodeAt(0) === 60 /* < */) {
        const cols = s.split(/\t/).map((c) => c.trim().toUpperCase());
        const at = (name: string): number => cols.indexOf(`<${name}>`);
        cDate = at('DATE'); cTime = at('TIME'); cBid = at('BID'); cAsk = at('ASK'); cLast = at('LAST'); cVol = at('VOLUME'); cFlags = at('FLAGS');
        if (cDate < 0 || cTime < 0) throw new BadRow('MT5 header without <DATE>/<TIME>');
        return;
      }
      const n = f.split(s, TAB);
      if (n < 3) throw new BadRow(`expected tab-separated columns, got ${n}`);
      const i = inst();
      const ds = f.get(cDate);
      if (ds !== dateKey) {
        dateMs = parseIsoMs(ds);
        dateKey = ds;
      }
      const tod = timeOfDayMs(s, f.start(cTime), f.end(cTime));
      if (dateMs !== dateMs || tod !== tod) throw new BadRow(`invalid date/time ${JSON.stringify(ds)} ${JSON.stringify(f.get(cTime))}`);
      const ts = checkTs(dateMs + tod - offset, 'time');
      const hasFlags = cFlags >= 0 && !f.empty(cFlags);
      const flags = hasFlags ? Number(f.get(cFlags)) : 0;
      if (!Number.isInteger(flags) || flags < 0) throw new BadRow(`invalid FLAGS ${JSON.stringify(f.get(cFlags))}`);
      const hasBid = cBid >= 0 && !f.empty(cBid);
      const hasAsk = cAsk >= 0 && !f.empty(cAsk);
      const hasLast = cLast >= 0 && !f.empty(cLast);
      if (hasBid) { bid = num(i.price, f.get(cBid), 'bid'); if (!(bid > 0)) throw new BadRow('non-positive bid'); }
      if (hasAsk) { ask = num(i.price, f.get(cAsk), 'ask'); if (!(ask > 0)) throw new BadRow('non-positive ask'); }
      if (hasBid || hasAsk) {
        const q = env.ctx.quote;
        q.localTime = undefined;
        q.instrument = i.id; q.ts = ts; q.bid = bid; q.ask = ask; q.bidSize = 0; q.askSize = 0;
        env.sink(q);
      }
      if (hasLast && (!hasFlags || (flags & 8) !== 0)) {
        const t = env.ctx.trade;
        t.instrument = i.id; t.ts = ts; t.id = 0;
        t.price = num(i.price, f.get(cLast), 'last');
        t.size = cVol >= 0 && !f.empty(cVol) ? num(i.qty, f.get(cVol), 'volume') : 0;
        requirePositive(t.price, t.size);
        const buy = (flags & 32) !== 0;
        const sell = (flags & 64) !== 0;
        if (buy !== sell) { t.side = buy ? 'buy' : 'sell'; t.sideSource = 'flag'; } else { t.side = 'unknown'; t.sideSource = 'none'; }
        env.sink(t);
      } else if (!hasBid && !hasAsk && !hasLast) throw new BadRow('row without bid, ask or last');
    },
  };
}

// ------------------------------------------------------------------------------------------- Generic

/** Header-driven trades CSV: time, price, qty/size/amount, optional side, id, symbol, is_buyer_maker. */
export function genericCsvHandler(env: HandlerEnv): LineHandler {
  const f = new Fields();
  const inst = tradeInst(env);
  let sep = COMMA;
  let cTime = -1, cPrice = -1, cQty = -1, cSide = -1, cId = -1, cSym = -1, cMaker = -1;
  let symKey = '';
  let symInst: Instrument | undefined;
  const t = env.ctx.trade;
  return {
    line(s) {
      if (cTime < 0) {
        sep = s.includes('\t') ? TAB : s.includes(';') && !s.includes(',') ? 59 : COMMA;
        const cols = s.split(String.fromCharCode(sep)).map((c) => c.trim().replace(/^["'<]|[>"']$/g, '').toLowerCase());
        const find = (names: string[]): number => cols.findIndex((c) => names.includes(c));
        cTime = find(TIME_COLS); cPrice = find(PRICE_COLS); cQty = find(QTY_COLS); cSide = find(SIDE_COLS);
        cId = find(ID_COLS); cSym = find(SYMBOL_COLS); cMaker = find(['is_buyer_maker', 'buyer_maker', 'm']);
        if (cTime < 0 || cPrice < 0) { cTime = -1; throw new BadRow('generic CSV needs a header with time and price columns'); }
        return;
      }
      f.split(s, sep);
      let i: Instrument;
      if (cSym >= 0 && !env.ctx.override) {
        const sym = f.get(cSym);
        if (sym !== symKey) { symInst = env.ctx.registry.find(sym); symKey = sym; }
        if (!symInst) throw new BadRow(`unknown instrument ${JSON.stringify(sym)}`);
        i = symInst;
      } else i = inst();
      t.instrument = i.id;
      t.ts = checkTs(parseTimeMs(s, f.start(cTime), f.end(cTime)), 'time');
      t.price = num(i.price, f.get(cPrice), 'price');
      t.size = cQty >= 0 ? num(i.qty, f.get(cQty), 'size') : 0;
      requirePositive(t.price, t.size);
      const id = cId >= 0 ? f.get(cId) : '';
      t.id = /^\d{1,15}$/.test(id) ? Number(id) : 0;
      t.side = 'unknown'; t.sideSource = 'none';
      if (cSide >= 0) {
        const v = f.get(cSide).toLowerCase();
        if (v === 'buy' || v === 'b') { t.side = 'buy'; t.sideSource = 'flag'; } else if (v === 'sell' || v === 's') { t.side = 'sell'; t.sideSource = 'flag'; } else if (v !== 'unknown' && v !== '' && v !== 'u' && v !== 'n') throw new BadRow(`invalid side ${JSON.stringify(v)}`);
      } else if (cMaker >= 0) {
        t.side = makerFlag(f.get(cMaker)); t.sideSource = 'flag';
      }
      env.sink(t);
    },
  };
}

// ----------------------------------------------------------------------------------------------- CME

const CME_TICKS: Record<string, string> = { ES: '0.25', MES: '0.25', NQ: '0.25', MNQ: '0.25', YM: '1', MYM: '1', RTY: '0.1', M2K: '0.1', CL: '0.01', GC: '0.1', SI: '0.005' };

function cmeInstrument(env: HandlerEnv, symbol: string): Instrument {
  const reg = env.ctx.registry;
  const id = `CME:${symbol}`;
  if (!env.ctx.override && !reg.has(id)) {
    const root = symbol.replace(/[FGHJKMNQUVXZ]\d{1,2}$/, '');
    const tick = CME_TICKS[root] ?? '0.01';
    reg.add({
      id, symbol, venue: 'cme', assetClass: 'index', description: `CME ${symbol} futures (registered by replay)`,
      tickSize: tick, lotStep: '1', profileRow: tick, contractSize: 1, session: SESSION_TEMPLATES.full_day,
      thresholds: { absorptionMinVolume: 0, initiativeMinDelta: 0, auto: true }, flow: 'orderflow',
    });
    env.ctx.registered.push(id);
  }
  return env.ctx.resolve('cme', symbol);
}

/** Fixed-point integer prices (1e-9, Databento) -> decimal string; decimals pass through. */
function cmePrice(s: string): string | undefined {
  if (s === '' || s === '9223372036854775807') return undefined;
  if (/^-?\d{10,}$/.test(s)) {
    const neg = s.startsWith('-');
    const d = (neg ? s.slice(1) : s).padStart(10, '0');
    return (neg ? '-' : '') + d.slice(0, d.length - 9) + '.' + d.slice(d.length - 9);
  }
  return s;
}

/**
 * Databento/CME MBO CSV → MboEvent (fresh objects). ts = ts_recv (ns → ms). side B buy, A sell, N unknown
 * (T rows: aggressor side). Prices: decimal strings, or 1e-9 fixed-point integers converted exactly.
 * Registers `CME:<symbol>` (ES tick 0.25, lot 1) when absent.
 */
export function cmeMboHandler(env: HandlerEnv): LineHandler {
  const f = new Fields();
  let c: Record<string, number> = {};
  let symKey = '';
  let inst: Instrument | undefined;
  return {
    line(s) {
      if (s.startsWith('ts_recv') || s.startsWith('ts_event')) {
        c = {};
        s.split(',').forEach((name, i) => { c[name.trim()] = i; });
        for (const k of ['action', 'side', 'price', 'size', 'order_id']) if (c[k] === undefined) throw new BadRow(`MBO header without ${k}`);
        return;
      }
      if (c.action === undefined) throw new BadRow('MBO row before the header');
      f.split(s, COMMA);
      const sym = c.symbol !== undefined ? f.get(c.symbol) : '';
      if (!inst || sym !== symKey) {
        inst = sym ? cmeInstrument(env, sym) : env.ctx.resolveDefault();
        symKey = sym;
      }
      const action = f.get(c.action!);
      if (action !== 'A' && action !== 'C' && action !== 'M' && action !== 'R' && action !== 'F' && action !== 'T') throw new BadRow(`invalid action ${JSON.stringify(action)}`);
      const sd = f.get(c.side!);
      const side: Side = sd === 'B' ? 'buy' : sd === 'A' ? 'sell' : sd === 'N' || sd === '' ? 'unknown' : (() => { throw new BadRow(`invalid side ${JSON.stringify(sd)}`); })();
      const tsCol = c.ts_recv_ns ?? c.ts_recv ?? c.ts_event_ns ?? c.ts_event;
      if (tsCol === undefined) throw new BadRow('MBO without a time column');
      const ts = checkTs(parseTimeMs(s, f.start(tsCol), f.end(tsCol)), 'ts_recv');
      const ps = cmePrice(f.get(c.price!));
      const price = ps === undefined ? NaN : num(inst.price, ps, 'price');
      if (ps === undefined && action !== 'R' && action !== 'C') throw new BadRow(`${action} without a price`);
      const size = Number(f.get(c.size!) || '0');
      if (!Number.isInteger(size) || size < 0) throw new BadRow(`invalid size ${JSON.stringify(f.get(c.size!))}`);
      const ev: MboEvent = {
        type: 'mbo', instrument: inst.id, ts, action, side, price, size, orderId: f.get(c.order_id!),
        seq: c.sequence !== undefined ? Number(f.get(c.sequence)) : NaN, flags: c.flags !== undefined ? Number(f.get(c.flags)) : 0,
      };
      env.sink(ev);
    },
  };
}

export function handlerFor(format: FormatName, env: HandlerEnv): LineHandler {
  switch (format) {
    case 'binance-capture': return binanceCaptureHandler(env);
    case 'binance-jsonl':
      binanceVenueHint(env);
      return { line(s) { parseBinanceFrame(jsonLine(s), NaN, env.ctx, env.sink); } };
    case 'recorder-ndjson': return recorderHandler(env);
    case 'cryptofeed': return cryptofeedHandler(env);
    case 'binance-archive-aggtrades': return binanceArchiveHandler(env, 'agg');
    case 'binance-archive-trades': return binanceArchiveHandler(env, 'trades');
    case 'tardis-trades': return tardisTradesHandler(env);
    case 'tardis-book-snapshot': return tardisBookSnapshotHandler(env);
    case 'tardis-incremental-l2': return tardisIncrementalHandler(env);
    case 'truefx': return truefxHandler(env);
    case 'truefx-usdjpy': return truefxHandler(env, 'plain');
    case 'histdata': return histdataHandler(env);
    case 'mt5-ticks': return mt5Handler(env);
    case 'generic-csv': return genericCsvHandler(env);
    case 'cme-mbo': return cmeMboHandler(env);
    case 'bybit-archive': return bybitArchiveHandler(env);
  }
  // formats of the registry's venues: JSON lines of frames, `<ns> <json>` captures
  const v = venueOfFormat(format);
  if (!v?.replay) throw new Error(`no reader for format "${format}"`);
  return format === v.replay.capture ? captureHandler(env, v.id) : jsonFramesHandler(env, v.id);
}

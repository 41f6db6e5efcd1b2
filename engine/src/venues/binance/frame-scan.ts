/**
 * A fast exact path for the Binance frames captures are made of (`trade`, `aggTrade`, `depthUpdate`,
 * `bookTicker`, with or without the combined-stream envelope `{"stream":…,"data":{…}}`): the frame
 * text is scanned in place and its event emitted without JSON.parse's objects and strings (decimal
 * values are read by DecimalScale.parseRange where they lie). End to end, JSON.parse of every frame
 * was half of a replay's time.
 *
 * Exact by refusing: it reads a strict subset of JSON (no whitespace, no escapes, no nested objects
 * but the envelope's data, integers of at most 15 digits, decimals only as strings, level arrays of
 * [string, string] pairs), only for a known Binance variant and an instrument already resolved. On
 * anything else it returns false having changed nothing (offGrid counters restored), and the caller
 * parses the frame with JSON.parse + parseBinanceFrame — whose events, errors and state these equal.
 */
import type { BookDelta, Level } from '../../core/events.js';
import type { Instrument } from '../../core/instruments.js';
import type { EventSink } from '../../replay/types.js';
import { checkTs } from '../../replay/time.js';
import type { FeedContext } from '../../replay/context.js';

// value kinds
const ABSENT = 0, STR = 1, NUM = 2, TRUE = 3, FALSE = 4, NULL = 5, ARR = 6;
// the keys the four frame kinds read (others are skipped; keys of other frame kinds refuse)
const K_e = 0, K_E = 1, K_T = 2, K_s = 3, K_t = 4, K_a = 5, K_p = 6, K_q = 7, K_X = 8, K_m = 9, K_u = 10, K_U = 11, K_pu = 12, K_b = 13, K_B = 14, K_A = 15;
const SLOTS = 16;
const SKIP = -1, REFUSE = -2;

/** one-character keys → slot */
const ONE = new Int8Array(128).fill(SKIP);
for (let c = 0; c < 32; c++) ONE[c] = REFUSE;
ONE[92] = REFUSE;
for (const [ch, k] of [['e', K_e], ['E', K_E], ['T', K_T], ['s', K_s], ['t', K_t], ['a', K_a], ['p', K_p], ['q', K_q], ['X', K_X], ['m', K_m], ['u', K_u], ['U', K_U], ['b', K_b], ['B', K_B], ['A', K_A]] as const) ONE[ch.charCodeAt(0)] = k;

const kind = new Int8Array(SLOTS);
const vStart = new Int32Array(SLOTS);
const vEnd = new Int32Array(SLOTS);
const vNum = new Float64Array(SLOTS);

function keySlot(s: string, a: number, b: number): number {
  const n = b - a;
  if (n === 1) { const c = s.charCodeAt(a); return c < 128 ? ONE[c] : plain(s, a, b) ? SKIP : REFUSE; }
  if (n === 2 && s.charCodeAt(a) === 112 && s.charCodeAt(a + 1) === 117) return K_pu; // "pu"
  // a REST snapshot, or an envelope's keys inside data: the general parser decides
  if (eq(s, a, b, 'lastUpdateId') || eq(s, a, b, 'bids') || eq(s, a, b, 'asks') || eq(s, a, b, 'stream') || eq(s, a, b, 'data')) return REFUSE;
  return plain(s, a, b) ? SKIP : REFUSE;
}

function eq(s: string, a: number, b: number, lit: string): boolean {
  if (b - a !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (s.charCodeAt(a + i) !== lit.charCodeAt(i)) return false;
  return true;
}

/** s holds lit at a (and may go on) */
function at(s: string, a: number, lit: string): boolean {
  for (let i = 0; i < lit.length; i++) if (s.charCodeAt(a + i) !== lit.charCodeAt(i)) return false;
  return true;
}

/**
 * End (index of the next quote) of a string starting after the quote at i. An escaped quote would end
 * it early, so every string the scanner accepts is checked to hold no backslash or control character
 * (plain(); the strings of level arrays by parseRange, which reads every one of them).
 */
function stringEnd(s: string, i: number): number {
  return s.indexOf('"', i);
}

/** true when s[a, b) holds no backslash and no control character (a JSON string without escapes) */
function plain(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) { const c = s.charCodeAt(i); if (c === 92 || c < 32) return false; }
  return true;
}

/** Validate a level array `[["p","q"],…]` starting at '[' (index i); returns the index after its ']' or -1. */
function levelsEnd(s: string, i: number, n: number): number {
  i++;
  if (s.charCodeAt(i) === 93) return i + 1;
  for (;;) {
    if (s.charCodeAt(i) !== 91 || s.charCodeAt(i + 1) !== 34) return -1;
    let e = stringEnd(s, i + 2);
    if (e < 0 || s.charCodeAt(e + 1) !== 44 || s.charCodeAt(e + 2) !== 34) return -1;
    e = stringEnd(s, e + 3);
    if (e < 0 || s.charCodeAt(e + 1) !== 93) return -1;
    i = e + 2;
    const c = s.charCodeAt(i);
    if (c === 93) return i + 1;
    if (c !== 44) return -1;
    i++;
  }
}

/** Scan a flat object starting at '{' (index i) into the slots; returns the index after its '}' or -1. */
function scanObject(s: string, i: number, n: number): number {
  if (s.charCodeAt(i) !== 123) return -1;
  i++;
  if (s.charCodeAt(i) === 125) return i + 1;
  for (;;) {
    if (s.charCodeAt(i) !== 34) return -1;
    const ke = stringEnd(s, i + 1);
    if (ke < 0 || s.charCodeAt(ke + 1) !== 58) return -1;
    const slot = keySlot(s, i + 1, ke);
    if (slot === REFUSE) return -1;
    i = ke + 2;
    const c = s.charCodeAt(i);
    let k: number, st = i, en: number, num = 0;
    if (c === 34) {
      en = stringEnd(s, i + 1);
      if (en < 0) return -1;
      if (!plain(s, i + 1, en)) return -1;
      k = STR; st = i + 1; i = en + 1;
    } else if ((c >= 48 && c <= 57) || c === 45) {
      // an integer of at most 15 digits (exact as a double, as JSON.parse reads it); anything else refuses
      let j = c === 45 ? i + 1 : i;
      const d0 = j;
      while (j < n) { const d = s.charCodeAt(j); if (d < 48 || d > 57) break; num = num * 10 + (d - 48); j++; }
      const digits = j - d0;
      if (digits === 0 || digits > 15 || (digits > 1 && s.charCodeAt(d0) === 48)) return -1;
      const d = s.charCodeAt(j);
      if (d === 46 || d === 101 || d === 69) return -1;
      if (c === 45) num = -num;
      k = NUM; en = j; i = j;
    } else if (c === 116 && at(s, i, 'true')) { k = TRUE; en = i + 4; i += 4; }
    else if (c === 102 && at(s, i, 'false')) { k = FALSE; en = i + 5; i += 5; }
    else if (c === 110 && at(s, i, 'null')) { k = NULL; en = i + 4; i += 4; }
    else if (c === 91 && (slot === K_b || slot === K_a)) {
      en = levelsEnd(s, i, n);
      if (en < 0) return -1;
      k = ARR; i = en;
    } else return -1;
    if (slot >= 0) { kind[slot] = k; vStart[slot] = st; vEnd[slot] = en; vNum[slot] = num; } // a repeated key: the last wins, as in JSON.parse
    const d = s.charCodeAt(i);
    if (d === 125) return i + 1;
    if (d !== 44) return -1;
    i++;
  }
}

/** Levels of a validated array slot (ARR, NULL or ABSENT = none); null when a value is not a valid non-negative decimal. */
function readLevels(s: string, slot: number, inst: Instrument): Level[] | null {
  if (kind[slot] !== ARR) return [];
  const out: Level[] = [];
  let i = vStart[slot] + 1;
  const end = vEnd[slot] - 1;
  while (i < end) {
    // at '[' '"': price, then '","', size, then '"]'
    const pa = i + 2, pe = s.indexOf('"', pa);
    const qa = pe + 3, qe = s.indexOf('"', qa);
    const p = inst.price.parseRange(s, pa, pe);
    const q = inst.qty.parseRange(s, qa, qe);
    if (p !== p || q !== q || p < 0 || q < 0) return null;
    out.push([p, q]);
    i = qe + 3; // past '"]' and ','
  }
  return out;
}

function tsOr(recvTs: number): number {
  return kind[K_T] === NUM ? vNum[K_T] : kind[K_E] === NUM ? vNum[K_E] : recvTs;
}

/** Refuse after values were parsed: put the instrument's off-grid counts back (the general parser counts them again). */
function refuse(inst: Instrument, og1: number, og2: number): false {
  inst.price.offGrid = og1;
  inst.qty.offGrid = og2;
  return false;
}

/** checkTs without throwing: NaN when the general parser would refuse the time. */
function okTs(ts: number): number {
  try { return checkTs(ts); } catch { return NaN; }
}

/**
 * Emit the event of the frame `line.slice(start)` when it is one of the shapes above; false (nothing
 * changed) when the general parser must read it.
 */
export function scanBinanceFrame(line: string, start: number, recvTs: number, ctx: FeedContext, sink: EventSink): boolean {
  const venue = ctx.binanceVenue;
  if (venue === undefined) return false;
  const n = line.length;
  for (let k = 0; k < SLOTS; k++) kind[k] = ABSENT;
  let end: number;
  if (at(line, start, '{"stream":"')) {
    const se = stringEnd(line, start + 11);
    if (se < 0 || !plain(line, start + 11, se) || !at(line, se + 1, ',"data":')) return false;
    end = scanObject(line, se + 9, n);
    if (end < 0 || line.charCodeAt(end) !== 125) return false;
    end++;
  } else {
    end = scanObject(line, start, n);
  }
  if (end !== n) return false;

  const ek = kind[K_e], es = vStart[K_e], ee = vEnd[K_e];
  const isTrade = ek === STR && eq(line, es, ee, 'trade');
  const isAgg = !isTrade && ek === STR && eq(line, es, ee, 'aggTrade');
  const isDepth = ek === STR && !isTrade && !isAgg && eq(line, es, ee, 'depthUpdate');
  const isTicker = (ek === STR && eq(line, es, ee, 'bookTicker')) || (ek === ABSENT && kind[K_u] !== ABSENT && kind[K_b] !== ABSENT && kind[K_a] !== ABSENT && kind[K_B] !== ABSENT);
  if (!isTrade && !isAgg && !isDepth && !isTicker) return false;
  if (kind[K_s] !== STR) return false;
  // the symbol: the last one's string when it is the same (no slice per frame)
  const ss = vStart[K_s], se = vEnd[K_s];
  const last = ctx.lastBinanceSymbol;
  let sym: string;
  if (last !== undefined && eq(line, ss, se, last)) sym = last;
  else if (plain(line, ss, se)) sym = line.slice(ss, se);
  else return false;
  // level arrays are only checked where they are read (depth)
  if (!isDepth && (kind[K_b] === ARR || kind[K_a] === ARR)) return false;
  const known = ctx.known(venue, sym);
  if (known === undefined) return false; // first sight registers the instrument from samples: the general parser does that
  const inst = ctx.resolve(venue, sym);
  const og1 = inst.price.offGrid, og2 = inst.qty.offGrid;

  if (isTrade || isAgg) {
    if (isTrade && kind[K_X] === STR && !eq(line, vStart[K_X], vEnd[K_X], 'MARKET')) return false;
    if (kind[K_p] !== STR || kind[K_q] !== STR) return false;
    const ts = okTs(kind[K_T] === NUM ? vNum[K_T] : kind[K_E] === NUM ? vNum[K_E] : NaN);
    if (ts !== ts) return false;
    const price = inst.price.parseRange(line, vStart[K_p], vEnd[K_p]);
    const size = inst.qty.parseRange(line, vStart[K_q], vEnd[K_q]);
    if (price !== price || size !== size || price <= 0 || size < 0) return refuse(inst, og1, og2);
    const idSlot = isTrade ? K_t : K_a;
    ctx.lastBinanceSymbol = sym;
    const t = ctx.trade;
    t.instrument = inst.id;
    t.ts = ts;
    t.id = kind[idSlot] === NUM ? vNum[idSlot] : 0;
    t.price = price;
    t.size = size;
    const m = kind[K_m];
    if (m === TRUE) { t.side = 'sell'; t.sideSource = 'flag'; } else if (m === FALSE) { t.side = 'buy'; t.sideSource = 'flag'; } else { t.side = 'unknown'; t.sideSource = 'none'; }
    sink(t);
    return true;
  }
  if (isDepth) {
    if (kind[K_U] !== NUM || kind[K_u] !== NUM) return false;
    const pk = kind[K_pu];
    if (pk !== ABSENT && pk !== NUM) return false;
    const bk = kind[K_b], ak = kind[K_a];
    if ((bk !== ABSENT && bk !== NULL && bk !== ARR) || (ak !== ABSENT && ak !== NULL && ak !== ARR)) return false;
    const ts = okTs(tsOr(recvTs));
    if (ts !== ts) return false;
    const bids = readLevels(line, K_b, inst);
    const asks = bids === null ? null : readLevels(line, K_a, inst);
    if (bids === null || asks === null) return refuse(inst, og1, og2);
    ctx.lastBinanceSymbol = sym;
    const ev: BookDelta = {
      type: 'book_delta', instrument: inst.id, ts, firstSeq: vNum[K_U], seq: vNum[K_u],
      prevSeq: pk === ABSENT ? NaN : vNum[K_pu], bids, asks,
    };
    sink(ev);
    return true;
  }
  // bookTicker
  if (kind[K_b] !== STR || kind[K_a] !== STR || kind[K_B] !== STR || kind[K_A] !== STR) return false;
  const ts = okTs(tsOr(recvTs));
  if (ts !== ts) return false;
  const bid = inst.price.parseRange(line, vStart[K_b], vEnd[K_b]);
  const ask = inst.price.parseRange(line, vStart[K_a], vEnd[K_a]);
  const bidSize = inst.qty.parseRange(line, vStart[K_B], vEnd[K_B]);
  const askSize = inst.qty.parseRange(line, vStart[K_A], vEnd[K_A]);
  if (bid !== bid || ask !== ask || bidSize !== bidSize || askSize !== askSize) return refuse(inst, og1, og2);
  ctx.lastBinanceSymbol = sym;
  const q = ctx.quote;
  q.instrument = inst.id;
  q.ts = ts;
  q.localTime = kind[K_T] !== NUM && kind[K_E] !== NUM ? true : undefined;
  q.bid = bid;
  q.ask = ask;
  q.bidSize = bidSize;
  q.askSize = askSize;
  sink(q);
  return true;
}

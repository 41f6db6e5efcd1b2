/**
 * TapeFlow MT5 bridge wire protocol v1 (see mt5-bridge/PROTOCOL.md): NDJSON over TCP, UTF-8, one
 * `{"t": <type>, ...}` object per `\n`-terminated line. The EA dials out; the server speaks first.
 * Shared by the bridge server and the simulated EA, so both sides use the same constants and MAC.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const PROTO_MAJOR = 1;
export const PROTO_MINOR = 1;
export const SERVER_NAME = 'tapeflow-mt5/0.1.0';

/** MqlTick.flags bits (TICK_FLAG_*). */
export const TICK_FLAG_BID = 2;
export const TICK_FLAG_ASK = 4;
export const TICK_FLAG_LAST = 8;
export const TICK_FLAG_VOLUME = 16;
export const TICK_FLAG_BUY = 32;
export const TICK_FLAG_SELL = 64;

/** Reject codes (server → EA, followed by a close). */
export type RejectCode = 'HELLO_REQUIRED' | 'PROTO' | 'BAD_MAC' | 'DUP_SESSION' | 'HELLO_TIMEOUT' | 'LINE_TOO_LONG' | 'BAD_OFFSET' | 'BAD_HELLO' | 'DEAD' | 'REPLACED' | 'SHUTDOWN' | 'BUSY';
/** Error codes answered with `err` (the connection stays up). */
export type ErrCode = 'BAD_UTF8' | 'BAD_JSON' | 'UNKNOWN_TYPE' | 'BAD_MESSAGE' | 'BAD_SEQ' | 'BAD_OFFSET' | 'UNKNOWN_BACKFILL';

/** A tick on the wire: [time_msc (broker wall clock), ord within the ms, bid, ask, last, volume, flags]. */
export type WireTick = [ms: number, ord: number, bid: string | number, ask: string | number, last: string | number, vol: string | number, flags: number];
/** Resume cursor: the last (time_msc, ord) of a symbol. */
export type WireCursor = [ms: number, ord: number];

export interface ChallengeMsg { t: 'challenge'; proto: [number, number]; nonce: string; srv: string }
export interface HelloMsg {
  t: 'hello'; s: number; proto: number | [number, number]; bridge?: string; bver?: string;
  sid: string; conn: number;
  term: { build?: number; company?: string; server?: string; login_h?: string; name?: string };
  utc_off: number; caps?: string[];
  /** symbols the EA is configured to stream (optional; lets the welcome carry their cursors) */
  syms?: string[];
  /** EA input: days of history the server may request on a first connection */
  bf_days?: number;
  mac: string;
}
export interface WelcomeSub { sym: string; book: boolean; from: WireCursor | null }
export interface WelcomeMsg { t: 'welcome'; hb_ms: number; dead_ms: number; max_line: number; subs: WelcomeSub[] }
export interface RejectMsg { t: 'reject'; code: RejectCode; msg: string }
export interface ErrMsg { t: 'err'; code: ErrCode; msg: string; s?: number }
export interface AckMsg { t: 'ack'; s: number; cur: Record<string, WireCursor> }
export interface ServerHbMsg { t: 'hb'; now_ms: number }
export interface BfReqMsg { t: 'bf_req'; id: number; sym: string; from_ms: number; to_ms: number; mode: 'all' | 'trade' | 'info'; max: number }
export interface SubMsg { t: 'sub' | 'unsub'; sym: string; book?: boolean }
export type ServerMsg = ChallengeMsg | WelcomeMsg | RejectMsg | ErrMsg | AckMsg | ServerHbMsg | BfReqMsg | SubMsg;

export interface SymMsg {
  t: 'sym'; s: number; sym: string; canon?: string; digits: number; point: string; tick_size: string;
  tick_value?: string; contract?: string; calc?: string; chart?: string; book_levels?: number;
  /** "trades" when the symbol prints a tape with volume, "quotes" for bid/ask-only feeds */
  tape: 'trades' | 'quotes';
  /** real TICK_FLAG_BUY/SELL present on the tape */
  side_flags?: boolean;
  basis?: string; desc?: string;
}
export interface TicksMsg { t: 'ticks'; s: number; sym: string; live?: boolean; ts: WireTick[]; sent_ms?: number }
export interface BookMsg { t: 'book'; s: number; sym: string; bs: number; ms: number; b: [string | number, string | number][]; a: [string | number, string | number][] }
export interface EaHbMsg { t: 'hb'; s: number; utc_off: number; srv_ms?: number; q?: number; pump_limits?: number; send_stalls?: number; cursors?: Record<string, WireCursor> }
export interface BfBeginMsg { t: 'bf_begin'; s: number; id: number; sym: string }
export interface BfChunkMsg { t: 'bf_chunk'; s: number; id: number; sym: string; i: number; ts: WireTick[] }
export interface BfEndMsg { t: 'bf_end'; s: number; id: number; sym: string; n: number; complete: boolean; err?: number; scanned_to?: number; exhausted?: boolean }
export interface LogMsg { t: 'log' | 'err'; s: number; msg?: string; code?: string | number }
export interface ByeMsg { t: 'bye'; s: number; reason?: string | number }
export type EaMsg = HelloMsg | SymMsg | TicksMsg | BookMsg | EaHbMsg | BfBeginMsg | BfChunkMsg | BfEndMsg | LogMsg | ByeMsg;

export const EA_TYPES = new Set(['hello', 'sym', 'ticks', 'book', 'hb', 'bf_begin', 'bf_chunk', 'bf_end', 'log', 'err', 'bye']);

/** The string the MAC covers: nonce|sid|conn|proto (proto = major). */
export function macInput(nonce: string, sid: string, conn: number, proto: number): string {
  return `${nonce}|${sid}|${conn}|${proto}`;
}

/** Lower-case hex HMAC-SHA256(secret, nonce|sid|conn|proto) — what the EA computes by hand (RFC 2104). */
export function computeMac(secret: string, nonce: string, sid: string, conn: number, proto = PROTO_MAJOR): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(macInput(nonce, sid, conn, proto), 'utf8').digest('hex');
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** Compare cursors: negative when a < b. */
export function cmpCursor(aMs: number, aOrd: number, bMs: number, bOrd: number): number {
  return aMs !== bMs ? aMs - bMs : aOrd - bOrd;
}

/** Encode one message as a wire line (JSON + LF). */
export function encodeLine(msg: object): string {
  return JSON.stringify(msg) + '\n';
}

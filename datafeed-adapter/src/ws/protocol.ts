/**
 * TapeFlow stream protocol v1 (msgpack over WebSocket): message shapes, channel list, error and close
 * codes, limits and timeframe normalization. Pure TypeScript without Node imports, shared by the
 * server (ws/server.ts) and the browser StreamClient (client/stream.ts). See datafeed-adapter/PROTOCOL.md.
 */

export const PROTOCOL_VERSION = 1;

export const CHANNELS = ['tick', 'bar', 'footprint', 'profile', 'delta', 'vwap', 'orderbook', 'signal', 'trade_state', 'bias', 'stats', 'rule', 'pcr', 'feeds'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Channels keyed by a timeframe; the others ignore `tf` (normalized to ''). */
export const TIMEFRAME_CHANNELS: readonly Channel[] = ['bar', 'footprint', 'delta'];

/** Channels whose producers are not part of the engine yet: subscriptions succeed with an empty snapshot. */
export const PLACEHOLDER_CHANNELS: readonly Channel[] = ['signal', 'trade_state', 'bias', 'rule', 'pcr'];

export function isChannel(x: unknown): x is Channel {
  return typeof x === 'string' && (CHANNELS as readonly string[]).includes(x);
}

/** Error codes carried by `{op:'error'}` replies. */
export const ERR = {
  BAD_FRAME: 'bad_frame', // not msgpack, or not a map
  TOO_LARGE: 'too_large', // frame above the soft size limit (still below ws maxPayload)
  BAD_VERSION: 'bad_version', // v missing or not 1
  UNKNOWN_OP: 'unknown_op',
  BAD_REQUEST: 'bad_request', // wrong field types / missing fields
  UNKNOWN_CHANNEL: 'unknown_channel',
  BAD_SYMBOL: 'bad_symbol',
  BAD_TIMEFRAME: 'bad_timeframe',
  NOT_SUBSCRIBED: 'not_subscribed',
  TOO_MANY_SUBSCRIPTIONS: 'too_many_subscriptions',
  UNAUTHORIZED: 'unauthorized',
  INTERNAL: 'internal',
} as const;
export type ErrorCode = (typeof ERR)[keyof typeof ERR];

/** WebSocket close codes used by the server (4000–4999 are application codes). */
export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001, // server shutting down
  TOO_BIG: 1009, // frame above ws maxPayload (sent by the ws library)
  UNAUTHORIZED: 4001, // bad token, or no hello/auth within authTimeoutMs
  TOO_MANY_ERRORS: 4002, // strike limit reached
  SLOW_CONSUMER: 4008, // send buffer/queue bound exceeded
  HEARTBEAT_TIMEOUT: 4009, // no pong (the server terminates; the client sees 1006)
} as const;

// ---- client → server -------------------------------------------------------------------------

export interface HelloMsg { v: 1; op: 'hello'; id?: number | string; token?: string; client?: string }
export interface AuthMsg { v: 1; op: 'auth'; id?: number | string; token: string }
export interface SubscribeMsg {
  v: 1; op: 'subscribe'; id?: number | string;
  ch: Channel; sym: string;
  /** engine timeframe ("1m", "15s", "1h", "1D", "500T") or a Charting Library resolution ("1", "60", "1D", "15S") */
  tf?: string;
  /** bar-like channels: number of closed bars in the snapshot (default per channel, capped) */
  limit?: number;
  /** orderbook: levels per side (default 20, max 200) */
  depth?: number;
  /**
   * footprint: this subscription's view, applied by the server to every snapshot and update (bars
   * with the same view share one topic). rowSize: price units, a whole multiple of the instrument's
   * footprint row (rows merged on the server); imbalance ratio (1–100), comparison and minimum
   * dominant volume (instrument units) for the rows' flags and counts. Omitted = the server's config.
   */
  rowSize?: number; imbalanceRatio?: number; imbalanceCompare?: 'diagonal' | 'horizontal'; minVolume?: number;
  /** profile: value-area share 0–1 for this subscription (omitted = the server's config) */
  valueArea?: number;
}
export interface UnsubscribeMsg { v: 1; op: 'unsubscribe'; id?: number | string; sub?: number; ch?: Channel; sym?: string; tf?: string }
export interface PingMsg { v: 1; op: 'ping'; id?: number | string; t?: number }
export type ClientMsg = HelloMsg | AuthMsg | SubscribeMsg | UnsubscribeMsg | PingMsg;

// ---- server → client -------------------------------------------------------------------------

export interface WelcomeMsg {
  v: 1; op: 'welcome'; ref?: number | string;
  server: string; protocol: number; authenticated: boolean; authRequired: boolean;
  channels: Channel[]; placeholder: Channel[];
  limits: ServerLimits; time: number;
}
export interface SnapshotMsg<D = unknown> { v: 1; op: 'snapshot'; ref?: number | string; sub: number; seq: 0; ch: Channel; sym: string; tf: string; d: D }
export interface UpdateMsg<D = unknown> { v: 1; op: 'update'; sub: number; seq: number; d: D }
export interface UnsubscribedMsg { v: 1; op: 'unsubscribed'; ref?: number | string; sub: number }
export interface PongMsg { v: 1; op: 'pong'; ref?: number | string; t?: number; time: number }
export interface ErrorMsg { v: 1; op: 'error'; code: ErrorCode; message: string; ref?: number | string | null; strikes?: number }
export type ServerMsg = WelcomeMsg | SnapshotMsg | UpdateMsg | UnsubscribedMsg | PongMsg | ErrorMsg;

export interface ServerLimits {
  /** hard frame limit (ws maxPayload): larger frames close the connection with 1009 */
  maxPayload: number;
  /** soft frame limit: larger frames get a `too_large` error */
  maxMessageBytes: number;
  maxSubscriptions: number;
  maxStrikes: number;
  heartbeatMs: number;
}

// ---- payloads (`d`) --------------------------------------------------------------------------

/** A trade: [ts ms, price, size, side (1 buy, -1 sell, 0 unknown), venue id]. */
export type WireTrade = [number, number, number, number, number];

export interface WireBar {
  /** bar open time, ms UTC (daily bars: 00:00 UTC of the trading day) */
  t: number;
  /** exclusive end, ms (tick/volume bars: last trade + 1 once closed, null while open) */
  end: number | null;
  o: number; h: number; l: number; c: number;
  v: number; buy: number; sell: number; delta: number; trades: number;
  closed: boolean;
}
export interface WireFootprint extends WireBar {
  rowSize: number;
  deltaMin: number; deltaMax: number;
  poc: number | null; vah: number | null; val: number | null;
  buyImbalances: number; sellImbalances: number;
  /** [row lower edge price, bid (sell-aggressor) volume, ask (buy-aggressor) volume], ascending price */
  /** [price, bid volume, ask volume, imbalance flags (1 buy, 2 sell)] */
  rows: [number, number, number, number][];
}
export interface WireDelta {
  t: number; end: number | null;
  delta: number; deltaMin: number; deltaMax: number;
  cvdO: number; cvdH: number; cvdL: number; cvdC: number;
  buy: number; sell: number;
  closed: boolean;
}
export interface BarsSnapshot<B> { bars: B[]; open: B | null }

export interface TickSnapshot { trades: WireTrade[] }
export interface TickUpdate { trades: WireTrade[]; dropped?: number }

export interface WireVwap { ts: number; anchor: number; vwap: number | null; stdev: number | null; upper: (number | null)[]; lower: (number | null)[]; volume: number }
export interface WireProfile {
  /** data time of this state (the developing POC's time) */
  ts: number;
  session: string | null; start: number | null; end: number | null; closed: boolean; rowSize: number;
  poc: number | null; vah: number | null; val: number | null; low: number | null; high: number | null;
  volume: number; buy: number; sell: number;
  /** [row lower edge price, volume, buy, sell], ascending price */
  rows: [number, number, number, number][];
}
/** `synced`: false while the venue book is out of sync (before its snapshot, after a sequence break): the levels are not the venue's */
/** `depthLevels`: the venue shows at most this many levels a side (Kite: 5), so book metrics are over those only; null = full book */
export interface WireBook { ts: number; available: boolean; synced: boolean; depthLevels: number | null; bids: [number, number][]; asks: [number, number][] }
export interface WireStats {
  ts: number; symbol: string;
  last: number | null; bid: number | null; ask: number | null;
  session: string | null; open: number | null; high: number | null; low: number | null;
  prevClose: number | null; volume: number; cvd: number;
  trades: number; totalVolume: number; buyVolume: number; sellVolume: number; bars: number;
}
export interface PlaceholderSnapshot { available: boolean; items: unknown[] }
/** `feeds` (any symbol: the same server-wide status): the /api/v1/feeds answer, sent when it changes */
export interface WireFeeds {
  available: boolean; mode?: 'live' | 'simulated' | 'replay' | 'none' | string;
  simulated?: { banner: string | null; reason: string | null; instruments: string[] } | null;
  feeds?: { name: string; state?: string; connected?: boolean; stalled?: { reason: string } | null }[];
  completeness?: { instrument: string; gaps: { kind: string; reason: string; from?: number; to: number | null }[] }[];
  replay?: { files: string[]; playing: boolean; speed: number | 'max'; fed: number; total: number; position: number | null; first: number | null; last: number | null; done: boolean } | null;
}

export interface ChannelSnapshot {
  tick: TickSnapshot; bar: BarsSnapshot<WireBar>; footprint: BarsSnapshot<WireFootprint>; delta: BarsSnapshot<WireDelta>;
  vwap: WireVwap; profile: WireProfile; orderbook: WireBook; stats: WireStats;
  signal: PlaceholderSnapshot; trade_state: PlaceholderSnapshot; bias: PlaceholderSnapshot;
  /** rule mode: the LONG/SHORT/WAIT decisions (FlowSight shape), the last 50 */
  rule: PlaceholderSnapshot;
  /** options-chain PCR (Kite feeds with kite.pcr), keyed by the chain's spot instrument: the latest report */
  pcr: PlaceholderSnapshot;
  feeds: WireFeeds;
}
export interface ChannelUpdate {
  tick: TickUpdate; bar: WireBar; footprint: WireFootprint; delta: WireDelta;
  vwap: WireVwap; profile: WireProfile; orderbook: WireBook; stats: WireStats;
  signal: { item: unknown }; trade_state: { item: unknown }; bias: { item: unknown }; rule: { item: unknown }; pcr: { item: unknown }; feeds: WireFeeds;
}

// ---- timeframes ------------------------------------------------------------------------------

/**
 * Normalize an engine timeframe or a Charting Library resolution to the engine form:
 * "1" → "1m", "60" → "60m", "15S" → "15s", "D"/"1D" → "1D", "100T" → "100T", "1m"/"1h" unchanged.
 * Returns null for anything else (weeks/months are not streamed).
 */
export function normalizeTimeframe(tf: string): string | null {
  const s = tf.trim();
  let m = /^(\d+)$/.exec(s);
  if (m) return Number(m[1]) > 0 ? `${Number(m[1])}m` : null;
  m = /^(\d*)([SDT])$/.exec(s);
  if (m) {
    const n = m[1] === '' ? 1 : Number(m[1]);
    if (!(n > 0)) return null;
    return m[2] === 'S' ? `${n}s` : `${n}${m[2]}`;
  }
  // volume bars: instrument units, decimals allowed ("0.5V"); canonical number text
  m = /^(\d+(?:\.\d+)?)V$/.exec(s);
  if (m) return Number(m[1]) > 0 ? `${Number(m[1])}V` : null;
  m = /^(\d+)([smhdV])$/.exec(s);
  if (m) return Number(m[1]) > 0 ? `${Number(m[1])}${m[2] === 'd' ? 'D' : m[2]}` : null;
  m = /^(\d+)H$/.exec(s);
  if (m) return Number(m[1]) > 0 ? `${Number(m[1])}h` : null;
  return null;
}

/** Milliseconds of a normalized time timeframe, or null for tick/volume bars. */
export function timeframeMs(tf: string): number | null {
  const m = /^(\d+)([smhD])$/.exec(tf);
  if (!m) return null;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, D: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'D'];
  return Number(m[1]) * unit;
}

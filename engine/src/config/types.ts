/**
 * TapeFlow configuration: the fully typed shape after validation, with every default applied.
 * See docs/configuration.md for each key.
 */
import type { AssetClass, FlowKind } from '../core/instruments.js';
import type { LogFormat, LogLevel } from '../log.js';
import { ALERT_KINDS, type AlertKind } from '../alerts/types.js';

/** A feed's venue: a live venue id of engine/src/venues/registry.ts (FEED_VENUES there lists the valid ones), or mt5 | replay | simulator. */
export type FeedVenue = string;

export const ASSET_CLASSES: readonly AssetClass[] = ['index', 'metal', 'energy', 'crypto', 'forex', 'stock'];
export const FLOW_KINDS: readonly FlowKind[] = ['orderflow', 'quote-activity'];

/** A custom session: local hours in an IANA zone. */
export interface SessionDefinition {
  timezone: string;
  /** local "HH:MM" */
  start: string;
  /** local "HH:MM"; "24:00" or equal to start = a whole day; before start = crosses midnight */
  end: string;
  /** ISO weekdays the session opens on (1 = Monday … 7 = Sunday); default Monday–Friday */
  days: number[];
}

/** Session of an instrument: a template name (asian, london, ny_cash, full_day, crypto_24x7), a name from `sessions`, or inline hours. */
export type SessionRef = string | SessionDefinition;

/**
 * One `instruments` entry. For a built-in id every other field is optional and overrides the
 * built-in value; a new id needs assetClass, tickSize, lotStep and profileRow.
 */
export interface InstrumentConfig {
  id: string;
  symbol?: string;
  venue?: string;
  assetClass?: AssetClass;
  description?: string;
  /** decimal strings (numbers in YAML are accepted and converted) */
  tickSize?: string;
  lotStep?: string;
  profileRow?: string;
  footprintRow?: string;
  contractSize?: number;
  session?: SessionRef;
  thresholds?: { absorptionMinVolume?: number; initiativeMinDelta?: number };
  flow?: FlowKind;
  primary?: boolean;
}

import type { KiteConfig } from '../venues/kite/config.js';

export interface FeedConfig {
  venue: FeedVenue;
  symbols: string[];
  wsUrl?: string;
  restUrl?: string;
  /** Binance: 'split' (/public + /market, default on USD-M) or 'root' (default on spot and COIN-M) */
  routing?: 'split' | 'root';
  /** venue kite only: mode, options-chain PCR, holidays (engine/src/venues/kite/config.ts) */
  kite?: KiteConfig;
  /** default true */
  enabled: boolean;
}

export interface ServerConfig {
  /** default 127.0.0.1 (loopback only) */
  host: string;
  /** default 8080; 0 = any free port */
  port: number;
  cors: { origins: string[] };
  /** name of the environment variable holding the API bearer token; unset = no auth */
  authTokenEnv?: string;
  /** 'api' (default): /api/** and /ws need the token; 'all': every route but /health (UDF and /metrics too) */
  protect: 'api' | 'all';
  /** Host header names accepted besides loopback names and `host` (DNS-rebinding defence) */
  allowedHosts: string[];
  /** listen on a non-loopback host without any token (refused otherwise) */
  allowNoAuth: boolean;
  /** short-lived signed tokens (JWT, HS256) for sites that embed the datafeed */
  jwt?: { secretEnv: string; ttlS: number; revoked: string[] };
  /** wrong tokens from one address within windowS before it is locked out for lockS */
  authThrottle: { maxFailures: number; windowS: number; lockS: number };
}

export interface StoreConfig {
  /** default ./data/tapeflow.sqlite */
  path: string;
  /** delete stored data older than this many days; unset = keep everything */
  retentionDays?: number;
  /** most writes kept queued while the disk fails (default 200 000); beyond it a storage gap is recorded */
  maxQueuedOps?: number;
}

export interface TelegramConfig {
  /** default false */
  enabled: boolean;
  /** environment variable holding the bot token; default TELEGRAM_BOT_TOKEN */
  tokenEnv: string;
  /** environment variable holding a comma-separated list of chat ids to send to */
  chatIdsEnv?: string;
  /** chats allowed to change subscriptions and settings (besides the chatIdsEnv chats); unset or empty = none */
  allowChatIds?: number[];
  /** how long an undelivered alert stays in the outbox across a Telegram outage, in hours (default 24) */
  outboxTtlHours?: number;
  /** Bot API base URL (tests point it at a local fake); default https://api.telegram.org */
  apiRoot?: string;
  /** SQLite file of the outbox, chats, subscriptions and cooldowns; unset = alerts.sqlite next to store.path */
  dbPath?: string;
  /** alert kinds sent at all (a chat's subscription narrows further); default every kind */
  kinds: AlertKind[];
  /** footprint + profile PNG on ENTRY / DAILY BIAS alerts and the /chart command; default true */
  charts: boolean;
  /** bot commands: 'polling' (default), 'webhook' (Telegram POSTs updates to `webhook.path` of the HTTP server) or 'off' */
  commands: 'polling' | 'webhook' | 'off';
  /** webhook mode: where the HTTP server takes updates, the secret Telegram sends with them, and the public URL to register */
  webhook: TelegramWebhook;
  /** quiet hours given to the configured chats (chatIdsEnv) when they are first seen; unset = none */
  quietHours?: TelegramQuietHours;
  /** per-kind cooldown in ms (event time) per chat and symbol; unset kinds keep the built-in defaults */
  cooldownMs?: Partial<Record<AlertKind, number>>;
}

export interface TelegramWebhook {
  /** route on the HTTP server (default /telegram/webhook); outside /api, so the API token does not apply */
  path: string;
  /** environment variable holding the secret token (A-Z a-z 0-9 _ -, 1–256), checked on every update; default TELEGRAM_WEBHOOK_SECRET */
  secretEnv: string;
  /** the HTTPS URL Telegram reaches `path` at (behind your proxy); registered with setWebhook at start. Unset = register it yourself */
  publicUrl?: string;
}

export interface TelegramQuietHours {
  /** local "HH:MM"; start after end crosses midnight */
  start: string;
  end: string;
  /** IANA zone; default UTC */
  timezone: string;
  /** 'silent' (default): delivered without notification; 'suppress': not delivered. Exits always notify */
  mode: 'silent' | 'suppress';
}

export type ImbalanceCompare = 'diagonal' | 'horizontal';
export type ImbalanceZeroPolicy = 'ignore' | 'imbalance' | 'requireMinOther';
export type ImbalanceMetric = 'volume' | 'trades';

export interface AnalyticsConfig {
  /** bar timeframe: 1s … 1D, 500T (ticks), 100V (volume); default 1m */
  timeframe: string;
  /** value area fraction, default 0.70 */
  valueAreaPct: number;
  imbalance: {
    /** dominant >= ratio × weak; default 3 (= 300 %) */
    ratio: number;
    compare: ImbalanceCompare;
    /** dominant-side minimum in instrument units (e.g. 0.5 = 0.5 BTC), a trade count with metric 'trades'; default 0 */
    minDominant: number;
    /** weak-side minimum when zeroPolicy is requireMinOther, instrument units (trade count with metric 'trades'); default 0 */
    minOther: number;
    /** default 'imbalance' */
    zeroPolicy: ImbalanceZeroPolicy;
    /** default 'volume' */
    metric: ImbalanceMetric;
  };
  /** default 3 */
  stackedMinRows: number;
  /** default 'session' */
  cvdReset: 'session' | 'never';
  /** memory for the closed bars and session profiles `tapeflow start` holds, all instruments together, MB (not a bar count); older ones are read from the store; default 64 */
  barMemoryMB: number;
}

/** Paper trading that follows the strategy's entries and exits (GET /api/v1/paper). */
export interface PaperConfig {
  /** default true */
  enabled: boolean;
  /** default 10 000 (quote currency) */
  initialBalance: number;
  /** notional of each strategy entry, capped at the per-position limit; default 1 000 */
  notionalPerTrade: number;
  /** per-position notional limit, % of equity; default 2 */
  maxPositionPct: number;
  /** total open notional limit, % of equity; default 10 */
  maxExposurePct: number;
  /** realised loss in a UTC day that stops trading and closes every position at market, % of the day-start equity; default 5 */
  dailyLossPct: number;
  /** fees and slippage in basis points; defaults 4 and 1 */
  feeBps: number;
  slippageBps: number;
}

/**
 * Rule mode: which preset decides at every bar close and is served on /api/v1/rule, the `rule` WS channel and
 * `tapeflow start --json-signals`. `flowsight` (default): LONG / SHORT / WAIT with 0–100 confidence
 * (signals/rule-mode.ts). `seed`: the Order Flow Trading Dashboard's ACCUMULATION / DISTRIBUTION / BUY / SELL with
 * 0–10 confidence (signals/seed-preset.ts). `tapeflow backtest` evaluates both whatever the preset.
 */
export interface RuleModeConfig {
  preset: 'flowsight' | 'seed';
  seed: {
    /** a call is emitted from this confidence (0–10); default 7 */
    minConfidence: number;
    /** at most this many emitted calls per IST day, all instruments together (the seed's MAX_DAILY_SIGNALS); default 5 */
    maxDailySignals: number;
  };
}

/** One instrument merged from several venues on one tick grid, with per-venue contributions per cell. */
export interface MergedConfig {
  /** merged instrument id, e.g. BTC-AGG */
  id: string;
  /** source instrument ids (at least two), e.g. [BTCUSDT, BYBIT:BTCUSDT, COINBASE:BTC-USD] */
  sources: string[];
  /** common tick (decimal string); default the coarsest source tick */
  tickSize?: string;
  /** footprint row height in price units (a multiple of the merged tick size, e.g. "5" = 5 USD); default one tick */
  row?: string;
}

/** The MT5 bridge server the Expert Advisor connects to. */
export interface Mt5Config {
  /** default false */
  enabled: boolean;
  /** default 127.0.0.1 (the EA only reaches addresses allowed in the terminal) */
  host: string;
  /** default 9100 (the EA's InpPort default) */
  port: number;
  /** environment variable holding the shared secret; default TAPEFLOW_MT5_SECRET */
  secretEnv: string;
  /** broker symbol → canonical instrument id overrides (e.g. "US100.cash": NAS100; "" keeps the broker name) */
  symbols: Record<string, string>;
  /** this broker's own symbol suffixes / prefixes (e.g. ["m"] for EURUSDm, US500m, AAPLm), stripped from any name */
  suffixes?: string[];
  prefixes?: string[];
  /** broker DST rule for backfilled history before the first observed offset: auto (default), us, eu, none */
  dst?: 'auto' | 'us' | 'eu' | 'none';
  /** SQLite file of persisted ticks (acks follow persistence); default mt5-ticks.sqlite next to the store */
  dbPath?: string;
}

/** The distributed form (`tapeflow start --role ingest|engine|gateway`, docs/cluster.md). */
export interface ClusterConfig {
  /** NATS server URLs (every node of the JetStream cluster) */
  servers: string[];
  /** this process's node id (default: role-hostname-pid); names its leases */
  nodeId?: string;
  /** instruments the engine nodes share out as leases (ids of the registry) */
  instruments: string[];
  /** ingest: the replay files this node publishes (feeds from `feeds:` otherwise) */
  files: string[];
  /** JetStream replicas of the streams and buckets (capped by the number of servers) */
  replicas: number;
  /** event/output stream retention: oldest messages are discarded past either limit (-1 = none) */
  retention: { maxAgeS: number; maxBytes: number };
  /** Nats-Msg-Id duplicate window in seconds */
  dedupWindowS: number;
  /** a lease not renewed within this many ms expires and another engine node takes the instrument */
  leaseTtlMs: number;
  /** engine: checkpoint each instrument to KV every this many ms */
  snapshotEveryMs: number;
  /** /metrics and /health port of ingest and engine nodes (0 = any free port) */
  opsPort: number;
  /** engine: in live use, check every this many ms whether a quiet instrument's time bar is over on the wall clock (0 = never) */
  clockMs: number;
  /** engine: an instrument is live when its last event is within this many ms of the wall clock (a replay of old data never is) */
  liveWindowMs: number;
  /** gateway: WS update intervals per channel in ms over the one-process defaults (e.g. { tick: 20 }) */
  wsIntervals: Record<string, number>;
}

export interface TapeFlowConfig {
  instruments: InstrumentConfig[];
  sessions: Record<string, SessionDefinition>;
  feeds: FeedConfig[];
  server: ServerConfig;
  store: StoreConfig;
  alerts: { telegram: TelegramConfig };
  analytics: AnalyticsConfig;
  paper: PaperConfig;
  ruleMode: RuleModeConfig;
  merged: MergedConfig[];
  mt5: Mt5Config;
  cluster: ClusterConfig;
  log: { level: LogLevel; format: LogFormat };
  /** file the config was read from; null when built from defaults only */
  source: string | null;
}

export function defaultConfig(): TapeFlowConfig {
  return {
    instruments: [],
    sessions: {},
    feeds: [],
    server: { host: '127.0.0.1', port: 8080, cors: { origins: [] }, protect: 'api', allowedHosts: [], allowNoAuth: false, authThrottle: { maxFailures: 10, windowS: 60, lockS: 60 } },
    store: { path: './data/tapeflow.sqlite' },
    alerts: { telegram: { enabled: false, tokenEnv: 'TELEGRAM_BOT_TOKEN', kinds: [...ALERT_KINDS], charts: true, commands: 'polling', webhook: { path: '/telegram/webhook', secretEnv: 'TELEGRAM_WEBHOOK_SECRET' } } },
    analytics: {
      timeframe: '1m',
      valueAreaPct: 0.7,
      imbalance: { ratio: 3, compare: 'diagonal', minDominant: 0, minOther: 0, zeroPolicy: 'imbalance', metric: 'volume' },
      stackedMinRows: 3,
      cvdReset: 'session',
      barMemoryMB: 64,
    },
    paper: { enabled: true, initialBalance: 10_000, notionalPerTrade: 1_000, maxPositionPct: 2, maxExposurePct: 10, dailyLossPct: 5, feeBps: 4, slippageBps: 1 },
    ruleMode: { preset: 'flowsight', seed: { minConfidence: 7, maxDailySignals: 5 } },
    merged: [],
    mt5: { enabled: false, host: '127.0.0.1', port: 9100, secretEnv: 'TAPEFLOW_MT5_SECRET', symbols: {} },
    cluster: { servers: ['nats://127.0.0.1:4222'], instruments: [], files: [], replicas: 3, retention: { maxAgeS: 7 * 86_400, maxBytes: -1 }, dedupWindowS: 120, leaseTtlMs: 3000, snapshotEveryMs: 5000, opsPort: 0, clockMs: 1000, liveWindowMs: 300_000, wsIntervals: {} },
    log: { level: 'info', format: 'human' },
    source: null,
  };
}

/** One validation problem: where (a key path such as `instruments[2].tickSize`) and why. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.path || '(root)'}: ${i.message}`;
}

/** Thrown by loadConfig; `issues` lists every problem found, not just the first. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  readonly file: string | null;

  constructor(issues: ConfigIssue[], file: string | null = null) {
    const head = `${file ?? 'config'}: ${issues.length} error${issues.length === 1 ? '' : 's'}`;
    super(`${head}\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
    this.file = file;
  }
}

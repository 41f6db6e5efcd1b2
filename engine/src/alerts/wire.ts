/**
 * Messages between AlertService (engine thread) and the alerts worker (worker.ts). All plain,
 * structured-clone-able data. Flow:
 *  - main → worker: `batch` of captured payloads (at most a few unacknowledged at a time), `call`
 *    (start / drain / idle / stats / webhook / close), `res` answering a worker request;
 *  - worker → main: `ready` / `fatal` once, `ack` per batch, `ret` per call, `req` for live state
 *    (/status, /bias, /signals, the symbols) and chart data, `log` lines, periodic `stats`.
 */
import type { LogFields, LogFormat, LogLevel, Logger } from '../log.js';
import type { ChartData } from './chart-data.js';
import type { SnapshotRequest } from './chart.js';
import type { AlertCoreOptions, AlertCoreStats } from './core.js';
import type { BackgroundPolicy } from './thread-sched.js';
import type { AlertPayload } from './types.js';

/** The core options that cross to the worker (no functions). */
export type WorkerCoreOptions = Omit<AlertCoreOptions, 'clock' | 'log' | 'fetch'>;

export interface WorkerInit {
  options: WorkerCoreOptions;
  /** alerts of these kinds get a chart (the worker asks the engine thread for its data) */
  charts: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** how the worker thread yields to the engine's (Linux): SCHED_IDLE, a nice value, or not at all */
  policy: BackgroundPolicy;
  nice: number;
}

export interface WireRequest { method: string; url: string; headers: [string, string][]; body: Uint8Array | null }
export interface WireResponse { status: number; headers: [string, string][]; body: Uint8Array }

export type CallOp =
  | { op: 'start'; hasData: boolean; hasCharts: boolean }
  | { op: 'drain' }
  | { op: 'idle'; timeoutMs: number }
  | { op: 'stats' }
  | { op: 'webhook'; secret: string; req: WireRequest }
  | { op: 'close' };

export type DataOp =
  | { op: 'symbols' }
  | { op: 'resolve'; symbol: string }
  | { op: 'status'; symbol: string }
  | { op: 'bias'; symbol: string }
  | { op: 'signals'; symbol: string; n: number }
  | { op: 'chart'; symbol: string; req: SnapshotRequest };

/** A chart answer: the data to draw in the worker, or a PNG drawn by a provider without `data()`. */
export type ChartReply = { data: ChartData } | { png: Uint8Array } | null;

export type ToWorker =
  | { t: 'batch'; seq: number; items: AlertPayload[] }
  | ({ t: 'call'; id: number } & CallOp)
  | { t: 'res'; id: number; ok: boolean; value?: unknown; error?: string };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'fatal'; error: string }
  | { t: 'ack'; seq: number }
  | { t: 'ret'; id: number; ok: boolean; value?: unknown; error?: string; stats: AlertCoreStats }
  | { t: 'stats'; stats: AlertCoreStats }
  | ({ t: 'req'; id: number } & DataOp)
  | { t: 'log'; level: LogLevel; msg: string; fields?: LogFields };

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A Logger that forwards lines to the engine thread's logger (which formats and writes them). */
export class PortLogger implements Logger {
  constructor(private readonly post: (m: FromWorker) => void, readonly level: LogLevel, readonly format: LogFormat, private readonly fields: LogFields = {}) {}
  enabled(level: LogLevel): boolean { return RANK[level] >= RANK[this.level]; }
  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const f = Object.keys(this.fields).length ? { ...this.fields, ...fields } : fields;
    try { this.post({ t: 'log', level, msg, fields: f }); } catch { this.post({ t: 'log', level, msg }); }
  }
  debug(msg: string, fields?: LogFields): void { this.write('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.write('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.write('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.write('error', msg, fields); }
  child(fields: LogFields): Logger { return new PortLogger(this.post, this.level, this.format, { ...this.fields, ...fields }); }
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * A Bot API failure as a person can read it: never "undefined: undefined" (an error envelope without
 * error_code or description), and the cause of a network error (ECONNREFUSED, a timeout) when there is one.
 */
export function telegramErrorText(err: unknown): string {
  if (err instanceof Error && 'errorCode' in err) {
    const e = err as Error & { errorCode?: number; description?: string };
    const code = typeof e.errorCode === 'number' ? e.errorCode : null;
    const d = typeof e.description === 'string' && e.description ? e.description : null;
    if (code !== null || d !== null) return `${code ?? 'error'}: ${d ?? 'no description'}`;
    return 'Telegram answered an error without error_code or description';
  }
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const c = cause instanceof Error ? ((cause as { code?: string }).code ?? (cause as { cause?: { code?: string } }).cause?.code ?? cause.message) : null;
    return c && !err.message.includes(c) ? `${err.message} (${c})` : err.message;
  }
  return String(err);
}

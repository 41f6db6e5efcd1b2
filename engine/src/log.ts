/**
 * Small structured logger: levels, JSON lines or a human format, child loggers with bound fields,
 * secret redaction. Writes to stderr by default (stdout stays clean for command output).
 * The level comes from the options, else TAPEFLOW_LOG_LEVEL, else "info".
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'human'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  readonly format: LogFormat;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** true when a message at `level` would be written (to skip building expensive fields) */
  enabled(level: LogLevel): boolean;
  /** a logger that adds `fields` to every line (merged over this logger's bound fields) */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** receives one finished line (with trailing newline); default process.stderr */
  write?: (line: string) => void;
  /** fields bound to every line */
  fields?: LogFields;
  /** clock, for tests */
  now?: () => number;
  /** where TAPEFLOW_LOG_LEVEL / TAPEFLOW_LOG_FORMAT are read when level/format are not given */
  env?: Record<string, string | undefined>;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(s: unknown): s is LogLevel {
  return typeof s === 'string' && (LOG_LEVELS as readonly string[]).includes(s);
}

export function isLogFormat(s: unknown): s is LogFormat {
  return typeof s === 'string' && (LOG_FORMATS as readonly string[]).includes(s);
}

/** TAPEFLOW_LOG_LEVEL when set to a valid level (case-insensitive), else undefined. */
export function levelFromEnv(env: Record<string, string | undefined> | undefined): LogLevel | undefined {
  const v = env?.TAPEFLOW_LOG_LEVEL?.trim().toLowerCase();
  return isLogLevel(v) ? v : undefined;
}

const SECRET_KEY = /token|secret|passw(?:or)?d|passphrase|credential|api[-_]?key|private[-_]?key|access[-_]?key|signing[-_]?key|^key$|^auth(?:orization)?$|cookie/i;

/**
 * Whether a field name looks like it holds a secret (token, secret, password, apiKey, key …).
 * Names ending in "Env" (tokenEnv, authTokenEnv) hold the NAME of an environment variable and are
 * not secret.
 */
export function isSecretKey(key: string): boolean {
  if (/Env$/.test(key)) return false;
  return SECRET_KEY.test(key);
}

export const REDACTED = '[redacted]';

/** Copy of `value` with every secret-looking field replaced by "[redacted]" (nested, cycle-safe). */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (value instanceof Error) {
    const o: LogFields = { name: value.name, message: value.message };
    if (value.stack) o.stack = value.stack;
    const extra = value as unknown as LogFields;
    for (const k of Object.keys(value)) o[k] = isSecretKey(k) ? REDACTED : redact(extra[k], depth + 1, seen);
    return o;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (seen.has(value)) return '[circular]';
  if (depth >= 8) return '[nested]';
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) out = value.map((v) => redact(v, depth + 1, seen));
  else if (value instanceof Map) out = redact(Object.fromEntries(value), depth + 1, seen);
  else {
    const o: LogFields = {};
    for (const [k, v] of Object.entries(value)) o[k] = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redact(v, depth + 1, seen);
    out = o;
  }
  seen.delete(value);
  return out;
}

function defaultWrite(line: string): void {
  const p = (globalThis as { process?: { stderr?: { write(s: string): unknown } } }).process;
  if (p?.stderr) p.stderr.write(line);
  else console.error(line.replace(/\n$/, ''));
}

function humanValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v === undefined) return 'undefined';
  return JSON.stringify(v) ?? String(v);
}

function formatLine(format: LogFormat, ts: number, level: LogLevel, msg: string, fields: LogFields): string {
  const time = new Date(ts).toISOString();
  if (format === 'json') {
    return JSON.stringify({ time, level, msg, ...fields }) + '\n';
  }
  let s = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (k === 'err' && v && typeof v === 'object' && 'stack' in v && typeof v.stack === 'string') {
      s += ` ${k}=${humanValue((v as { message?: unknown }).message)}\n${v.stack}`;
      continue;
    }
    s += ` ${k}=${humanValue(v)}`;
  }
  return s + '\n';
}

class StructuredLogger implements Logger {
  constructor(
    readonly level: LogLevel,
    readonly format: LogFormat,
    private readonly write: (line: string) => void,
    private readonly now: () => number,
    private readonly bound: LogFields,
  ) {}

  enabled(level: LogLevel): boolean { return RANK[level] >= RANK[this.level]; }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] < RANK[this.level]) return;
    const merged = fields ? { ...this.bound, ...fields } : this.bound;
    const safe = redact(merged) as LogFields;
    try {
      this.write(formatLine(this.format, this.now(), level, msg, safe));
    } catch {
      // a logger must never take the process down (closed pipe, full disk)
    }
  }

  debug(msg: string, fields?: LogFields): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.log('error', msg, fields); }

  child(fields: LogFields): Logger {
    return new StructuredLogger(this.level, this.format, this.write, this.now, { ...this.bound, ...fields });
  }
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const env = opts.env ?? (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const envFormat = env?.TAPEFLOW_LOG_FORMAT?.trim().toLowerCase();
  const level = opts.level ?? levelFromEnv(env) ?? 'info';
  const format = opts.format ?? (isLogFormat(envFormat) ? envFormat : 'human');
  return new StructuredLogger(level, format, opts.write ?? defaultWrite, opts.now ?? Date.now, { ...(opts.fields ?? {}) });
}

/** A logger that writes nothing (for tests and library callers that pass no logger). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} });

import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, isSecretKey, levelFromEnv, redact, REDACTED, type LoggerOptions } from '../../engine/src/log.js';

const T0 = Date.parse('2024-03-11T13:30:00.000Z');

function capture(opts: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger({ env: {}, now: () => T0, write: (l) => lines.push(l), ...opts });
  return { log, lines };
}

describe('logger', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('writes JSON lines with time, level, msg and fields', () => {
    const { log, lines } = capture({ format: 'json', level: 'debug' });
    log.info('feed connected', { venue: 'binance-usdm', symbols: ['BTCUSDT'] });
    expect(lines).toEqual(['{"time":"2024-03-11T13:30:00.000Z","level":"info","msg":"feed connected","venue":"binance-usdm","symbols":["BTCUSDT"]}\n']);
  });

  it('filters by level', () => {
    const { log, lines } = capture({ format: 'json', level: 'warn' });
    log.debug('a'); log.info('b'); log.warn('c'); log.error('d');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['c', 'd']);
    expect(log.enabled('info')).toBe(false);
    expect(log.enabled('error')).toBe(true);
  });

  it('human format: time, padded level, message, key=value (quoted when needed)', () => {
    const { log, lines } = capture({ format: 'human' });
    log.warn('gap in stream', { venue: 'bybit', missed: 3, note: 'two words', ok: true });
    expect(lines[0]).toBe('2024-03-11T13:30:00.000Z WARN  gap in stream venue=bybit missed=3 note="two words" ok=true\n');
  });

  it('child loggers bind fields; call fields win; parents are unchanged', () => {
    const { log, lines } = capture({ format: 'json', fields: { app: 'tapeflow' } });
    const feed = log.child({ component: 'feed', venue: 'coinbase' });
    const sym = feed.child({ symbol: 'BTC-USD' });
    sym.info('trade', { venue: 'override' });
    log.info('root');
    expect(JSON.parse(lines[0])).toEqual({ time: '2024-03-11T13:30:00.000Z', level: 'info', msg: 'trade', app: 'tapeflow', component: 'feed', venue: 'override', symbol: 'BTC-USD' });
    expect(JSON.parse(lines[1])).toEqual({ time: '2024-03-11T13:30:00.000Z', level: 'info', msg: 'root', app: 'tapeflow' });
    expect(sym.level).toBe('info');
  });

  it('redacts secret-looking fields, nested too, but keeps *Env variable names', () => {
    const { log, lines } = capture({ format: 'json' });
    log.info('telegram', { token: '123:ABC', tokenEnv: 'TELEGRAM_BOT_TOKEN', cfg: { password: 'hunter2', apiKey: 'k', api_key: 'k2', key: 'x', chatId: 42 }, list: [{ secret: 's' }] });
    const o = JSON.parse(lines[0]);
    expect(o.token).toBe(REDACTED);
    expect(o.tokenEnv).toBe('TELEGRAM_BOT_TOKEN');
    expect(o.cfg).toEqual({ password: REDACTED, apiKey: REDACTED, api_key: REDACTED, key: REDACTED, chatId: 42 });
    expect(o.list).toEqual([{ secret: REDACTED }]);
    expect(lines[0]).not.toContain('hunter2');
    expect(lines[0]).not.toContain('123:ABC');
    const bound = capture({ format: 'human' });
    bound.log.child({ authToken: 'zzz' }).info('x');
    expect(bound.lines[0]).toBe(`2024-03-11T13:30:00.000Z INFO  x authToken=${REDACTED}\n`);
  });

  it('serializes errors, dates, bigints and cycles without throwing', () => {
    const { log, lines } = capture({ format: 'json' });
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    const err = Object.assign(new Error('boom'), { code: 'ECONN' });
    log.error('failed', { err, at: new Date(T0), n: 10n, cyc });
    const o = JSON.parse(lines[0]);
    expect(o.err.message).toBe('boom');
    expect(o.err.name).toBe('Error');
    expect(o.err.code).toBe('ECONN');
    expect(typeof o.err.stack).toBe('string');
    expect(o.at).toBe('2024-03-11T13:30:00.000Z');
    expect(o.n).toBe('10');
    expect(o.cyc).toEqual({ a: 1, self: '[circular]' });
  });

  it('takes the level and format from TAPEFLOW_LOG_LEVEL / TAPEFLOW_LOG_FORMAT when not given', () => {
    const lines: string[] = [];
    const log = createLogger({ env: { TAPEFLOW_LOG_LEVEL: 'DEBUG', TAPEFLOW_LOG_FORMAT: 'json' }, write: (l) => lines.push(l), now: () => T0 });
    expect(log.level).toBe('debug');
    expect(log.format).toBe('json');
    log.debug('d');
    expect(JSON.parse(lines[0]).level).toBe('debug');
    expect(createLogger({ env: { TAPEFLOW_LOG_LEVEL: 'loud' } }).level).toBe('info');
    expect(createLogger({ env: { TAPEFLOW_LOG_LEVEL: 'error' }, level: 'warn' }).level).toBe('warn');
    expect(levelFromEnv({ TAPEFLOW_LOG_LEVEL: ' warn ' })).toBe('warn');
    expect(levelFromEnv({})).toBeUndefined();
  });

  it('writes to stderr by default, never stdout', () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    createLogger({ env: {}, format: 'json' }).info('to stderr');
    expect(err).toHaveBeenCalledTimes(1);
    expect(String(err.mock.calls[0][0])).toContain('"msg":"to stderr"');
    expect(out).not.toHaveBeenCalled();
  });

  it('survives a throwing sink', () => {
    const log = createLogger({ env: {}, write: () => { throw new Error('EPIPE'); } });
    expect(() => log.error('x')).not.toThrow();
  });
});

describe('isSecretKey / redact', () => {
  it('classifies field names', () => {
    for (const k of ['token', 'botToken', 'secret', 'clientSecret', 'password', 'passwd', 'apiKey', 'api_key', 'privateKey', 'key', 'authorization']) expect(isSecretKey(k)).toBe(true);
    for (const k of ['tokenEnv', 'authTokenEnv', 'symbol', 'venue', 'sessionKey', 'keys', 'monkey']) expect(isSecretKey(k)).toBe(false);
  });

  it('leaves plain values alone', () => {
    expect(redact({ a: 1, b: 'x', c: null })).toEqual({ a: 1, b: 'x', c: null });
    expect(redact('token')).toBe('token');
  });
});

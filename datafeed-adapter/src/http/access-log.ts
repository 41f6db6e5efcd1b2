/**
 * Structured access log through pino-http (request ids, response time, one line per finished or
 * aborted request), written into the application's Logger so HTTP lines share its sink, format and
 * redaction. What is logged per request: method, path with the query (a `token` parameter redacted),
 * status, response time, remote address, Origin and Host; never headers (Authorization, cookies).
 * Level: 5xx error, 4xx warn, else info; /health and /metrics successes at debug (pollers).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import { pinoHttp } from 'pino-http';
import type { Logger, LogLevel } from '../../../engine/src/log.js';

const LEVEL_OF: Record<number, LogLevel> = { 10: 'debug', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'error' };

/** The URL with the value of every `token` query parameter replaced. */
export function redactUrl(url: string | undefined): string {
  if (!url) return '';
  const u = url.length > 300 ? `${url.slice(0, 300)}…` : url;
  return u.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

/** A pino logger whose lines go to `log` (parsed back into fields: one sink for the whole app). */
export function pinoInto(log: Logger): pino.Logger {
  const dest = {
    write(line: string): void {
      try {
        const { level, msg, time: _t, ...fields } = JSON.parse(line) as Record<string, unknown> & { level: number; msg?: string };
        log[LEVEL_OF[level] ?? 'info'](msg ?? 'http', fields);
      } catch { /* a log line must never throw */ }
    },
  };
  return pino({ level: log.level, base: null, timestamp: false }, dest);
}

export function accessLog(log: Logger) {
  return pinoHttp({
    logger: pinoInto(log),
    quietReqLogger: true,
    customLogLevel: (req: IncomingMessage, res: ServerResponse, err?: Error) => {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      const path = (req.url ?? '').split('?')[0];
      return path === '/health' || path === '/metrics' ? 'debug' : 'info';
    },
    customSuccessMessage: (req, res, ms) => `${req.method} ${(req.url ?? '').split('?')[0].slice(0, 120)} ${res.statusCode} ${Math.round(ms)}ms`,
    customErrorMessage: (req, res) => `${req.method} ${(req.url ?? '').split('?')[0].slice(0, 120)} ${res.statusCode} failed`,
    serializers: {
      req: (r: { id?: unknown; method?: string; url?: string; remoteAddress?: string; headers?: Record<string, unknown> }) => ({ id: r.id, method: r.method, url: redactUrl(r.url), addr: r.remoteAddress, origin: r.headers?.origin, host: r.headers?.host }),
      res: (r: { statusCode?: number }) => ({ status: r.statusCode }),
    },
  });
}

/**
 * Log rate limiting for the bridge: per kind of line (e.g. one reject code), at most `burst` lines per
 * window; the rest are counted and summarised in one line when the next window opens. 2,000 idle
 * sockets timing out write a handful of lines, not 2,000.
 */
import type { Logger } from '../../engine/src/log.js';

export class RateLimitedLog {
  private readonly kinds = new Map<string, { start: number; n: number; dropped: number }>();
  suppressed = 0;

  constructor(private readonly log: Logger, private readonly burst = 5, private readonly windowMs = 10_000, private readonly now = () => Date.now()) {}

  warn(kind: string, msg: string, fields?: Record<string, unknown>): void { this.write('warn', kind, msg, fields); }
  info(kind: string, msg: string, fields?: Record<string, unknown>): void { this.write('info', kind, msg, fields); }

  private write(level: 'warn' | 'info', kind: string, msg: string, fields?: Record<string, unknown>): void {
    const t = this.now();
    let k = this.kinds.get(kind);
    if (!k || t - k.start >= this.windowMs) {
      if (k && k.dropped) this.log[level](`${msg} (${k.dropped} more like this in the last ${Math.round((t - k.start) / 1000)} s were not logged)`, { ...fields, suppressed: k.dropped });
      k = { start: t, n: 0, dropped: 0 };
      this.kinds.set(kind, k);
      if (this.kinds.size > 10_000) this.kinds.clear(); // kinds are bounded by codes and feeds; never grow without bound
    }
    if (k.n < this.burst) { k.n++; this.log[level](msg, fields); return; }
    k.dropped++;
    this.suppressed++;
  }
}

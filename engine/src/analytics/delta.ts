/**
 * Cumulative volume delta with a reset policy, and per-bar delta dynamics.
 *  - CVD resets to 0 at the first trade at or after a new session's open ('session'), or never.
 *  - momentum = delta(bar) − delta(previous bar); acceleration = momentum − previous momentum.
 *  - buy pressure % = buy / (buy + sell) × 100 (unknown-side volume excluded); sell pressure = 100 − buy.
 */
export type CvdReset = 'session' | 'never';

export class CvdTracker {
  value = 0;
  private sessionKey: string | null = null;
  constructor(readonly reset: CvdReset = 'session') {}

  /** Call before adding a trade that belongs to `sessionKey` ('' = outside sessions; does not reset). */
  enterSession(sessionKey: string): void {
    if (this.reset === 'session' && sessionKey !== '' && sessionKey !== this.sessionKey) {
      if (this.sessionKey !== null) this.value = 0;
      this.sessionKey = sessionKey;
    }
  }

  add(signedSize: number): number {
    this.value += signedSize;
    return this.value;
  }
}

export interface DeltaDynamics { momentum: number; acceleration: number; buyPressurePct: number; sellPressurePct: number }

export class DeltaDynamicsTracker {
  private prevDelta = NaN;
  private prevMomentum = NaN;

  /** Feed each closed bar's delta and buy/sell volume in order. */
  next(delta: number, buy: number, sell: number): DeltaDynamics {
    const d = this.peek(delta, buy, sell);
    this.prevDelta = delta;
    this.prevMomentum = d.momentum;
    return d;
  }

  /** Dynamics the open bar would have if it closed now (state unchanged). */
  peek(delta: number, buy: number, sell: number): DeltaDynamics {
    const momentum = this.prevDelta === this.prevDelta ? delta - this.prevDelta : NaN;
    const acceleration = momentum === momentum && this.prevMomentum === this.prevMomentum ? momentum - this.prevMomentum : NaN;
    const tot = buy + sell;
    const bp = tot > 0 ? (buy / tot) * 100 : NaN;
    return { momentum, acceleration, buyPressurePct: bp, sellPressurePct: tot > 0 ? 100 - bp : NaN };
  }
}

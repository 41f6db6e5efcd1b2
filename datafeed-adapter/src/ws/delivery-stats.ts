/**
 * What the stream server's fan-out did: messages and bytes handed to sockets, socket writes, updates
 * conflated away in congested queues, and the send delay of never-conflated updates (closed bars,
 * signals): time from the topic's emit to the socket write. The delay histogram has logarithmic
 * buckets (about 4 % wide), so recording is O(1) and a percentile is exact to one bucket.
 */

const BUCKETS_PER_OCTAVE = 16;
const MIN_MS = 0.01;
const N_BUCKETS = 32 * BUCKETS_PER_OCTAVE; // 0.01 ms … 0.01·2^32 ms (50 days); longer ones share the last bucket

export class DelayHistogram {
  private readonly counts = new Uint32Array(N_BUCKETS);
  n = 0;
  max = 0;

  record(ms: number): void {
    const b = ms <= MIN_MS ? 0 : Math.min(N_BUCKETS - 1, Math.ceil(Math.log2(ms / MIN_MS) * BUCKETS_PER_OCTAVE));
    this.counts[b]++;
    this.n++;
    if (ms > this.max) this.max = ms;
  }

  /** Upper edge of the bucket holding the p-th percentile (NaN when empty). */
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const want = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let b = 0; b < N_BUCKETS; b++) {
      seen += this.counts[b];
      // the last bucket is open-ended: its upper edge is the largest delay seen
      if (seen >= want) return b === N_BUCKETS - 1 ? this.max : Math.min(this.max, MIN_MS * 2 ** (b / BUCKETS_PER_OCTAVE));
    }
    return this.max;
  }

  reset(): void { this.counts.fill(0); this.n = 0; this.max = 0; }
}

export interface DeliveryStats {
  /** messages handed to sockets (updates and control replies) */
  messages: number;
  bytes: number;
  /** socket writes (one per connection per pump) */
  writes: number;
  /** latest-state updates replaced by a newer one while queued behind a congested socket */
  conflated: number;
  /** connections above the high-water mark with something queued, now */
  congested: number;
  /** emit → socket write of closed bars and signals, ms (upper bucket edges) */
  sendDelayMs: { n: number; p50: number | null; p99: number | null; max: number | null };
}

const round = (x: number): number | null => (Number.isFinite(x) ? +x.toFixed(2) : null);

export function delayStats(h: DelayHistogram): DeliveryStats['sendDelayMs'] {
  return { n: h.n, p50: round(h.percentile(50)), p99: round(h.percentile(99)), max: h.n ? round(h.max) : null };
}

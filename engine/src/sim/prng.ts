/**
 * Seeded, platform-independent pseudo-random numbers for the simulator (no Math.random anywhere).
 * Generator: xoshiro128** (Blackman & Vigna), 32-bit state words, seeded through splitmix32 so that
 * nearby seeds give unrelated streams. All arithmetic is 32-bit integer (Math.imul), so the same
 * seed yields the same stream in every JS engine.
 */

/** splitmix32 step: returns the next state and the 32-bit output. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/**
 * mulberry32: a tiny 32-bit generator for small deterministic streams (random baselines, test and
 * sample tapes) where xoshiro's stream independence is not needed. Uniform in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mix several integers (e.g. seed, stream id) into one 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    // fold the number in as two 32-bit halves so large seeds keep their high bits
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = Math.imul(h ^ lo, 0x01000193);
    h = Math.imul(h ^ hi, 0x01000193);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

const INV_2_32 = 1 / 4294967296;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = NaN;

  constructor(seed: number) {
    let st = mixSeed(seed) | 0;
    let o: number;
    [st, o] = splitmix32(st); this.s0 = o | 0;
    [st, o] = splitmix32(st); this.s1 = o | 0;
    [st, o] = splitmix32(st); this.s2 = o | 0;
    [st, o] = splitmix32(st); this.s3 = o | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next unsigned 32-bit integer (xoshiro128**). */
  nextU32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return r >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextU32() * INV_2_32;
  }

  /** Uniform in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.float();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** true with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Exponential waiting time with the given rate (mean 1/rate). */
  exp(rate: number): number {
    return -Math.log(1 - this.float()) / rate;
  }

  /** Standard normal (Box–Muller, the second value is kept for the next call). */
  normal(): number {
    const s = this.spare;
    if (s === s) {
      this.spare = NaN;
      return s;
    }
    let u = this.float();
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median and log-sigma. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Poisson count with mean lambda (Knuth below 30, rounded normal approximation above). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda < 30) {
      const l = Math.exp(-lambda);
      let k = 0;
      let p = 1;
      for (;;) {
        p *= this.float();
        if (p <= l) return k;
        k++;
      }
    }
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
  }

  /** Geometric number of failures before the first success, success probability p. */
  geometric(p: number): number {
    if (p >= 1) return 0;
    return Math.floor(Math.log(1 - this.float()) / Math.log(1 - p));
  }

  /** An independent stream derived from this generator's seed material and a salt. */
  fork(salt: number): Rng {
    return new Rng(mixSeed(this.nextU32(), salt));
  }
}

/**
 * Truncated discrete power law on {0 .. n-1}: P(d) ∝ (d + offset)^-alpha, sampled by inverse CDF
 * with a binary search over a precomputed table (no allocation per draw).
 */
export class DiscretePowerLaw {
  private readonly cdf: Float64Array;

  constructor(readonly n: number, alpha: number, offset = 1) {
    this.cdf = new Float64Array(n);
    let acc = 0;
    for (let d = 0; d < n; d++) {
      acc += Math.pow(d + offset, -alpha);
      this.cdf[d] = acc;
    }
    for (let d = 0; d < n; d++) this.cdf[d] /= acc;
    this.cdf[n - 1] = 1;
  }

  sample(rng: Rng): number {
    const u = rng.float();
    const c = this.cdf;
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** P(d) */
  prob(d: number): number {
    if (d < 0 || d >= this.n) return 0;
    return d === 0 ? this.cdf[0] : this.cdf[d] - this.cdf[d - 1];
  }
}

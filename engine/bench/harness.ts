/** Benchmark harness: each case prints one JSON line {name, …, seconds, peakRssMB}. */
export interface BenchLine { name: string; [k: string]: unknown }

export function peakRssMB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function rssMB(): number {
  return Math.round(process.memoryUsage().rss / 1048576);
}

export function emit(line: BenchLine): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

export function dataDir(): string {
  return process.env.TAPEFLOW_DATA ?? new URL('../shared/data', `file://${process.cwd()}/`).pathname;
}

/** Time a synchronous function, after a GC when exposed. */
export function timed(fn: () => void): number {
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** The p-th percentile (0–100, nearest rank below) of `xs`, NaN when empty; `xs` is not changed. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  if (!xs.length) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

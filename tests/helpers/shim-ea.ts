/** Rig for shimmed-EA scenarios: the real bridge server on an ephemeral port, the EA's own source compiled through the shim. */
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import type { MarketEvent } from '../../engine/src/core/events.js';
import { BridgeServer, type BridgeServerOptions } from '../../mt5-bridge/src/server.js';
import { MemoryTickSink, type BridgeTick } from '../../mt5-bridge/src/sink.js';
import type { Mt5Tick } from '../../mt5-bridge/src/sim-ea.js';
import { ShimEA, type ShimEaOptions } from '../../mt5-bridge/shim/run.js';

export const SHIM_SECRET = 'shim-secret';

export interface ShimRig { server: BridgeServer; sink: MemoryTickSink; live: MarketEvent[]; history: MarketEvent[]; port: number; registry: InstrumentRegistry; ea: ShimEA }

export async function shimRig(server: Partial<BridgeServerOptions>, ea: Omit<ShimEaOptions, 'inputs'> & { inputs?: ShimEaOptions['inputs'] }, sink = new MemoryTickSink()): Promise<ShimRig> {
  const live: MarketEvent[] = [];
  const history: MarketEvent[] = [];
  const registry = server.registry ?? new InstrumentRegistry();
  const srv = new BridgeServer({ secret: SHIM_SECRET, sink, registry, onEvent: (e) => live.push(e), onHistory: (e) => history.push(e), ackMs: 20, ...server });
  const port = await srv.listen();
  const e = new ShimEA({ ...ea, inputs: { InpPort: port, InpSecret: SHIM_SECRET, ...(ea.inputs ?? {}) } });
  e.start();
  return { server: srv, sink, live, history, port, registry, ea: e };
}

export async function until(pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** (ms, ord) ids of a tape as the EA must number them: ordinal within the millisecond. */
export function tapeIds(ticks: readonly Mt5Tick[]): string[] {
  const out: string[] = [];
  let ms = NaN, ord = 0;
  for (const t of ticks) {
    if (t.ms !== ms) { ms = t.ms; ord = 0; } else ord++;
    out.push(`${t.ms}:${ord}`);
  }
  return out;
}

/** Id accounting: every expected id exactly once, nothing else. */
export function accounting(expected: readonly string[], got: readonly BridgeTick[]): { lost: number; duplicated: number; unexpected: number } {
  const want = new Set(expected);
  const seen = new Map<string, number>();
  for (const t of got) { const k = `${t.ms}:${t.ord}`; seen.set(k, (seen.get(k) ?? 0) + 1); }
  let lost = 0, duplicated = 0, unexpected = 0;
  for (const k of want) if (!seen.has(k)) lost++;
  for (const [k, n] of seen) { if (n > 1) duplicated += n - 1; if (!want.has(k)) unexpected++; }
  return { lost, duplicated, unexpected };
}

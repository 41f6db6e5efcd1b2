/**
 * First run without a network: when no live feed has delivered data for `afterMs` (default 10 s) of
 * failed connects, serve the market simulator instead, labelled everywhere. Simulated instruments get
 * their own ids (`SIM:<id>`, venue `simulator`), so their bars never mix with live ones in memory and
 * the store recorder skips them: simulated data is never stored as live data. As soon as a feed
 * delivers data again the simulators stop (no restart needed); if every feed goes quiet again for
 * `afterMs`, the simulators resume from their last price.
 */
import type { MarketEvent } from '../core/events.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import type { FeedManager } from '../feeds/manager.js';
import type { Logger } from '../log.js';
import type { Problem } from '../status/registry.js';
import { createDemoSimulators, DEMO_INSTRUMENTS, runRealtime, type DemoInstrument, type MarketSimulator, type RealtimeHandle } from '../sim/index.js';

export const SIM_PREFIX = 'SIM:';
export const FALLBACK_AFTER_MS = 10_000;
export const SIMULATED_BANNER = 'SIMULATED — live venues unreachable';

export type FeedMode = 'connecting' | 'live' | 'simulated';

export interface FallbackStatus {
  mode: FeedMode;
  /** local ms of the last mode change */
  since: number;
  /** why it is simulating (null when live) */
  reason: string | null;
  /** the simulated instrument ids (SIM:…) while simulating */
  instruments: string[];
  /** what to change to get live data */
  config: string;
  banner: string | null;
}

export interface FallbackOptions {
  feeds: FeedManager;
  registry: InstrumentRegistry;
  sink: (ev: MarketEvent) => void;
  log: Logger;
  /** the config file the user would edit (named in the log line) */
  configFile: string;
  afterMs?: number;
  /** how often feed progress is checked (default 500 ms) */
  checkMs?: number;
  /** simulated history served at once when the simulator starts (default 2 h) */
  backfillMs?: number;
  seed?: number;
  now?: () => number;
}

export class SimulatorFallback {
  mode: FeedMode = 'connecting';
  since: number;
  reason: string | null = null;
  private downSince: number;
  private timer: NodeJS.Timeout | null = null;
  private sims: MarketSimulator[] = [];
  private handles: RealtimeHandle[] = [];
  private readonly simIds: string[] = [];
  private readonly lastMid = new Map<string, number>();
  private runs = 0;
  private readonly now: () => number;

  constructor(private readonly o: FallbackOptions) {
    this.now = o.now ?? Date.now;
    this.since = this.downSince = this.now();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.o.checkMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopSims();
  }

  /** A feed is live when one of its connections is open and it has delivered at least one event. */
  private anyLive(): boolean {
    return this.o.feeds.feeds.some((f) => f.counters.events > 0 && f.status().connections.some((c) => c.state === 'open'));
  }

  /** One line per feed: its connection error, or what it is waiting for. */
  private whyDown(): string {
    return this.o.feeds.feeds.map((f) => {
      const st = f.status();
      const err = st.connections.find((c) => c.lastError)?.lastError;
      return `${f.name}: ${err ?? (st.connections.length ? `no data (${st.state})` : 'not connected yet')}`;
    }).join('; ');
  }

  check(): void {
    const now = this.now();
    if (this.anyLive()) {
      this.downSince = now;
      if (this.mode !== 'live') {
        if (this.mode === 'simulated') this.o.log.info(`live data is back (${this.o.feeds.feeds.filter((f) => f.counters.events > 0).map((f) => f.name).join(', ')}): the simulator stopped; serving live`);
        this.stopSims();
        this.set('live', null);
      }
      return;
    }
    const afterMs = this.o.afterMs ?? FALLBACK_AFTER_MS;
    if (this.mode !== 'simulated' && now - this.downSince >= afterMs) {
      const why = this.whyDown();
      if (!this.startSims()) return;
      this.set('simulated', `live venues unreachable for ${Math.round((now - this.downSince) / 1000)} s (${why})`);
      this.o.log.warn(`live venues unreachable (${why}); serving SIMULATED data as ${this.simIds.join(', ')} until a feed connects. ` +
        `To get live data check the network, or change the \`feeds\` section (venue, symbols, wsUrl, restUrl) in ${this.o.configFile}`);
    }
  }

  private set(mode: FeedMode, reason: string | null): void {
    this.mode = mode;
    this.reason = reason;
    this.since = this.now();
  }

  /** Register SIM:<id> instruments (first time) and start one simulator each. False when there is nothing to simulate. */
  private startSims(): boolean {
    const reg = this.o.registry;
    const plan: DemoInstrument[] = [];
    for (const id of [...new Set(this.o.feeds.feeds.flatMap((f) => f.instruments()))]) {
      const inst = reg.find(id);
      if (!inst || inst.flow !== 'orderflow') continue;
      const simId = SIM_PREFIX + inst.id;
      if (!reg.has(simId)) {
        const { price: _p, qty: _q, profileRowTicks: _r, footprintRowTicks: _f, calendar: _c, ...spec } = inst;
        reg.add({ ...spec, id: simId, symbol: simId, venue: 'simulator', description: `SIMULATED ${inst.description}`, primary: false });
      }
      const demo = DEMO_INSTRUMENTS.find((d) => d.id === inst.id);
      const mid = this.lastMid.get(simId);
      const price = mid !== undefined ? inst.price.format(Math.round(mid)) : demo?.price ?? inst.price.format(inst.price.parse('1000'));
      plan.push({ id: simId, price, levelTicks: demo?.levelTicks ?? 10, sizeScale: demo?.sizeScale ?? 20 });
    }
    if (!plan.length) return false;
    if (!this.simIds.length) this.simIds.push(...plan.map((p) => p.id));
    const now = this.now();
    // a backfilled session the first time (the chart is not one bar); later runs continue from the last price
    const first = this.runs++ === 0;
    const startTs = first ? now - (this.o.backfillMs ?? 2 * 3_600_000) : now;
    this.sims = createDemoSimulators(reg, startTs, (this.o.seed ?? 1) + this.runs, { durationMs: 7 * 24 * 3_600_000, instruments: plan, liveFrom: now });
    for (const s of this.sims) s.step(now, this.o.sink);
    this.handles = this.sims.map((s) => runRealtime(s, this.o.sink));
    return true;
  }

  private stopSims(): void {
    for (const h of this.handles) h.stop();
    for (const s of this.sims) this.lastMid.set(s.instrument, s.stats().lastMid);
    this.handles = [];
    this.sims = [];
  }

  status(): FallbackStatus {
    if (this.timer) this.check(); // current even between two periodic checks
    return {
      mode: this.mode, since: this.since, reason: this.reason,
      instruments: this.mode === 'simulated' ? [...this.simIds] : [],
      config: `feeds (venue, symbols, wsUrl, restUrl) in ${this.o.configFile}`,
      banner: this.mode === 'simulated' ? SIMULATED_BANNER : null,
    };
  }

  /** For /health (a status probe): a problem while simulating, with the reason and the config to change. */
  problem(): Problem | null {
    if (this.timer) this.check();
    if (this.mode !== 'simulated') return null;
    return { component: 'simulator', reason: `${SIMULATED_BANNER}: ${this.reason ?? ''}; serving ${this.simIds.join(', ')}. Change ${this.status().config}`, since: this.since };
  }
}

/**
 * Run the compiled EA (translated MQL5 + shim) as a child process against a bridge server: inputs go
 * in as MQL_INPUT_* variables, the broker as a tape file, the terminal's timer resolution and history
 * synchronisation delay as options. Every Print line of the EA is kept (and parsed for disconnects).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildShimEa } from './build.js';
import { writeBrokerTape, type ShimBroker } from './broker.js';

export interface ShimEaOptions {
  broker: ShimBroker;
  /** EA inputs by name (InpPort, InpSecret, InpSymbols, InpDom, InpTimerMs, …) */
  inputs: Record<string, string | number | boolean>;
  /** Windows clock interrupt period in µs: 15625 (default, 15.6 ms) or 1000 (timeBeginPeriod(1)) */
  timerResUs?: number;
  /** a history synchronisation takes this long (real ms) from the first request that needs it */
  historySyncMs?: number;
  /** longest a CopyTicks* call blocks in an EA (45 000 per the MQL5 reference) */
  historyWaitCapMs?: number;
  chartSymbol?: string;
  binary?: string;
  /** every handler starts with this code left in _LastError (as after an earlier call that failed with it) */
  staleLastError?: number;
  /** an idle socket keeps answering SocketIsReadable with a speculative 1 (not only the first time) */
  idleReadable?: boolean;
}

export interface EaLine { ms: number; text: string }

export class ShimEA {
  readonly lines: EaLine[] = [];
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'shim-ea-'));
  private exit: Promise<number> | null = null;
  stderr = '';

  constructor(readonly o: ShimEaOptions) {}

  start(): void {
    const binary = this.o.binary ?? buildShimEa().binary;
    const tape = join(this.dir, 'broker.tape');
    writeBrokerTape(tape, this.o.broker);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, MQL_BROKER_TAPE: tape, MQL_TIMER_RES_US: String(this.o.timerResUs ?? 15625),
      MQL_HISTORY_SYNC_MS: String(this.o.historySyncMs ?? 0), MQL_HISTORY_WAIT_CAP_MS: String(this.o.historyWaitCapMs ?? 45_000),
    };
    if (process.env.MQL_TRACE_BOOK) env.MQL_TRACE_BOOK = '1';
    if (this.o.staleLastError) env.MQL_STALE_LAST_ERROR = String(this.o.staleLastError);
    if (this.o.idleReadable) env.MQL_IDLE_READABLE = '1';
    if (this.o.chartSymbol) env.MQL_CHART_SYMBOL = this.o.chartSymbol;
    for (const [k, v] of Object.entries(this.o.inputs)) env[`MQL_INPUT_${k}`] = String(v);
    const child = spawn(binary, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const sp = line.indexOf(' ');
        this.lines.push({ ms: Number(line.slice(0, sp)), text: line.slice(sp + 1) });
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => { this.stderr += d; });
    this.exit = new Promise((r) => child.on('exit', (code, sig) => r(code ?? (sig ? 128 : 0))));
  }

  /** Epoch ms of the shim's clock origin: a virtual time v happens at t0 + (v − startUtc) / speed. */
  get t0(): number {
    const l = this.lines.find((x) => x.text.startsWith('[shim] t0 '));
    return l ? Number(l.text.slice(10)) : NaN;
  }

  /** Epoch ms at which a virtual-clock UTC time became current in the shim. */
  realTimeOf(utc: number): number {
    return this.t0 + (utc - this.o.broker.startUtc) / (this.o.broker.speed ?? 1);
  }

  /** Lines whose text matches. */
  grep(re: RegExp): EaLine[] { return this.lines.filter((l) => re.test(l.text)); }

  /** "TapeFlow: disconnected (<why>)" lines: the EA dropping its own connection. */
  disconnects(): string[] { return this.grep(/^TapeFlow: disconnected \(/).map((l) => l.text); }

  /** Stop the EA (OnDeinit runs) and wait for the process. */
  async stop(): Promise<number> {
    if (!this.child || !this.exit) return 0;
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const code = await this.exit;
    rmSync(this.dir, { recursive: true, force: true });
    if (this.stderr.includes('MQL5 runtime:')) throw new Error(`the EA hit a runtime error: ${this.stderr}`);
    return code;
  }
}

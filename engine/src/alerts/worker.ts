/**
 * The alerts worker thread: owns AlertCore (policy, formatting, the SQLite outbox, the sender, the bot
 * commands, chart rendering). Fed by AlertService with batches of captured payloads; asks the engine
 * thread for live state and chart data over the port. Built as its own entry (dist/alerts-worker.js).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { renderChartData } from './chart-data.js';
import type { AlertDataSource, SignalView, StatusView } from './commands.js';
import { AlertCore, type AlertCoreStats, type ChartFn } from './core.js';
import { runInBackground, threadSched } from './thread-sched.js';
import type { DailyBiasAlert } from './types.js';
import { errorText, PortLogger, type ChartReply, type DataOp, type FromWorker, type ToWorker, type WireRequest, type WireResponse, type WorkerInit } from './wire.js';

const port = parentPort;
if (!port) throw new Error('alerts worker: not running in a worker thread');
const init = workerData as WorkerInit;

// on busy cores, alert work (chart drawing, SQLite) waits for CPU time the engine's thread does not want
const policy = runInBackground(init.policy, init.nice);
const post = (m: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer ?? []);

// requests to the engine thread
let nextId = 1;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
function ask<T>(op: DataOp): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    post({ t: 'req', id, ...op });
  });
}

const chart: ChartFn = async (symbol, req) => {
  const r = await ask<ChartReply>({ op: 'chart', symbol, req });
  if (!r) return null;
  return 'png' in r ? r.png : renderChartData(r.data);
};

const log = new PortLogger(post, init.logLevel, init.logFormat);
let core: AlertCore;
try {
  core = new AlertCore({ ...init.options, log }, init.charts ? chart : null);
} catch (err) {
  post({ t: 'fatal', error: errorText(err) });
  port.close();
  throw err;
}

let statsTimer: NodeJS.Timeout | null = null;
let lastStats = '';
const stats = (): AlertCoreStats => {
  const s = core.stats;
  const t = threadSched();
  s.worker = { policy, cpuMs: t ? +t.cpuMs.toFixed(1) : null, waitMs: t ? +t.waitMs.toFixed(1) : null };
  return s;
};
function pushStats(): void {
  const s = stats();
  const j = JSON.stringify(s);
  if (j !== lastStats) { lastStats = j; post({ t: 'stats', stats: s }); }
}
// routed batches report at most every 100 ms; a slow heartbeat keeps `sent` and the queue size fresh
core.onBatch = () => { if (!statsTimer) statsTimer = setTimeout(() => { statsTimer = null; pushStats(); }, 100); };
const heartbeat = setInterval(pushStats, 500);
heartbeat.unref();

function remoteSource(hasCharts: boolean): AlertDataSource {
  const src: AlertDataSource = {
    symbols: () => ask<string[]>({ op: 'symbols' }),
    resolve: (symbol) => ask<string | null>({ op: 'resolve', symbol }),
    status: (symbol) => ask<StatusView | undefined>({ op: 'status', symbol }),
    bias: (symbol) => ask<DailyBiasAlert | null>({ op: 'bias', symbol }),
    signals: (symbol, n) => ask<SignalView[]>({ op: 'signals', symbol, n }),
  };
  if (hasCharts) src.chart = (symbol, timeframe) => chart(symbol, timeframe ? { timeframe } : {});
  return src;
}

let hook: ((r: Request) => Promise<Response>) | null = null;
async function webhook(secret: string, w: WireRequest): Promise<WireResponse> {
  hook ??= core.webhook(secret);
  if (!hook) return { status: 503, headers: [], body: new TextEncoder().encode('bot commands are not in webhook mode') };
  const res = await hook(new Request(w.url, { method: w.method, headers: w.headers, body: w.body && w.method !== 'GET' && w.method !== 'HEAD' ? (w.body as Uint8Array<ArrayBuffer>) : undefined }));
  return { status: res.status, headers: [...res.headers.entries()], body: new Uint8Array(await res.arrayBuffer()) };
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'batch':
      for (const a of m.items) core.publish(a);
      post({ t: 'ack', seq: m.seq }); // stats follow within 100 ms (onBatch), or with the next call's answer
      return;
    case 'res': {
      const w = waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id);
      if (m.ok) w.resolve(m.value); else w.reject(new Error(m.error ?? 'request failed'));
      return;
    }
    case 'call': {
      const id = m.id;
      const run = async (): Promise<unknown> => {
        switch (m.op) {
          case 'start': await core.start(m.hasData ? remoteSource(m.hasCharts) : null); return null;
          case 'drain': await core.drain(); return null;
          case 'idle': await core.idle(m.timeoutMs); return null;
          case 'stats': return { queue: core.queue.stats(), sender: { ...core.sender.stats } };
          case 'webhook': return webhook(m.secret, m.req);
          case 'close':
            await core.close();
            clearInterval(heartbeat);
            if (statsTimer) clearTimeout(statsTimer);
            for (const w of waiting.values()) w.reject(new Error('alerts worker closed'));
            waiting.clear();
            return null;
        }
      };
      run().then(
        (value) => post({ t: 'ret', id, ok: true, value, stats: stats() }),
        (err: unknown) => post({ t: 'ret', id, ok: false, error: errorText(err), stats: stats() }),
      );
      return;
    }
  }
});

// load fetch's internals (undici, ~100 ms of compiling) now rather than on the first send, which may
// fall in the middle of ingestion
void [globalThis.fetch, new FormData(), new Blob([])];

post({ t: 'ready' });

/**
 * Simulated TapeFlow EA: speaks protocol v1 over real TCP exactly like mql5/TapeFlowBridge.mq5 and
 * mirrors its logic (CopyTicks cursor keyed by (time_msc, ordinal in the ms), resume from the acked
 * cursor, backfill served in chunks between live batches, heartbeats with the UTC offset, reconnect with
 * jittered backoff on a fresh socket). The "terminal" is an in-memory tick history per symbol of which a
 * prefix has been "released" (happened); `release()` makes more ticks happen.
 * Fault injection: byte-level fragmentation, stalls, half-open silence, drop mid-batch, bad MAC,
 * a DST offset change inside the tape, skipped sequence numbers (lost lines), skipped book sequences,
 * raw bytes (malformed lines, unknown types, oversized frames).
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { LineDecoder } from './line-decoder.js';
import {
  PROTO_MAJOR, computeMac, encodeLine,
  type AckMsg, type BfReqMsg, type ServerMsg, type SymMsg, type WelcomeMsg, type WireCursor, type WireTick,
} from './protocol.js';

/** One terminal tick: broker wall-clock ms plus the MqlTick fields (prices as decimal strings, "0" = absent). */
export interface Mt5Tick {
  ms: number;
  bid: string;
  ask: string;
  last: string;
  vol: string;
  flags: number;
  /** true UTC ms (for tests and DST announcements); broker ms = utc + offset × 1000 */
  utc: number;
}

export type SymSpec = Omit<SymMsg, 't' | 's' | 'sym'> & { vol_step?: string };

export interface SimSymbol {
  sym: string;
  spec: SymSpec;
  /** terminal tick history in broker time order */
  ticks: Mt5Tick[];
  /** ticks already "happened" at start (available as history); default 0 */
  released?: number;
}

export interface SimEaOptions {
  host?: string;
  port: number;
  secret: string;
  symbols: SimSymbol[];
  terminal?: { company?: string; server?: string; login?: string; build?: number };
  sid?: string;
  /** broker UTC offset in seconds (constant or by UTC time, e.g. a DST rule) */
  utcOffset?: number | ((utcMs: number) => number);
  bfDays?: number;
  /** ticks per `ticks` line */
  batchTicks?: number;
  /** ticks per symbol per pump pass */
  passTicks?: number;
  /** ticks per bf_chunk */
  chunkTicks?: number;
  /** pump on a timer (CLI) instead of explicit pump() calls (tests) */
  autoPump?: boolean;
  pumpMs?: number;
  /** send heartbeats on a timer (default true; interval from welcome) */
  heartbeats?: boolean;
  /**
   * resume from welcome.from only when it is at most this much older (broker ms) than the newest tick;
   * else start live and leave the hole to the server's bf_req (the EA's InpReplayHours; default Infinity)
   */
  replayWindowMs?: number;
  /** reconnect after a drop with jittered backoff (default false) */
  reconnect?: boolean;
  backoffMs?: { base: number; max: number };
  /** deliver every write one byte at a time */
  byteWrites?: boolean;
  /** use this MAC instead of the correct one (bad MAC fault) */
  forceMac?: string;
  proto?: number;
}

interface Cursor { ms: number; n: number }
interface ActiveBf { req: BfReqMsg; next: number; i: number; n: number; begun: boolean }

export class SimulatedEA extends EventEmitter {
  readonly o: Required<Omit<SimEaOptions, 'terminal' | 'sid' | 'forceMac' | 'utcOffset'>> & Pick<SimEaOptions, 'forceMac'>;
  readonly sid: string;
  readonly term: { company: string; server: string; login_h: string; build: number };
  private readonly syms = new Map<string, SimSymbol & { released: number; cursor: Cursor }>();
  private readonly offsetFn: (utcMs: number) => number;
  socket: Socket | null = null;
  conn = 0;
  private seq = 0;
  private skip = 0;
  private dropNextLine = false;
  private halfOpen = false;
  private stalledUntil = 0;
  private announcedOff = NaN;
  welcome: WelcomeMsg | null = null;
  lastAck: AckMsg | null = null;
  readonly acked = new Map<string, WireCursor>();
  readonly rejects: { code: string; msg: string }[] = [];
  readonly errs: { code: string; msg: string; s?: number }[] = [];
  readonly bfReqs: BfReqMsg[] = [];
  private readonly bfQueue: BfReqMsg[] = [];
  private bf: ActiveBf | null = null;
  private bookSeq = new Map<string, number>();
  /** where each symbol went live in this EA session (sid): the resume point while the server has no cursor */
  private readonly sessionStart = new Map<string, Cursor>();
  private timers: NodeJS.Timeout[] = [];
  private closedByUser = false;
  private backoffStep = 0;
  private lastServerData = 0;
  /** time of the last write to the socket */
  lastWriteAt = 0;
  /** counters */
  ticksSent = 0;
  linesSent = 0;
  reconnects = 0;
  sendStalls = 0;

  constructor(opts: SimEaOptions) {
    super();
    this.o = {
      host: opts.host ?? '127.0.0.1', port: opts.port, secret: opts.secret, symbols: opts.symbols, bfDays: opts.bfDays ?? 0,
      batchTicks: opts.batchTicks ?? 1000, passTicks: opts.passTicks ?? 20_000, chunkTicks: opts.chunkTicks ?? 5000,
      autoPump: opts.autoPump ?? false, pumpMs: opts.pumpMs ?? 10, heartbeats: opts.heartbeats ?? true,
      replayWindowMs: opts.replayWindowMs ?? Infinity, reconnect: opts.reconnect ?? false, backoffMs: opts.backoffMs ?? { base: 500, max: 30_000 }, byteWrites: opts.byteWrites ?? false,
      forceMac: opts.forceMac, proto: opts.proto ?? PROTO_MAJOR,
    };
    this.sid = opts.sid ?? randomBytes(8).toString('hex');
    const t = opts.terminal ?? {};
    this.term = { company: t.company ?? 'Sim Broker Ltd', server: t.server ?? 'SimBroker-Demo', login_h: createHash('sha256').update(t.login ?? '1000001').digest('hex'), build: t.build ?? 4620 };
    const off = opts.utcOffset ?? 7200;
    this.offsetFn = typeof off === 'number' ? () => off : off;
    for (const s of opts.symbols) this.syms.set(s.sym, { ...s, released: s.released ?? 0, cursor: { ms: 0, n: 0 } });
  }

  /** The terminal's current UTC offset: by the time of the last released tick (or now). */
  utcOffset(): number {
    let utc = -Infinity, first = Infinity;
    for (const s of this.syms.values()) {
      if (s.released > 0) utc = Math.max(utc, s.ticks[s.released - 1].utc);
      else if (s.ticks.length) first = Math.min(first, s.ticks[0].utc);
    }
    // nothing happened yet: the terminal's clock is just before the first tick
    return this.offsetFn(utc > -Infinity ? utc : first < Infinity ? first : Date.now());
  }

  // -------------------------------------------------------------------------------- terminal model

  /** Make `n` more ticks of `sym` happen (all symbols when sym is omitted; Infinity = all). */
  release(n = Infinity, sym?: string): void {
    for (const s of this.syms.values()) if (sym === undefined || s.sym === sym) s.released = Math.min(s.ticks.length, s.released + n);
  }

  released(sym: string): number { return this.syms.get(sym)?.released ?? 0; }

  /** CopyTicks(sym, from=fromMs, count): released ticks with ms >= fromMs, oldest first. */
  copyTicks(sym: string, fromMs: number, count: number): [start: number, end: number] {
    const s = this.syms.get(sym)!;
    let lo = 0, hi = s.released;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (s.ticks[mid].ms < fromMs) lo = mid + 1; else hi = mid; }
    return [lo, Math.min(s.released, lo + count)];
  }

  // ------------------------------------------------------------------------------------ connection

  /** Connect (a fresh socket, conn + 1); resolves with the welcome, rejects on reject/close. */
  start(): Promise<WelcomeMsg> {
    this.closedByUser = false;
    return this.connectOnce();
  }

  private connectOnce(): Promise<WelcomeMsg> {
    this.conn++;
    this.seq = 0;
    this.welcome = null;
    this.lastAck = null;
    this.bf = null;
    this.bfQueue.length = 0;
    this.halfOpen = false;
    this.announcedOff = NaN;
    this.bookSeq.clear();
    const sock = connect({ host: this.o.host, port: this.o.port });
    sock.setNoDelay(true);
    this.socket = sock;
    const dec = new LineDecoder(16 << 20, {
      line: (text) => this.onServer(JSON.parse(text) as ServerMsg),
      badUtf8: () => this.emit('protocol_error', 'bad utf8 from server'),
      overflow: () => sock.destroy(),
    });
    sock.on('data', (b: Buffer) => { this.lastServerData = Date.now(); if (!this.halfOpen) dec.push(b); });
    sock.on('error', () => {});
    return new Promise<WelcomeMsg>((resolve, reject) => {
      const onWelcome = (w: WelcomeMsg): void => { cleanup(); resolve(w); };
      const onReject = (r: { code: string; msg: string }): void => { cleanup(); reject(Object.assign(new Error(`rejected: ${r.code} ${r.msg}`), { code: r.code })); };
      const onClose = (): void => { cleanup(); reject(new Error('connection closed before welcome')); };
      const cleanup = (): void => { this.off('welcome', onWelcome); this.off('reject', onReject); sock.off('close', onClose); };
      this.on('welcome', onWelcome);
      this.on('reject', onReject);
      sock.once('close', onClose);
      sock.on('close', () => this.onSocketClosed(sock));
    });
  }

  private onSocketClosed(sock: Socket): void {
    if (sock !== this.socket) return;
    this.stopTimers();
    this.emit('close');
    if (this.o.reconnect && !this.closedByUser) {
      // jittered exponential backoff on a fresh socket (never reuse the handle)
      const base = Math.min(this.o.backoffMs.max, this.o.backoffMs.base * 2 ** this.backoffStep++);
      const delay = Math.round(base * (0.8 + Math.random() * 0.4));
      const t = setTimeout(() => { this.reconnects++; this.connectOnce().catch(() => {}); }, delay);
      this.timers.push(t);
    }
  }

  /** Reconnect now with a fresh socket (tests): the old one is destroyed first. */
  async reconnect(): Promise<WelcomeMsg> {
    this.disconnect();
    this.reconnects++;
    this.closedByUser = false;
    return this.connectOnce();
  }

  /** Drop the TCP connection abruptly (terminal crash / network loss). */
  disconnect(): void {
    this.closedByUser = true;
    this.stopTimers();
    const s = this.socket;
    if (s && !s.destroyed) s.destroy();
  }

  async close(): Promise<void> {
    this.closedByUser = true;
    this.stopTimers();
    const s = this.socket;
    if (s && !s.destroyed) {
      if (this.welcome && !this.halfOpen) this.send({ t: 'bye', reason: 'REASON_REMOVE' });
      await new Promise<void>((r) => { s.once('close', () => r()); s.end(); setTimeout(() => { s.destroy(); }, 200).unref(); });
    }
  }

  private stopTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  private onServer(m: ServerMsg): void {
    switch (m.t) {
      case 'challenge': {
        this.seq = 0;
        const mac = this.o.forceMac ?? computeMac(this.o.secret, m.nonce, this.sid, this.conn, PROTO_MAJOR);
        this.send({
          t: 'hello', proto: this.o.proto, bridge: 'tapeflow-sim-ea', bver: '0.1.0', sid: this.sid, conn: this.conn,
          term: this.term, utc_off: this.currentOffsetForHello(), caps: ['ticks', 'book', 'backfill'],
          syms: [...this.syms.keys()], bf_days: this.o.bfDays, mac,
        });
        break;
      }
      case 'welcome': this.onWelcome(m); break;
      case 'reject': this.rejects.push({ code: m.code, msg: m.msg }); this.emit('reject', m); break;
      case 'err': this.errs.push(m); this.emit('err', m); break;
      case 'ack':
        this.lastAck = m;
        for (const [k, v] of Object.entries(m.cur)) this.acked.set(k, v);
        this.emit('ack', m);
        break;
      case 'hb': this.emit('hb', m); break;
      case 'bf_req': this.bfReqs.push(m); this.bfQueue.push(m); this.emit('bf_req', m); break;
      case 'sub': case 'unsub': this.emit(m.t, m); break;
    }
  }

  private currentOffsetForHello(): number {
    const off = this.utcOffset();
    this.announcedOff = off;
    return off;
  }

  private onWelcome(w: WelcomeMsg): void {
    this.welcome = w;
    this.backoffStep = 0;
    this.lastServerData = Date.now();
    const from = new Map(w.subs.map((s) => [s.sym, s.from]));
    for (const s of this.syms.values()) {
      const f = from.get(s.sym);
      const newest = s.released > 0 ? s.ticks[s.released - 1].ms : -Infinity;
      if (f && newest - f[0] > this.o.replayWindowMs) {
        // the resume point is older than the replay window: start live now (the server requests the hole)
        this.cursorAtNow(s);
        this.emit('replay_window_exceeded', { sym: s.sym, from: f });
      } else if (f) s.cursor = { ms: f[0], n: this.countAtMsUpTo(s, f[0], f[1]) };
      else if (this.sessionStart.has(s.sym)) {
        // reconnect, nothing persisted yet: replay everything since this EA session went live
        s.cursor = { ...this.sessionStart.get(s.sym)! };
      } else {
        // first contact: start live at "now" (what already happened is history for bf_req)
        this.cursorAtNow(s);
        this.sessionStart.set(s.sym, { ...s.cursor });
      }
      this.send({ t: 'sym', sym: s.sym, ...s.spec });
    }
    if (this.o.heartbeats) {
      const hb = setInterval(() => {
        if (this.halfOpen) return;
        if (Date.now() - this.lastServerData > w.dead_ms) { this.emit('dead'); this.socket?.destroy(); return; }
        this.heartbeat();
      }, w.hb_ms);
      this.timers.push(hb);
    }
    if (this.o.autoPump) {
      const p = setInterval(() => { if (!this.halfOpen && Date.now() >= this.stalledUntil) this.pump(); }, this.o.pumpMs);
      this.timers.push(p);
    }
    this.emit('welcome', w);
  }

  /** Cursor past everything that already happened (the EA's CursorAtNow). */
  private cursorAtNow(s: SimSymbol & { released: number; cursor: Cursor }): void {
    if (s.released === 0) { s.cursor = { ms: 0, n: 0 }; return; }
    const lastMs = s.ticks[s.released - 1].ms;
    const [a, b] = this.copyTicks(s.sym, lastMs, Infinity);
    s.cursor = { ms: lastMs, n: b - a };
  }

  /** Skip ord+1 ticks at ms (the acked cursor names the last persisted (ms, ord)). */
  private countAtMsUpTo(_s: SimSymbol, _ms: number, ord: number): number {
    return ord + 1;
  }

  // -------------------------------------------------------------------------------------- sending

  /** Send a message with the next sequence number. */
  send(msg: Record<string, unknown>): void {
    const s = ++this.seq + this.skip;
    this.seq += this.skip;
    this.skip = 0;
    const line = encodeLine({ t: msg.t, s, ...msg });
    if (this.dropNextLine && msg.t === 'ticks') { this.dropNextLine = false; return; }
    this.write(line);
  }

  /** Raw bytes, no sequence number (malformed lines, oversized frames). */
  sendRaw(data: string | Buffer): void {
    this.write(data);
  }

  private write(data: string | Buffer): boolean {
    const sock = this.socket;
    if (!sock || sock.destroyed || this.halfOpen) return false;
    this.linesSent++;
    this.lastWriteAt = Date.now();
    if (this.o.byteWrites) {
      const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let ok = true;
      for (let i = 0; i < b.length; i++) ok = sock.write(b.subarray(i, i + 1));
      return ok;
    }
    return sock.write(data);
  }

  /** Heartbeat with the UTC offset (default: the terminal's current one). */
  heartbeat(offset?: number): void {
    const off = offset ?? this.utcOffset();
    this.announcedOff = off;
    const cursors: Record<string, WireCursor> = {};
    for (const s of this.syms.values()) if (s.cursor.n > 0) cursors[s.sym] = [s.cursor.ms, s.cursor.n - 1];
    this.send({ t: 'hb', utc_off: off, srv_ms: Date.now() + off * 1000, q: this.socket?.writableLength ?? 0, pump_limits: 0, send_stalls: this.sendStalls, cursors });
  }

  /**
   * One pump pass (OnTimer/OnTick/OnBookEvent in the EA): per symbol, CopyTicks from the cursor, skip
   * what was sent, emit the rest in `ticks` lines; then one backfill chunk. Returns ticks sent.
   */
  pump(): number {
    if (!this.welcome || this.halfOpen || !this.socket || this.socket.destroyed) return 0;
    let sent = 0;
    for (const s of this.syms.values()) sent += this.pumpSymbol(s);
    this.pumpBackfill();
    return sent;
  }

  private pumpSymbol(s: SimSymbol & { released: number; cursor: Cursor }): number {
    const [a, b] = this.copyTicks(s.sym, s.cursor.ms, this.o.passTicks + s.cursor.n);
    let batch: WireTick[] = [];
    let ms = -1, ord = 0, sent = 0;
    let cur = s.cursor;
    const flush = (): void => {
      if (!batch.length) return;
      this.send({ t: 'ticks', sym: s.sym, live: true, ts: batch, sent_ms: Date.now() });
      batch = [];
    };
    for (let i = a; i < b; i++) {
      const t = s.ticks[i];
      if (t.ms !== ms) { ms = t.ms; ord = 0; } else ord++;
      if (t.ms === cur.ms && ord < cur.n) continue; // already sent at the cursor's ms
      const off = this.offsetFn(t.utc);
      if (off !== this.announcedOff) { flush(); this.heartbeat(off); } // DST: announce before the first tick under the new offset
      batch.push([t.ms, ord, t.bid, t.ask, t.last, t.vol, t.flags]);
      cur = { ms: t.ms, n: ord + 1 };
      sent++;
      if (batch.length >= this.o.batchTicks) flush();
    }
    flush();
    s.cursor = cur;
    this.ticksSent += sent;
    return sent;
  }

  private pumpBackfill(): void {
    if (!this.bf) {
      const req = this.bfQueue.shift();
      if (!req) return;
      this.bf = { req, next: req.from_ms, i: 0, n: 0, begun: false };
    }
    const bf = this.bf;
    const { req } = bf;
    if (!bf.begun) { this.send({ t: 'bf_begin', id: req.id, sym: req.sym }); bf.begun = true; }
    const s = this.syms.get(req.sym);
    if (!s) { this.send({ t: 'bf_end', id: req.id, sym: req.sym, n: 0, complete: false, err: 4301, scanned_to: req.to_ms, exhausted: false }); this.bf = null; return; }
    // CopyTicksRange(sym, from=next, to=to_ms): one window per pass, cut on a millisecond boundary
    const [a, end] = this.copyTicks(s.sym, bf.next, Infinity);
    let b = a;
    while (b < end && s.ticks[b].ms <= req.to_ms) b++;
    const max = Math.min(this.o.chunkTicks, req.max - bf.n);
    let cut = Math.min(b, a + max);
    if (cut < b && cut > a) {
      const lastMs = s.ticks[cut - 1].ms;
      let k = cut;
      while (k > a && s.ticks[k - 1].ms === lastMs) k--;
      cut = k > a ? k : (() => { let j = cut; while (j < b && s.ticks[j].ms === lastMs) j++; return j; })();
    }
    if (cut > a) {
      const ts: WireTick[] = [];
      let ms = -1, ord = 0;
      for (let i = a; i < cut; i++) {
        const t = s.ticks[i];
        if (t.ms !== ms) { ms = t.ms; ord = 0; } else ord++;
        ts.push([t.ms, ord, t.bid, t.ask, t.last, t.vol, t.flags]);
      }
      this.send({ t: 'bf_chunk', id: req.id, sym: req.sym, i: bf.i++, ts });
      bf.n += ts.length;
      bf.next = s.ticks[cut - 1].ms + 1;
    }
    if (cut >= b || bf.n >= req.max) {
      const exhausted = s.released === 0 || s.ticks[0].ms >= req.from_ms;
      this.send({ t: 'bf_end', id: req.id, sym: req.sym, n: bf.n, complete: bf.n < req.max || cut >= b, scanned_to: cut >= b ? req.to_ms : bf.next - 1, exhausted });
      this.bf = null;
    }
  }

  /** Pump until every released tick is sent and no backfill is pending; honours socket backpressure. */
  async drain(): Promise<void> {
    for (;;) {
      const sock = this.socket;
      if (!sock || sock.destroyed || !this.welcome) return;
      if (sock.writableNeedDrain) {
        this.sendStalls++;
        await new Promise<void>((r) => {
          const done = (): void => { sock.off('drain', done); sock.off('close', done); r(); };
          sock.on('drain', done);
          sock.on('close', done);
        });
        continue;
      }
      const n = this.pump();
      if (n === 0 && !this.bf && this.bfQueue.length === 0) return;
      if (n === 0) await new Promise((r) => setImmediate(r));
    }
  }

  /** Resolves when the server acked every released tick of every symbol (or rejects after timeoutMs). */
  waitAcked(timeoutMs = 10_000): Promise<void> {
    const done = (): boolean => {
      // every line sent so far was processed and persisted
      if (!this.lastAck || this.lastAck.s < this.seq) return false;
      for (const s of this.syms.values()) {
        if (s.released === 0) continue;
        const last = s.ticks[s.released - 1];
        const [a, b] = this.copyTicks(s.sym, last.ms, Infinity);
        const c = this.acked.get(s.sym);
        if (!c || c[0] < last.ms || (c[0] === last.ms && c[1] < b - a - 1)) return false;
      }
      return true;
    };
    return this.waitFor('ack', done, timeoutMs);
  }

  /** Wait for an event for which `pred` holds (checked immediately too). */
  waitFor(event: string, pred: (...args: unknown[]) => boolean = () => true, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (event === 'ack' && pred()) { resolve(); return; }
      const t = setTimeout(() => { this.off(event, h); reject(new Error(`timeout waiting for ${event}`)); }, timeoutMs);
      const h = (...args: unknown[]): void => { if (pred(...args)) { clearTimeout(t); this.off(event, h); resolve(); } };
      this.on(event, h);
    });
  }

  // ---------------------------------------------------------------------------------------- faults

  /** Next message's sequence number jumps by n (the server sees a gap). */
  skipSeq(n = 1): void { this.skip += n; }
  /** Lose the next `ticks` line entirely (its seq number is consumed: a real gap). */
  loseNextTicksLine(): void { this.dropNextLine = true; }
  /** Go silent: no data and no heartbeats, incoming ignored, socket left open (half-open peer). */
  goHalfOpen(): void { this.halfOpen = true; this.stopTimers(); }
  /** Auto-pump pauses for ms (a stalled terminal). */
  stall(ms: number): void { this.stalledUntil = Date.now() + ms; }
  /** Write the first `bytes` bytes of the next ticks batch, then drop the connection. */
  dropMidBatch(sym: string, bytes = 40): void {
    const s = this.syms.get(sym)!;
    const [a, b] = this.copyTicks(sym, s.cursor.ms, this.o.batchTicks + s.cursor.n);
    const ts: WireTick[] = [];
    let ms = -1, ord = 0;
    for (let i = a; i < b; i++) {
      const t = s.ticks[i];
      if (t.ms !== ms) { ms = t.ms; ord = 0; } else ord++;
      if (t.ms === s.cursor.ms && ord < s.cursor.n) continue;
      ts.push([t.ms, ord, t.bid, t.ask, t.last, t.vol, t.flags]);
    }
    const line = Buffer.from(encodeLine({ t: 'ticks', s: this.seq + 1, sym, live: true, ts }), 'utf8');
    this.socket?.write(line.subarray(0, Math.min(bytes, line.length - 1)));
    this.disconnect();
  }
  /** A DOM image; `skip` bumps the per-symbol book sequence (a lost image). */
  sendBook(sym: string, bids: [string, string][], asks: [string, string][], ms: number, skip = 0): void {
    const bs = (this.bookSeq.get(sym) ?? 0) + 1 + skip;
    this.bookSeq.set(sym, bs);
    this.send({ t: 'book', sym, bs, ms, b: bids, a: asks });
  }
}

/**
 * OKX v5 public feed (`wss://ws.okx.com:8443/ws/v5/public`, no auth for market data).
 *
 * - Subscribe `{"op":"subscribe","args":[{"channel":"trades","instId":S}, {"channel":"books",…}, {"channel":"bbo-tbt",…}]}`.
 *   The text `ping` every 20 s is answered with the text `pong` (OKX closes a connection idle for 30 s).
 * - Books: OKX pushes a snapshot on subscribe, then updates chained by `prevSeqId` = previous `seqId`, each with
 *   a CRC-32 `checksum` of the top 25 levels (checked by the parser while OKX still fills it). A break or a
 *   checksum mismatch makes OkxSync ask for a resync: unsubscribe + subscribe `books`, OKX answers with a snapshot.
 * - Trades: `tradeId` per instrument; a bounded seen-set drops duplicates. After a reconnect or a restart (`resume`),
 *   `GET /api/v5/market/trades?instId=&limit=500` (newest first) backfills unseen trades at or after the last
 *   trade time while live trades are held; complete when its oldest row reaches back to that time.
 * - Instruments: `OKX:<instId>`; unknown ones are registered from `/api/v5/public/instruments` (tickSz, lotSz,
 *   ctVal; instType from the id: `-SWAP` → SWAP, a 6-digit expiry → FUTURES, else SPOT), else inferred from data.
 */
import type { InstrumentSpec } from '../../core/instruments.js';
import { SESSION_TEMPLATES } from '../../core/sessions.js';
import { normalizeDecimal } from '../../core/decimal.js';
import { BaseFeed, type ConnPlan } from '../../feeds/base.js';
import type { WsConn } from '../../feeds/ws.js';
import type { FeedOptions } from '../../feeds/types.js';
import { canonicalStep } from '../../feeds/util.js';
import { parseOkxFrame } from './parse.js';

type Obj = Record<string, unknown>;

export function okxInstType(instId: string): 'SPOT' | 'SWAP' | 'FUTURES' {
  if (instId.endsWith('-SWAP')) return 'SWAP';
  if (/-\d{6}$/.test(instId)) return 'FUTURES';
  return 'SPOT';
}

export class OkxFeed extends BaseFeed {
  private readonly lastTs = new Map<string, number>();
  private readonly pendingBook = new Set<string>();

  constructor(o: FeedOptions) {
    super(o, {
      wsUrl: 'wss://ws.okx.com:8443/ws/v5/public', restUrl: 'https://www.okx.com', weightPerMinute: 600, parserVenue: 'okx', parse: parseOkxFrame,
      appPing: { intervalMs: o.appPingMs ?? 20_000, message: () => 'ping' },
    });
  }

  protected override async prepare(): Promise<void> {
    const missing = this.symbols.filter((s) => !this.lookup(s));
    for (const type of [...new Set(missing.map(okxInstType))]) {
      const body = await this.retry(`instruments ${type}`, () => this.rest.getJson(`/api/v5/public/instruments?instType=${type}`, 1, this.abort.signal), 3);
      const list = ((body as { data?: Obj[] } | undefined)?.data ?? []) as Obj[];
      for (const s of missing.filter((x) => okxInstType(x) === type)) {
        const it = list.find((x) => x.instId === s);
        if (!it) { this.log.warn(`${this.name}: no instrument info for ${s}${body === undefined ? ' (REST unreachable)' : ''}; tick size will be inferred from the data`); continue; }
        const tick = canonicalStep(String(it.tickSz));
        const lot = canonicalStep(String(it.lotSz));
        const spec: InstrumentSpec = {
          id: `OKX:${s}`, symbol: s, venue: 'okx', assetClass: 'crypto',
          description: `${s} on OKX ${type} (tick ${tick}, lot ${lot} from /api/v5/public/instruments)`,
          tickSize: tick, lotStep: lot, profileRow: normalizeDecimal((Number(tick) * 10).toFixed(12)),
          contractSize: it.ctVal ? Number(it.ctVal) || 1 : 1, session: SESSION_TEMPLATES.crypto_24x7,
          thresholds: { absorptionMinVolume: 0, initiativeMinDelta: 0, auto: true }, flow: 'orderflow',
        };
        try { this.o.registry.add(spec); } catch (e) { this.log.warn(`${this.name}: cannot register ${s}: ${(e as Error).message}`); }
      }
    }
  }

  protected plan(): ConnPlan[] {
    const per = this.o.perConnection ?? 50;
    const out: ConnPlan[] = [];
    for (let i = 0; i < this.symbols.length; i += per) out.push({ symbols: this.symbols.slice(i, i + per), url: () => this.wsUrl });
    return out;
  }

  private sub(conn: WsConn, args: { channel: string; instId: string }[], op: 'subscribe' | 'unsubscribe' = 'subscribe'): void {
    if (args.length) conn.send(JSON.stringify({ op, args }));
  }

  /** A restart: trades after the stored last one (its own ms excluded: it is stored). */
  protected override resumeFrom(symbol: string, last: { id: number; ts: number }): void { this.lastTs.set(symbol, last.ts + 1); }

  protected onOpen(conn: WsConn, symbols: string[], reconnect: boolean): void {
    const again = symbols.filter((s) => (reconnect || this.resuming.delete(s)) && this.lastTs.has(s));
    for (const s of again) this.hold(s);
    const args: { channel: string; instId: string }[] = [];
    for (const s of symbols) {
      args.push({ channel: this.o.tradeStream === 'trade' ? 'trades-all' : 'trades', instId: s });
      if (this.o.depth !== false) { args.push({ channel: 'books', instId: s }); this.pendingBook.add(s); }
      if (this.o.bookTicker !== false) args.push({ channel: 'bbo-tbt', instId: s });
    }
    this.sub(conn, args);
    for (const s of again) void this.backfill(s);
  }

  protected onText(text: string, recv: number): void {
    if (text === 'pong') return;
    const o = this.parseText(text, recv);
    if (!o) return;
    if (o.event === 'error') { this.log.warn(`${this.name}: venue error ${String(o.code ?? '')}: ${String(o.msg ?? text.slice(0, 200))}`); return; }
    if (typeof o.event === 'string') return;
    const ch = (o.arg as Obj | undefined)?.channel;
    if (ch === 'trades' || ch === 'trades-all') { this.tradeFrame(o, recv); return; }
    this.ingest(o, recv);
  }

  private tradeFrame = (frame: unknown, recv: number): void => {
    const o = frame as Obj;
    const sym = String((o.arg as Obj)?.instId ?? '');
    if (this.isHeld(sym)) { this.queueHeld(sym, recv, frame); return; }
    const data = o.data;
    if (!Array.isArray(data)) { this.ingest(frame, recv); return; }
    const seen = this.seenOf(sym);
    const keep = (data as Obj[]).filter((t) => {
      const id = t?.tradeId === undefined ? undefined : String(t.tradeId);
      if (id !== undefined && seen.has(id)) { this.counters.duplicates++; return false; }
      return true;
    });
    if (keep.length === 0) return;
    for (const t of keep) {
      if (t?.tradeId !== undefined) seen.add(String(t.tradeId));
      const ts = Number(t?.ts);
      if (ts > (this.lastTs.get(sym) ?? -Infinity)) this.lastTs.set(sym, ts);
    }
    this.ingest(keep.length === data.length ? frame : { ...o, data: keep }, recv);
  };

  /** Recent trades after a reconnect (REST is newest first); unseen ones at or after the last trade time. */
  private async backfill(sym: string): Promise<void> {
    const inst = this.instrumentId(sym);
    const since = this.lastTs.get(sym) ?? 0;
    this.gap(inst, 'trades', 'trades may be missing while disconnected: backfilling from /api/v5/market/trades');
    const limit = 500;
    const body = await this.retry(`trades ${sym}`, () => this.rest.getJson(`/api/v5/market/trades?instId=${sym}&limit=${limit}`, 1, this.abort.signal), 5);
    if (this.stopped) return;
    const list = ((body as { data?: Obj[] } | undefined)?.data ?? []) as Obj[];
    const seen = this.seenOf(sym);
    const rows = list.filter((r) => Number(r.ts) >= since && !seen.has(String(r.tradeId))).sort((a, b) => Number(a.ts) - Number(b.ts) || Number(a.tradeId) - Number(b.tradeId));
    const oldest = list.length ? Math.min(...list.map((r) => Number(r.ts))) : Infinity;
    const complete = body !== undefined && (list.length < limit || oldest <= since);
    if (rows.length) {
      for (const r of rows) seen.add(String(r.tradeId));
      this.lastTs.set(sym, Math.max(since, Number(rows[rows.length - 1]!.ts)));
      this.ingest({ arg: { channel: 'trades', instId: sym }, data: rows.map((r) => ({ instId: sym, tradeId: String(r.tradeId), px: r.px, sz: r.sz, side: r.side, ts: String(r.ts) })), _backfill: true }, this.now());
    }
    this.counters.backfilled += rows.length;
    this.completeness.close(inst, 'trades', { recovered: rows.length, complete });
    this.release(sym, this.tradeFrame);
    this.emit('backfill', { symbol: sym, recovered: rows.length, complete });
  }

  protected override onSnapshotEvent(instrument: string): void {
    const sym = this.symbolOf(instrument);
    if (sym) this.pendingBook.delete(sym);
  }

  protected resyncBook(symbol: string): void {
    if (this.pendingBook.has(symbol)) return;
    const conn = this.conns.find((c) => c.symbols.includes(symbol))?.conn;
    if (!conn) return;
    this.pendingBook.add(symbol);
    this.counters.resyncs++;
    this.sub(conn, [{ channel: 'books', instId: symbol }], 'unsubscribe');
    this.sub(conn, [{ channel: 'books', instId: symbol }]);
  }
}

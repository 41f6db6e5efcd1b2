/**
 * Hyperliquid public feed (`wss://api.hyperliquid.xyz/ws`, no auth).
 *
 * - Subscribe per coin `{"method":"subscribe","subscription":{"type":"trades","coin":C}}` and `l2Book`;
 *   `{"method":"ping"}` every 30 s (the server closes connections silent for 60 s) is answered by
 *   `{"channel":"pong"}`. Coins are case-sensitive (`kPEPE`), so symbols are not upper-cased.
 * - Books: every l2Book is a full snapshot (no sequence); a reconnect simply delivers the next snapshot.
 * - Trades: `tid` per trade; a bounded seen-set drops the ones the venue repeats. Hyperliquid documents no
 *   public trade-history endpoint, so trades missed while disconnected cannot be fetched again: each
 *   reconnect, and the first connection after a restart (`resume`), records a `trades` gap with
 *   `complete: false` over the outage.
 */
import { BaseFeed, type ConnPlan } from '../../feeds/base.js';
import type { WsConn } from '../../feeds/ws.js';
import type { FeedOptions } from '../../feeds/types.js';
import { parseHyperliquidFrame } from './parse.js';

type Obj = Record<string, unknown>;

export class HyperliquidFeed extends BaseFeed {
  private readonly traded = new Set<string>();
  /** restart: time of the last stored trade per coin (the unrecoverable gap starts there) */
  private readonly resumedAt = new Map<string, number>();

  constructor(o: FeedOptions) {
    super(o, {
      wsUrl: 'wss://api.hyperliquid.xyz/ws', restUrl: 'https://api.hyperliquid.xyz', weightPerMinute: 1200, parserVenue: 'hyperliquid', parse: parseHyperliquidFrame,
      appPing: { intervalMs: o.appPingMs ?? 30_000, message: () => JSON.stringify({ method: 'ping' }) },
    });
  }

  protected override normalizeSymbol(s: string): string { return s.trim(); }

  protected plan(): ConnPlan[] {
    const per = this.o.perConnection ?? 50;
    const out: ConnPlan[] = [];
    for (let i = 0; i < this.symbols.length; i += per) out.push({ symbols: this.symbols.slice(i, i + per), url: () => this.wsUrl });
    return out;
  }

  private sub(conn: WsConn, type: string, coin: string, method: 'subscribe' | 'unsubscribe' = 'subscribe'): void {
    conn.send(JSON.stringify({ method, subscription: { type, coin } }));
  }

  protected onOpen(conn: WsConn, symbols: string[], reconnect: boolean): void {
    for (const s of symbols) {
      this.sub(conn, 'trades', s);
      if (this.o.depth !== false) this.sub(conn, 'l2Book', s);
      if (this.o.bookTicker === true) this.sub(conn, 'bbo', s);
      const inst = this.instrumentId(s);
      const resumed = this.resumedAt.get(s);
      if (resumed !== undefined && this.resuming.delete(s)) {
        this.resumedAt.delete(s);
        this.gap(inst, 'trades', 'trades since the last stored one cannot be recovered after a restart (Hyperliquid has no public trade history endpoint)', { from: resumed });
        this.completeness.close(inst, 'trades', { recovered: 0, complete: false });
      } else if (reconnect && this.traded.has(s)) {
        this.gap(inst, 'trades', 'trades while disconnected cannot be recovered (Hyperliquid has no public trade history endpoint)', { from: this.downSince(inst) });
        this.completeness.close(inst, 'trades', { recovered: 0, complete: false });
      }
    }
  }

  protected override resumeFrom(symbol: string, last: { id: number; ts: number }): void { this.resumedAt.set(symbol, last.ts); }

  protected onText(text: string, recv: number): void {
    const o = this.parseText(text, recv);
    if (!o) return;
    const ch = o.channel;
    if (ch === 'pong' || ch === 'subscriptionResponse') return;
    if (ch === 'error') { this.log.warn(`${this.name}: venue error: ${String(o.data ?? text.slice(0, 200))}`); return; }
    if (ch === 'trades' && Array.isArray(o.data)) {
      const data = o.data as Obj[];
      const keep = data.filter((t) => {
        const id = t?.tid === undefined ? undefined : `${String(t.coin)}:${String(t.tid)}`;
        if (id !== undefined && this.seenOf(String(t.coin)).has(id)) { this.counters.duplicates++; return false; }
        return true;
      });
      if (keep.length === 0) return;
      for (const t of keep) {
        if (t?.tid !== undefined) this.seenOf(String(t.coin)).add(`${String(t.coin)}:${String(t.tid)}`);
        if (typeof t?.coin === 'string') this.traded.add(t.coin);
      }
      this.ingest(keep.length === data.length ? o : { ...o, data: keep }, recv);
      return;
    }
    this.ingest(o, recv);
  }

  /** start of the disconnect that just ended (the base feed closed its gap before onOpen) */
  private downSince(inst: string): number {
    const g = this.completeness.report().find((c) => c.instrument === inst)?.gaps.filter((x) => x.kind === 'disconnect').pop();
    return g?.from ?? this.now();
  }

  /** l2Book pushes full snapshots: the next one resyncs by itself. */
  protected resyncBook(): void {}
}

/**
 * Coinbase Advanced Trade public feed (`wss://advanced-trade-ws.coinbase.com`, no auth for market data).
 *
 * - One subscribe message per channel: `heartbeats` (keeps the connection alive, 1/s), `market_trades`,
 *   `level2` (delivered as channel `l2_data`: a snapshot event, then update events).
 * - `sequence_num` numbers every message of the connection across channels (as we read the docs): a jump
 *   means lost messages → a `sequence` gap for every product of the connection, level2 resubscribed
 *   (fresh snapshot) and trades backfilled. Duplicates (sequence_num <= last) are dropped.
 * - Book events reach the engine's CoinbaseSync with a per-product sequence counted by this feed
 *   (snapshot = 1, +1 per update), so the sync's gap check only sees the book channel; after a
 *   connection gap the next update skips one number, which makes the sync break and drop updates until
 *   the new snapshot. (A replay of a recording sees the raw per-connection `sequence_num`.)
 * - Trades: `side` is the MAKER side; the parser turns it into the aggressor. Dedupe by `trade_id` per
 *   product; the subscribe snapshot (recent trades) and, after a gap or reconnect,
 *   `GET /api/v3/brokerage/market/products/{id}/ticker?limit=100` fill what is missing. We assume the REST
 *   `side` has the same (maker) meaning as the channel — unverified against the live venue.
 * - Public REST limit: 10 requests/s per IP (we budget 300/min).
 */
import type { MarketEvent } from '../../core/events.js';
import { BaseFeed, type ConnPlan } from '../../feeds/base.js';
import type { WsConn } from '../../feeds/ws.js';
import type { FeedOptions } from '../../feeds/types.js';
import { parseCoinbaseFrame } from './parse.js';

type Obj = Record<string, unknown>;

export class CoinbaseFeed extends BaseFeed {
  private readonly lastTs = new Map<string, number>();
  private readonly pendingBook = new Set<string>();
  private readonly bookSeq = new Map<string, number>();
  private readonly bookBroken = new Set<string>();
  private readonly connSeq = new Map<WsConn, number>();

  constructor(o: FeedOptions) {
    super(o, { wsUrl: 'wss://advanced-trade-ws.coinbase.com', restUrl: 'https://api.coinbase.com', weightPerMinute: 300, parserVenue: 'coinbase', parse: parseCoinbaseFrame, isHeartbeat: (t) => t.includes('"channel":"heartbeats"') });
  }

  protected plan(): ConnPlan[] {
    const per = this.o.perConnection ?? 50;
    const out: ConnPlan[] = [];
    for (let i = 0; i < this.symbols.length; i += per) out.push({ symbols: this.symbols.slice(i, i + per), url: () => this.wsUrl });
    return out;
  }

  private sub(conn: WsConn, channel: string, products: string[], type: 'subscribe' | 'unsubscribe' = 'subscribe'): void {
    conn.send(JSON.stringify({ type, product_ids: products, channel }));
  }

  protected onOpen(conn: WsConn, symbols: string[], reconnect: boolean): void {
    this.connSeq.delete(conn);
    this.sub(conn, 'heartbeats', symbols);
    // after a reconnect, or on the first connection after a restart: backfill since the last trade
    const again = symbols.filter((s) => (reconnect || this.resuming.delete(s)) && this.lastTs.has(s));
    for (const s of again) this.hold(s);
    this.sub(conn, 'market_trades', symbols);
    if (this.o.depth !== false) {
      for (const s of symbols) this.pendingBook.add(s);
      this.sub(conn, 'level2', symbols);
    }
    for (const s of again) void this.backfill(s, reconnect ? 'reconnect' : 'restart');
  }

  /** A restart: trades after the stored last one (its own ms excluded: it is stored). */
  protected override resumeFrom(symbol: string, last: { id: number; ts: number }): void { this.lastTs.set(symbol, last.ts + 1); }

  private connOf(symbol: string): WsConn | undefined {
    return this.conns.find((c) => c.symbols.includes(symbol))?.conn;
  }

  protected onText(text: string, recv: number, conn: WsConn, symbols: string[]): void {
    const o = this.parseText(text, recv);
    if (!o) return;
    const seq = o.sequence_num;
    if (typeof seq === 'number') {
      const last = this.connSeq.get(conn);
      if (last !== undefined && seq <= last) { this.counters.duplicates++; return; }
      this.connSeq.set(conn, seq);
      if (last !== undefined && seq > last + 1) this.connectionGap(last + 1, seq - 1, symbols);
    }
    const ch = o.channel;
    if (o.type === 'error') { this.log.warn(`${this.name}: venue error: ${String(o.message ?? text.slice(0, 200))}`); return; }
    if (ch === 'market_trades') { this.tradeFrame(o, recv); return; }
    if (ch === 'heartbeats' || ch === 'subscriptions') return;
    this.ingest(o, recv);
  }

  private connectionGap(from: number, to: number, symbols: string[]): void {
    for (const s of symbols) {
      this.gap(this.instrumentId(s), 'sequence', `sequence_num ${from}..${to} missing (${to - from + 1} messages)`);
      this.bookBroken.add(this.instrumentId(s));
      this.resyncBook(s);
      if (!this.isHeld(s)) { this.hold(s); void this.backfill(s, 'sequence gap'); }
    }
  }

  private tradeFrame = (frame: unknown, recv: number): void => {
    const o = frame as Obj;
    const events = o.events;
    if (!Array.isArray(events)) { this.ingest(frame, recv); return; }
    // Held products: queue the whole frame once per held product it mentions (frames are per product in practice).
    const products = new Set<string>();
    for (const ev of events as Obj[]) for (const t of (Array.isArray(ev?.trades) ? ev.trades : []) as Obj[]) if (typeof t?.product_id === 'string') products.add(t.product_id);
    for (const p of products) if (this.isHeld(p)) { this.queueHeld(p, recv, frame); return; }
    let changed = false;
    let kept = 0;
    const outEvents = (events as Obj[]).map((ev) => {
      const trades = ev?.trades;
      if (!Array.isArray(trades)) return ev;
      const keep: Obj[] = [];
      for (const t of trades as Obj[]) {
        const p = String(t?.product_id);
        const id = t?.trade_id === undefined ? undefined : String(t.trade_id);
        if (id !== undefined && this.seenOf(p).has(id)) { this.counters.duplicates++; changed = true; continue; }
        keep.push(t);
      }
      let sorted = keep;
      if (ev.type === 'snapshot' && keep.length > 1) {
        sorted = keep.slice().reverse().sort((a, b) => Date.parse(String(a.time)) - Date.parse(String(b.time)));
        changed = true;
      }
      for (const t of sorted) {
        const p = String(t?.product_id);
        if (t?.trade_id !== undefined) this.seenOf(p).add(String(t.trade_id));
        const ts = Date.parse(String(t?.time));
        if (ts > (this.lastTs.get(p) ?? -Infinity)) this.lastTs.set(p, ts);
      }
      kept += sorted.length;
      return sorted === trades ? ev : { ...ev, trades: sorted };
    });
    if (kept === 0 && changed) return;
    this.ingest(changed ? { ...o, events: outEvents } : frame, recv);
  };

  private async backfill(product: string, why: string): Promise<void> {
    const inst = this.instrumentId(product);
    const since = this.lastTs.get(product) ?? 0;
    this.gap(inst, 'trades', `trades may be missing (${why}): backfilling from the ticker endpoint`);
    const body = await this.retry(`ticker trades ${product}`, () => this.rest.getJson(`/api/v3/brokerage/market/products/${product}/ticker?limit=100`, 1, this.abort.signal), 5);
    if (this.stopped) return;
    const list = ((body as { trades?: Obj[] } | undefined)?.trades ?? []) as Obj[];
    const seen = this.seenOf(product);
    const rows = list.slice().reverse()
      .filter((r) => Date.parse(String(r.time)) >= since && !seen.has(String(r.trade_id)))
      .sort((a, b) => Date.parse(String(a.time)) - Date.parse(String(b.time)));
    const oldest = list.length ? Math.min(...list.map((r) => Date.parse(String(r.time)))) : Infinity;
    const complete = body !== undefined && (list.length < 100 || oldest <= since);
    if (rows.length) {
      const frame = {
        channel: 'market_trades', timestamp: new Date(this.now()).toISOString(), _backfill: true,
        events: [{ type: 'update', trades: rows.map((r) => ({ trade_id: String(r.trade_id), product_id: product, price: r.price, size: r.size, side: r.side, time: r.time })) }],
      };
      for (const r of rows) seen.add(String(r.trade_id));
      this.lastTs.set(product, Math.max(since, Date.parse(String(rows[rows.length - 1]!.time))));
      this.ingest(frame, this.now());
    }
    this.counters.backfilled += rows.length;
    this.completeness.close(inst, 'trades', { recovered: rows.length, complete });
    this.completeness.close(inst, 'sequence', { complete });
    this.release(product, this.tradeFrame);
    this.emit('backfill', { symbol: product, recovered: rows.length, complete });
  }

  protected override transform(ev: MarketEvent): void {
    if (ev.type === 'book_snapshot') {
      this.bookSeq.set(ev.instrument, 1);
      this.bookBroken.delete(ev.instrument);
      ev.seq = 1;
    } else if (ev.type === 'book_delta') {
      let n = (this.bookSeq.get(ev.instrument) ?? 0) + 1;
      if (this.bookBroken.delete(ev.instrument)) n++;
      this.bookSeq.set(ev.instrument, n);
      ev.seq = n;
      ev.firstSeq = n;
    }
  }

  protected override onSnapshotEvent(instrument: string): void {
    const sym = this.symbolOf(instrument);
    if (sym) this.pendingBook.delete(sym);
  }

  protected resyncBook(symbol: string): void {
    if (this.pendingBook.has(symbol)) return;
    const conn = this.connOf(symbol);
    if (!conn) return;
    this.pendingBook.add(symbol);
    this.counters.resyncs++;
    this.sub(conn, 'level2', [symbol], 'unsubscribe');
    this.sub(conn, 'level2', [symbol]);
  }
}

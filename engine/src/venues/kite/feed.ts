/**
 * Kite Ticker connection (`wss://ws.kite.trade?api_key=…&access_token=…`).
 *
 * - Credentials come from the environment (KITE_API_KEY, KITE_ACCESS_TOKEN) and never reach a log line: the
 *   logged URL is the root only.
 * - Symbols are `EXCHANGE:tradingsymbol` (NSE:RELIANCE) resolved through the instruments dump
 *   (KITE_INSTRUMENTS = path of the CSV from GET /instruments), or bare instrument tokens.
 * - On open: `{"a":"subscribe","v":[tokens]}` then `{"a":"mode","v":["full",[tokens]]}` (full: depth, OI,
 *   volume). Reconnects (jittered backoff, base feed) send both again: resubscribe.
 * - Binary frames: 1-byte heartbeats (liveness only), otherwise packets (parse.ts). Text frames:
 *   `{"type":"error","data":…}` is logged as a warning, `order` updates and `message`s at info; none carries
 *   market data.
 * - Kite serves no trade history: volume traded while disconnected arrives as ONE derived trade on the first
 *   snapshot after the reconnect (never twice), and the disconnect is a gap.
 */
import { readFileSync } from 'node:fs';
import { BaseFeed, type ConnPlan } from '../../feeds/base.js';
import type { WsConn } from '../../feeds/ws.js';
import type { FeedOptions } from '../../feeds/types.js';
import { parseKiteFrame, registerKiteInstruments } from './parse.js';
import { parseInstrumentsCsv, kiteId, type KiteInstrument } from './instruments.js';
import type { KiteMode } from './packets.js';
import { kiteState } from './parse.js';
import { DEFAULT_PCR_THRESHOLDS, istDay, selectChain, type PcrReport } from '../../signals/pcr.js';
import { kitePcrFor, type KitePcrSpec } from './pcr-state.js';

export interface KiteFeedOptions extends FeedOptions {
  apiKey?: string;
  accessToken?: string;
  /** instruments dump CSV text (default: read the file named by KITE_INSTRUMENTS) */
  instrumentsCsv?: string;
  mode?: KiteMode;
  env?: Record<string, string | undefined>;
}

export const KITE_WS = 'wss://ws.kite.trade';

export class KiteFeed extends BaseFeed {
  private readonly apiKey: string;
  private readonly accessToken: string;
  private readonly mode: KiteMode;
  private readonly dump: KiteInstrument[] = [];
  private readonly tokenOf = new Map<string, number>();
  readonly textMessages = { error: 0, order: 0, message: 0, other: 0 };
  /** options chain of the PCR (kite.pcr): tokens of its legs and of the underlying's price */
  private chain: { legs: KiteInstrument[]; expiries: string[]; spot: number | undefined; symbol: string } | null = null;

  constructor(o: KiteFeedOptions) {
    super(o, { wsUrl: KITE_WS, restUrl: 'https://api.kite.trade', weightPerMinute: 180, parserVenue: 'kite', parse: parseKiteFrame, isHeartbeatBinary: (b) => b.length === 1 });
    const env = o.env ?? process.env;
    this.apiKey = o.apiKey ?? env.KITE_API_KEY ?? '';
    this.accessToken = o.accessToken ?? env.KITE_ACCESS_TOKEN ?? '';
    this.mode = o.mode ?? o.kite?.mode ?? 'full';
    this.csv = o.instrumentsCsv;
    this.csvPath = env.KITE_INSTRUMENTS;
  }

  private readonly csv: string | undefined;
  private readonly csvPath: string | undefined;

  /** Credentials and the instruments dump are checked here: a missing one fails this feed's start with a clear error. */
  private load(): void {
    if (!this.apiKey || !this.accessToken) throw new Error('kite: KITE_API_KEY and KITE_ACCESS_TOKEN must be set in the environment (run `tapeflow kite login` for the access token)');
    const csv = this.csv ?? (this.csvPath ? readFileSync(this.csvPath, 'utf8') : undefined);
    if (csv !== undefined) {
      const d = parseInstrumentsCsv(csv);
      if (d.rejected.length) this.log.warn(`kite: ${d.rejected.length} instruments rows rejected (first: line ${d.rejected[0]![0]}: ${d.rejected[0]![1]})`);
      this.dump.push(...d.instruments);
    }
    for (const s of this.symbols) {
      const k = /^\d+$/.test(s) ? this.dump.find((x) => x.token === Number(s)) : this.dump.find((x) => `${x.exchange}:${x.tradingsymbol}`.toUpperCase() === s);
      if (k) this.tokenOf.set(s, k.token);
      else if (/^\d+$/.test(s)) this.tokenOf.set(s, Number(s));
      else throw new Error(`kite: symbol "${s}" is not in the instruments dump (set KITE_INSTRUMENTS to the CSV from GET /instruments, or give the instrument token)`);
    }
    const pc = this.o.kite?.pcr;
    if (pc) {
      const { expiries, legs } = selectChain(this.dump, pc.underlying, pc.expiry ?? 'nearest', istDay(this.now()));
      if (!legs.length) throw new Error(`kite.pcr: no ${pc.underlying} options for expiry ${JSON.stringify(pc.expiry ?? 'nearest')} in the instruments dump`);
      const spot = this.dump.find((x) => `${x.exchange}:${x.tradingsymbol}`.toUpperCase() === pc.spot.toUpperCase());
      if (!spot) this.log.warn(`kite.pcr: spot "${pc.spot}" is not in the instruments dump: near-the-money PCR unavailable`);
      this.chain = { legs, expiries, spot: spot?.token, symbol: kiteId(spot ?? legs[0]!) };
      this.log.info(`kite: PCR chain ${pc.underlying} ${expiries.join(',')}: ${legs.length} options in full mode`);
    }
  }

  /** only the instruments subscribed, so recordings stay small */
  private used(): KiteInstrument[] {
    const want = new Set([...this.tokenOf.values(), ...this.chainTokens()]);
    return this.dump.filter((k) => want.has(k.token));
  }

  private chainTokens(): number[] {
    if (!this.chain) return [];
    return [...this.chain.legs.map((l) => l.token), ...(this.chain.spot !== undefined ? [this.chain.spot] : [])];
  }

  /** The latest options-chain PCR (null without kite.pcr or before the first chain snapshot); computed by the parser (pcr-state.ts). */
  pcr(): PcrReport | null { return kiteState(this.ctx).pcr?.last ?? null; }

  /** The PCR that confirms an instrument's calls (seed preset BUY/SELL): see kitePcrFor. */
  pcrFor(instrument: string): PcrReport | null { return kitePcrFor(kiteState(this.ctx), instrument); }

  /** The instrument the PCR is published under (the chain's spot), known before the first report; null without kite.pcr. */
  pcrSymbol(): string | null { return this.chain?.symbol ?? null; }

  /** The chain as the parser computes it (written into the recording's instruments frame, so replays compute the same PCR). */
  private pcrSpec(): KitePcrSpec | null {
    const c = this.chain, pc = this.o.kite?.pcr;
    if (!c || !pc) return null;
    return { underlying: pc.underlying, expiries: c.expiries, legs: c.legs.map((l) => l.token), spot: c.spot ?? null, strikes: pc.strikes ?? 5, thresholds: { ...DEFAULT_PCR_THRESHOLDS, ...pc.thresholds }, symbol: c.symbol };
  }

  /** Publish the parser's PCR when the last message changed it. */
  private publishPcr(): void {
    const p = kiteState(this.ctx).pcr;
    if (!p?.changed || !p.last) return;
    p.changed = false;
    this.emit('pcr', p.last);
  }

  protected override async prepare(): Promise<void> {
    this.load();
    const rows = this.used();
    const holidays = this.o.kite?.holidays ?? [];
    const pcr = this.pcrSpec();
    if (rows.length) this.ingest({ kite: 'instruments', rows, ...(holidays.length ? { holidays } : {}), ...(pcr ? { pcr } : {}) }, this.now());
    else registerKiteInstruments(this.ctx, rows, holidays);
  }

  override instrumentId(symbol: string): string {
    const k = this.dump.find((x) => x.token === this.tokenOf.get(symbol));
    return k ? kiteId(k) : `KITE:${symbol}`;
  }

  protected plan(): ConnPlan[] {
    // credentials are query parameters of the URL the socket opens; logs name the root only
    const url = (): string => `${this.wsUrl}?api_key=${encodeURIComponent(this.apiKey)}&access_token=${encodeURIComponent(this.accessToken)}`;
    return [{ symbols: this.symbols, url }];
  }

  protected onOpen(conn: WsConn, symbols: string[]): void {
    const tokens = symbols.map((s) => this.tokenOf.get(s)!);
    const chain = this.chainTokens().filter((t) => !tokens.includes(t));
    conn.send(JSON.stringify({ a: 'subscribe', v: [...tokens, ...chain] }));
    conn.send(JSON.stringify({ a: 'mode', v: [this.mode, tokens] }));
    if (chain.length) conn.send(JSON.stringify({ a: 'mode', v: ['full', chain] }));
  }

  protected override onBinary(data: Uint8Array, recv: number): void {
    if (data.length === 1) return; // heartbeat
    // recordings hold JSON lines: binary frames are written base64 (parse.ts reads both forms)
    this.ingest(this.o.tap ? { kite: 'bin', b64: Buffer.from(data).toString('base64') } : data, recv);
    this.publishPcr();
  }

  protected onText(text: string, recv: number): void {
    const o = this.parseText(text, recv);
    if (!o) return;
    const type = String(o.type);
    if (type === 'error') { this.textMessages.error++; this.log.warn(`${this.name}: Kite error: ${String(o.data).slice(0, 300)}`); }
    else if (type === 'order') { this.textMessages.order++; this.log.info(`${this.name}: order update ${String((o.data as Record<string, unknown> | undefined)?.order_id ?? '')} ${String((o.data as Record<string, unknown> | undefined)?.status ?? '')}`); }
    else if (type === 'message') { this.textMessages.message++; this.log.info(`${this.name}: Kite message: ${String(o.data).slice(0, 300)}`); }
    else this.textMessages.other++;
    this.o.tap?.(recv, this.parserVenue, o);
  }

  /** every full packet carries the whole 5-level book: the next one resyncs by itself */
  protected resyncBook(): void {}
}

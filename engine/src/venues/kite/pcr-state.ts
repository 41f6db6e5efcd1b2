/**
 * The options-chain PCR inside the Kite parser state, so live feeds and replays compute it with the same code from
 * the same frames. The feed writes the chain (`pcr` of the instruments frame: underlying, expiries, leg and spot
 * tokens, strikes, thresholds, the publishing symbol) first to its recording; after each binary message that
 * touched the chain, the PCR is recomputed from the latest snapshots at most once a second of receive time (the
 * recorded receive time in a replay). `changed` tells the feed to publish.
 */
import { PcrSession, computePcr, samePcr, type PcrLeg, type PcrReport, type PcrThresholds } from '../../signals/pcr.js';
import { priceDecimals } from './packets.js';
import { kiteId } from './instruments.js';
import type { KiteParserState } from './parse.js';

export interface KitePcrSpec {
  underlying: string;
  expiries: string[];
  /** instrument tokens of the chain's calls and puts */
  legs: number[];
  /** token of the underlying's price (null: near-the-money PCR unavailable) */
  spot: number | null;
  strikes: number;
  thresholds: PcrThresholds;
  /** instrument the report is published under (the spot's id, else the first leg's) */
  symbol: string;
}

export interface KitePcrState {
  spec: KitePcrSpec;
  tokens: Set<number>;
  session: PcrSession;
  last: PcrReport | null;
  at: number;
  pending: boolean;
  /** set when `last` changed; the live feed publishes and clears it */
  changed: boolean;
  /** instrument id → whether this chain confirms it */
  confirms: Map<string, boolean>;
}

/** Problem with a recorded spec, or null. */
export function kitePcrSpecProblem(o: unknown): string | null {
  const s = o as Partial<KitePcrSpec> | null;
  if (!s || typeof s !== 'object') return 'pcr must be an object';
  if (typeof s.underlying !== 'string' || typeof s.symbol !== 'string') return 'pcr.underlying and pcr.symbol must be strings';
  if (!Array.isArray(s.expiries) || !Array.isArray(s.legs) || !s.legs.every((t) => Number.isSafeInteger(t))) return 'pcr.expiries and pcr.legs must be lists';
  if (s.spot !== null && !Number.isSafeInteger(s.spot)) return 'pcr.spot must be a token or null';
  if (!(typeof s.strikes === 'number' && s.strikes >= 0) || !s.thresholds || typeof s.thresholds !== 'object') return 'pcr.strikes and pcr.thresholds are required';
  return null;
}

export function setKitePcr(st: KiteParserState, spec: KitePcrSpec): void {
  st.pcr = { spec, tokens: new Set([...spec.legs, ...(spec.spot !== null ? [spec.spot] : [])]), session: new PcrSession(), last: null, at: -Infinity, pending: false, changed: false, confirms: new Map() };
}

/** After a binary message: recompute when a chain token was touched and a second has passed since the last report. */
export function updateKitePcr(st: KiteParserState, touched: readonly number[], recv: number): void {
  const p = st.pcr;
  if (!p) return;
  if (!p.pending) for (const t of touched) if (p.tokens.has(t)) { p.pending = true; break; }
  if (!p.pending || recv - p.at < 1000) return;
  const legs: PcrLeg[] = [];
  let ts = 0;
  for (const tok of p.spec.legs) {
    const s = st.snaps.get(tok), k = st.dump.get(tok);
    if (!s || !k) continue;
    legs.push({ strike: k.strike, type: k.type as 'CE' | 'PE', expiry: k.expiry, oi: s.oi, volume: s.volume });
    if (s.ts > ts) ts = s.ts;
  }
  if (!legs.length) return;
  p.at = recv;
  p.pending = false;
  const sp = p.spec.spot !== null ? st.snaps.get(p.spec.spot) : undefined;
  const spot = sp ? sp.last / 10 ** priceDecimals(sp.token & 0xff) : null;
  const r = p.session.report({ ...computePcr(p.spec.underlying, p.spec.expiries, legs, spot, p.spec.strikes, p.spec.thresholds, ts || recv), symbol: p.spec.symbol });
  if (!samePcr(p.last, r)) p.changed = true;
  p.last = r;
}

/**
 * The PCR that confirms an instrument's calls (seed preset BUY/SELL): the chain's report when the instrument is the
 * chain's spot or a non-option with the chain's underlying as its `name` in the dump (NIFTY futures for a NIFTY
 * chain, RELIANCE for a RELIANCE chain); null otherwise.
 */
export function kitePcrFor(st: KiteParserState, instrument: string): PcrReport | null {
  const p = st.pcr;
  if (!p || !p.last) return null;
  let hit = p.confirms.get(instrument);
  if (hit === undefined) {
    const u = p.spec.underlying.toUpperCase();
    hit = instrument === p.spec.symbol;
    if (!hit) for (const k of st.dump.values()) if (k.type !== 'CE' && k.type !== 'PE' && k.name.toUpperCase() === u && kiteId(k) === instrument) { hit = true; break; }
    p.confirms.set(instrument, hit);
  }
  return hit ? p.last : null;
}

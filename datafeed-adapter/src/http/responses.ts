/**
 * Response schemas of every route (zod), the source of the typed success responses in /openapi.json.
 * Prices are in price units, sizes in instrument units, API times in Unix ms (UDF: seconds). Objects are
 * "loose": the listed fields are guaranteed, providers may add more. tests/unit/units-walk.test.ts
 * parses every real answer of a replayed tape with these schemas, so the document cannot drift.
 */
import { z } from 'zod';

const price = z.number().describe('price units');
const size = z.number().describe('instrument units');
const ms = z.number().int().describe('Unix ms');
const nPrice = price.nullable();
const limits = z.array(z.string()).describe('what capped the answer (bars, trades, rows …); empty when complete');

// ───────────────────────────── shared pieces ─────────────────────────────

const Cvd = z.looseObject({ open: size, high: size, low: size, close: size });

export const FootprintRow = z.looseObject({
  price, bid: size.describe('sell-aggressor volume'), ask: size.describe('buy-aggressor volume'), unknown: size, bidTrades: z.number().int(), askTrades: z.number().int(), delta: size,
  imbalance: z.number().int().min(0).max(3).describe('imbalance flags: 1 buy (ask), 2 sell (bid), exact on lots with the engine options'),
}).meta({ id: 'FootprintRow' });

export const FootprintBar = z.looseObject({
  time: ms, end: ms.nullable(), closed: z.boolean(), session: z.string(),
  open: nPrice, high: nPrice, low: nPrice, close: nPrice,
  volume: size, buyVolume: size, sellVolume: size, unknownVolume: size, trades: z.number().int(), delta: size, deltaMin: size, deltaMax: size,
  cvd: Cvd, firstTs: ms, lastTs: ms,
  poc: nPrice.optional(), vah: nPrice.optional(), val: nPrice.optional(), buyImbalances: z.number().int().optional(), sellImbalances: z.number().int().optional(),
  stacked: z.array(z.looseObject({ side: z.enum(['buy', 'sell']), rows: z.number().int(), low: price, high: price })).optional(),
  rowSize: price.optional(), rows: z.array(FootprintRow).optional(),
}).meta({ id: 'FootprintBar' });

const Node = z.looseObject({ low: price, high: price, peak: price, volume: size.optional() });
export const Profile = z.looseObject({
  symbol: z.string(), type: z.string(), empty: z.boolean(), rowSize: price,
  poc: nPrice, vah: nPrice, val: nPrice, low: nPrice.optional(), high: nPrice.optional(),
  totalVolume: size.optional(), buyVolume: size.optional(), sellVolume: size.optional(), valueAreaVolume: size.optional(), shape: z.string().optional(),
  hvn: z.array(Node).optional(), lvn: z.array(Node).optional(),
  rows: z.array(z.looseObject({ price, volume: size, buy: size, sell: size })).optional(),
}).meta({ id: 'Profile' });

const Bands = z.looseObject({ anchor: ms, vwap: price, stdev: z.number(), upper: z.array(price), lower: z.array(price), volume: size });

export const SignalData = z.looseObject({
  id: z.string(), kind: z.string(), variant: z.string(), instrument: z.string(), side: z.enum(['buy', 'sell']),
  priceLow: price, priceHigh: price, strength: z.number(), firstSeenAt: ms, confirmedAt: ms,
  evidence: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])).describe('prices in price units, sizes in instrument units (see EVIDENCE_UNITS)'),
  reasoning: z.array(z.string()),
}).meta({ id: 'SignalData' });

export const Signal = z.looseObject({
  id: z.union([z.string(), z.number()]), instrument: z.string(), ts: ms, kind: z.string(), side: z.enum(['buy', 'sell']).optional(),
  price: price.optional(), text: z.string().optional(), data: z.unknown(),
}).meta({ id: 'Signal' });

const Bias = z.looseObject({ direction: z.enum(['long', 'short', 'neutral']), confidence: z.number(), shape: z.string(), transition: z.boolean(), acceptance: z.string(), warning: z.boolean(), reasoning: z.array(z.string()) }).meta({ id: 'Bias' });

const Position = z.looseObject({ id: z.string(), side: z.enum(['buy', 'sell']), entry: price, sl: price, tp: price, initialSl: price, exit: price.optional(), openedAt: ms, score: z.number(), grade: z.string(), level: z.looseObject({ kind: z.string(), price, strength: z.number() }).nullable(), reasoning: z.array(z.string()) }).meta({ id: 'Position' });

export const StrategyStatus = z.looseObject({
  instrument: z.string(), label: z.string(), state: z.string(), steps: z.array(z.looseObject({ name: z.string(), done: z.boolean(), detail: z.string() })),
  completedSteps: z.number().int(), priority: z.number(), price: nPrice, bias: Bias.nullable(), position: Position.nullable(), reasoning: z.array(z.string()),
}).meta({ id: 'StrategyStatus' });

const Level = z.looseObject({ kind: z.string(), price, strength: z.number(), sources: z.array(z.string()), merged: z.boolean(), confluence: z.boolean() }).meta({ id: 'QualifiedLevel' });

const InstrumentStats = z.looseObject({
  id: z.string(), symbol: z.string(), venue: z.string(), assetClass: z.string(), description: z.string(), tickSize: z.string(), lotStep: z.string(), flow: z.string(),
  session: z.string(), timezone: z.string(), depthLevels: z.number().int().nullable().optional().describe('levels a side the venue shows at most (Kite: 5); null = full book'), tradeProvenance: z.string().optional().describe('how trades were obtained when the venue prints none (Kite: "quote rule on snapshots")'), holidays: z.array(z.string()).optional().describe('local dates (YYYY-MM-DD) the session does not open, e.g. NSE holidays of a Kite feed'), active: z.boolean(),
  last: nPrice.optional(), open: nPrice.optional(), high: nPrice.optional(), low: nPrice.optional(), prevClose: nPrice.optional(), change: nPrice.optional(), changePct: z.number().nullable().optional(),
  sessionVolume: size.optional(), trades: z.number().int().optional(), totalVolume: size.optional(), cvd: size.optional(), vwap: nPrice.optional(), bars: z.number().int().optional(), lastTs: ms.nullable().optional(),
}).meta({ id: 'InstrumentStats' });

const LibrarySymbolInfo = z.looseObject({
  name: z.string(), ticker: z.string(), description: z.string(), type: z.string(), session: z.string(), timezone: z.string(), exchange: z.string(), listed_exchange: z.string(),
  format: z.string(), pricescale: z.number().int(), minmov: z.number(), has_intraday: z.boolean(), supported_resolutions: z.array(z.string()), volume_precision: z.number().int(),
  session_holidays: z.string().optional().describe('YYYYMMDD,YYYYMMDD: dates the session does not open'),
}).meta({ id: 'LibrarySymbolInfo' });

const BookLevel = z.looseObject({ price, size });
const Tuple = z.array(z.number()).describe('[price (price units), size (instrument units)]');

// ───────────────────────────── per route ─────────────────────────────

const UdfHistory = z.union([
  z.looseObject({ s: z.literal('ok'), t: z.array(z.number().int()).describe('Unix s'), o: z.array(price), h: z.array(price), l: z.array(price), c: z.array(price), v: z.array(size) }),
  z.looseObject({ s: z.literal('no_data'), nextTime: z.number().int().optional() }),
]).meta({ id: 'UdfHistory' });

const Mark = z.looseObject({ id: z.union([z.string(), z.number()]), time: z.number().int().describe('Unix s'), color: z.union([z.string(), z.looseObject({})]), label: z.string() });

const PcrSide = z.looseObject({ pcrOi: z.number().nullable(), pcrVolume: z.number().nullable(), putOi: z.number(), callOi: z.number(), putVolume: z.number(), callVolume: z.number() });
const PcrReport = z.looseObject({
  underlying: z.string(), symbol: z.string().nullable().describe('instrument the report is published under on the `pcr` WS channel (the chain\'s spot)'), expiries: z.array(z.string()), ts: ms, spot: z.number().nullable().describe('underlying price (price units)'), atmStrike: z.number().nullable(), strikes: z.number().int(),
  overall: PcrSide, nearAtm: PcrSide.extend({ strikeLow: z.number(), strikeHigh: z.number() }).nullable(),
  sessionOpenPcrOi: z.number().nullable(), changePcrOi: z.number().nullable(),
  bias: z.enum(['strong bearish', 'bearish', 'neutral', 'bullish', 'strong bullish']).nullable(),
  thresholds: z.looseObject({ strongBearish: z.number(), bearish: z.number(), bullish: z.number(), strongBullish: z.number() }), legs: z.number().int(), derivation: z.string(),
}).meta({ id: 'PcrReport' });

/** FlowSight rule-mode decision (docs/definitions/signals.md §6) */
const RuleDecision = z.looseObject({ timestamp: z.string(), symbol: z.string(), signal: z.enum(['LONG', 'SHORT', 'WAIT']), confidence: z.number().min(0).max(100), confidence_level: z.string(), price: z.number(), metrics: z.looseObject({}), session_active: z.boolean(), reasoning: z.array(z.string()) }).meta({ id: 'RuleDecision' });

/** Success response schema per route path. */
export const RESPONSES: Record<string, z.ZodType> = {
  '/config': z.looseObject({ supported_resolutions: z.array(z.string()), supports_search: z.boolean(), supports_group_request: z.boolean(), supports_marks: z.boolean(), supports_timescale_marks: z.boolean(), supports_time: z.boolean() }).meta({ id: 'UdfConfig' }),
  '/symbol_info': z.record(z.string(), z.array(z.unknown())).describe('UDF group symbol info: one array per field').meta({ id: 'UdfSymbolInfo' }),
  '/symbols': LibrarySymbolInfo,
  '/search': z.array(z.looseObject({ symbol: z.string(), description: z.string(), exchange: z.string(), type: z.string(), ticker: z.string() })),
  '/history': UdfHistory,
  '/marks': z.union([z.array(Mark.extend({ text: z.string() })), z.looseObject({ id: z.array(z.unknown()), time: z.array(z.number()) })]),
  '/timescale_marks': z.array(Mark.extend({ tooltip: z.array(z.string()) })),
  '/time': z.number().int().describe('Unix s'),
  '/quotes': z.looseObject({ s: z.string(), d: z.array(z.looseObject({ s: z.enum(['ok', 'error']), n: z.string(), v: z.looseObject({ lp: nPrice.optional(), ch: z.number().optional(), chp: z.number().optional(), bid: price.optional(), ask: price.optional(), volume: size.optional() }) })) }).meta({ id: 'UdfQuotes' }),
  '/api/v1/instruments': z.looseObject({ instruments: z.array(InstrumentStats) }),
  '/api/v1/instruments/{symbol}': InstrumentStats.extend({ symbolInfo: LibrarySymbolInfo }),
  '/api/v1/footprint': z.looseObject({ symbol: z.string(), agg: z.enum(['time', 'tick', 'volume']), limits, bars: z.array(FootprintBar) }),
  '/api/v1/profile': Profile,
  '/api/v1/delta': z.looseObject({ symbol: z.string(), resolution: z.string(), limits, bars: z.array(z.looseObject({ time: ms, delta: size, deltaMin: size, deltaMax: size, buyVolume: size, sellVolume: size, volume: size, cvdOpen: size, cvdHigh: size, cvdLow: size, cvdClose: size })) }),
  '/api/v1/vwap': z.looseObject({ symbol: z.string(), session: Bands.nullable(), anchored: z.looseObject({ anchor: ms, resolution: z.string(), complete: z.boolean(), current: Bands.nullable(), series: z.array(Bands.extend({ time: ms })) }).nullable().optional() }),
  '/api/v1/orderbook': z.looseObject({ symbol: z.string(), available: z.boolean(), depthLevels: z.number().int().nullable().describe('levels a side the venue shows at most (Kite: 5); book metrics are over those only; null = full book'), depthNote: z.string().optional(), snapshot: z.boolean(), ts: ms.nullable(), bids: z.array(BookLevel), asks: z.array(BookLevel) }),
  '/api/v1/orderbook/history': z.looseObject({ symbol: z.string(), available: z.boolean(), snapshots: z.array(z.looseObject({ ts: ms, bids: z.array(Tuple), asks: z.array(Tuple) })) }),
  '/api/v1/trades': z.looseObject({ symbol: z.string(), provenance: z.string().optional().describe('present when the venue prints no trades: how these were derived (Kite: "quote rule on snapshots")'), trades: z.array(z.looseObject({ ts: ms, id: z.number(), price, size, side: z.enum(['buy', 'sell', 'unknown']), sideSource: z.string(), cvd: size })) }),
  '/api/v1/signals': z.looseObject({ signals: z.array(Signal) }),
  '/api/v1/rule': z.looseObject({ symbol: z.string(), available: z.boolean(), rule: RuleDecision.nullable(), recent: z.array(RuleDecision) }),
  '/api/v1/bias': z.looseObject({ symbol: z.string(), available: z.boolean(), bias: Bias.nullable() }),
  '/api/v1/levels': z.looseObject({ symbol: z.string(), available: z.boolean(), levels: z.array(Level), session: z.looseObject({ key: z.string(), poc: nPrice, vah: nPrice, val: nPrice }).nullable(), vwap: nPrice }),
  '/api/v1/trade-state': z.looseObject({ symbol: z.string(), available: z.boolean(), state: StrategyStatus.nullable(), journal: z.array(z.looseObject({ ts: ms, kind: z.string(), data: z.unknown() })) }),
  '/api/v1/strategy': z.looseObject({ available: z.boolean(), strategies: z.array(StrategyStatus) }),
  '/api/v1/scanner': z.looseObject({ available: z.boolean(), rows: z.array(StrategyStatus) }),
  '/api/v1/paper': z.looseObject({ available: z.boolean(), symbol: z.string().nullable(), account: z.looseObject({ balance: z.number() }).nullable(), open: z.array(z.looseObject({ entry: price, qty: size })), fills: z.array(z.looseObject({ entry: price, exit: price, qty: size, pnl: z.number() })), analytics: z.looseObject({}).nullable() }),
  '/api/v1/merged': z.looseObject({ symbol: z.string(), merged: z.boolean(), venue: z.string().nullable(), cells: z.array(z.looseObject({ time: ms, price, buy: size, sell: size, unknown: size, trades: z.number().int() })) }),
  '/api/v1/pcr': z.looseObject({ available: z.boolean(), symbols: z.array(z.string()).describe('instruments the configured chains publish under on the `pcr` WS channel'), chains: z.array(PcrReport) }),
  '/api/v1/feeds': z.looseObject({ available: z.boolean(), feeds: z.array(z.looseObject({})), completeness: z.array(z.looseObject({})) }),
  '/api/v1/system': z.looseObject({ uptimeS: z.number(), events: z.number(), instruments: z.array(z.looseObject({ id: z.string(), timeframe: z.string(), bars: z.number().int(), trades: z.number().int() })) }),
  '/api/v1/health': z.looseObject({ status: z.string(), uptimeS: z.number(), events: z.number() }),
};

/**
 * `tapeflow/engine`: the engine as a Node library, so a script can replay files and read footprints,
 * profiles, delta and signals without a bundler. Everything here is the code the CLI runs.
 *
 *   import { Engine, InstrumentRegistry, replayFile } from 'tapeflow/engine';
 *   const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
 *   await replayFile('trades.csv', engine.onEvent, { registry: engine.registry, instrument: 'BTCUSDT' });
 *   engine.finish();
 *
 * Inside the engine prices are integer ticks and sizes integer lots; convert with
 * `instrument.price.toNumber(ticks)` / `instrument.qty.toNumber(lots)` (or read the HistoryService,
 * whose answers are already in price and instrument units).
 */
// pipeline
export { Engine, type EventObserver } from './analytics/engine.js';
export { InstrumentPipeline, DEFAULT_PIPELINE, type PipelineOptions, type ClosedBar, type PipelineCounters } from './analytics/pipeline.js';
export { FootprintBar } from './analytics/footprint.js';
export { VolumeProfile, type ProfileSummary } from './analytics/profile/volume-profile.js';
export { pipelineReport, type PipelineReport } from './analytics/report.js';
// instruments, events
export { InstrumentRegistry, resolveInstrument, type Instrument, type InstrumentSpec, type AssetClass } from './core/instruments.js';
export type { MarketEvent, Trade, Quote, BookSnapshot, BookDelta, Gap, Side, SideSource } from './core/events.js';
// replay readers
export { replayFile, replayFiles, detectFormat, instrumentFromFileName, FORMAT_NAMES, ReplayLineError } from './replay/index.js';
export type { FormatName, ReplayOptions, ReplayStats } from './replay/types.js';
// venues: one registry of parsers, book rules and live feeds
export { VENUES, LIVE_VENUES, findVenue, parserFor, parseVenueFrame, createFeed, venueFromUrl, venueFromFileName, type VenueDef } from './venues/registry.js';
// order books and signals
export { BookManager } from './book/manager.js';
export { SignalEngine, type SignalEngineOptions } from './signals/engine.js';
export type { SignalEvent, SignalKind } from './signals/types.js';
// configuration
export { loadConfig, buildRegistry, pipelineOptions, validateConfig, type TapeFlowConfig } from './config/index.js';
// the query layer the HTTP API uses (answers in price and instrument units)
export { HistoryService } from '../../datafeed-adapter/src/service/history.js';

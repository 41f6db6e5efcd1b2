/** TapeFlow MT5 bridge: server, protocol, symbol mapping, sinks, simulated EA and tick sources. */
export * from './protocol.js';
export { LineDecoder, type LineDecoderHandlers } from './line-decoder.js';
export { SymbolMapper, DEFAULT_ALIASES, fxCore, type SymbolMapOptions, type SymbolMapping, type MappingHow } from './symbols.js';
export { MemoryTickSink, type BridgeTick, type TickCursor, type TickSink } from './sink.js';
export { SqliteTickSink, type SqliteTickSinkOptions } from './sqlite-sink.js';
export { BridgeServer, type BridgeServerOptions, type BridgeStats } from './server.js';
export { SimulatedEA, type Mt5Tick, type SimSymbol, type SimEaOptions, type SymSpec } from './sim-ea.js';
export { forexSymbol, flaggedTape, simulatorSymbol, type FlaggedTapeOptions, type OffsetFn } from './sources.js';

/** Market simulator with labelled scripted events (see docs/simulator.md). Browser-safe. */
export { MarketSimulator, DEFAULT_FLOW } from './simulator.js';
export { runRealtime, type RealtimeOptions, type RealtimeHandle } from './realtime.js';
export { createDemoSimulators, DEMO_INSTRUMENTS, type DemoInstrument, type DemoOptions } from './demo.js';
export { EventChecksum, simChecksum } from './checksum.js';
export { Rng, DiscretePowerLaw, mixSeed } from './prng.js';
export { LevelBook, BID, ASK, type BookSide } from './book.js';
export { DEFAULT_SCRIPT_PARAMS, nominalDuration } from './scripts.js';
export * from './types.js';

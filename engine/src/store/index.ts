/** SQLite persistence (Node adapter): store, binary codec, engine recorder and restore. */
export * from './codec.js';
export * from './store.js';
export * from './recorder.js';

export { StreamServer, createStreamServer, type StreamServerOptions, type StreamServerStats, type TokenCheck } from './server.js';
export * from './protocol.js';
export { encode, decode, updateFrame } from './frames.js';
export { DEFAULT_INTERVALS, SNAPSHOT_LIMITS, mergeBar, dayStamp } from './topics.js';

/** Host-independent renderers (browser-safe; node-png.ts is the Node-only PNG entry). */
export * from './types.js';
export * from './theme.js';
export * from './prepare.js';
export * from './footprint.js';
export * from './profile.js';
export * from './static.js';
export * from './vwap.js';
export * from './dash.js';

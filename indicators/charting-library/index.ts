/** TapeFlow for the TradingView Charting Library (`tapeflow/indicators/charting-library`). */
export * from './types.js';
export * from './studies.js';
export * from './derived.js';
export * from './drawings.js';

/** Signals: typed detector events, framing, scoring, state machine, rule mode, evaluation, paper trading. */
export * from './types.js';
export * from './thresholds.js';
export * from './detectors.js';
export * from './framing.js';
export * from './scoring.js';
export * from './state.js';
export * from './rule-mode.js';
export * from './engine.js';
export * from './evaluate.js';
export * from './paper.js';

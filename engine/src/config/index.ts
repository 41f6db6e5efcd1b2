/** TapeFlow configuration: types, validation (pure), loading (Node) and the instrument registry built from it. */
export * from './types.js';
export { validateConfig, resolveSessionRef, instrumentSpec, isMultipleOf } from './validate.js';
export { buildRegistry } from './registry.js';
export { loadConfig, checkConfig, parseConfigText, applyEnv, DEFAULT_CONFIG_FILE, type ConfigCheck } from './load.js';
export { pipelineOptions, pipelineOptionsFrom } from './analytics.js';

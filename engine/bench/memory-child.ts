/**
 * One variant of the memory case in its own process (`dist/bench-memory.js`, spawned by
 * cases/memory.ts): a bundle of the engine alone, so the process's RSS is the engine's and not the
 * other bench cases' modules (HTTP servers, browsers, canvas), which dist/bench.js loads at start.
 */
import { benchMemoryChild } from './cases/memory.js';

await benchMemoryChild();

export * from './order-book.js';
export * from './sync.js';
export * from './mbo.js';
export * from './analytics.js';
export * from './level-flow.js';
export * from './depth-history.js';
export * from './iceberg.js';
export * from './institutional.js';

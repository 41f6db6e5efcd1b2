export * from './nodes.js';
export * from './volume-profile.js';
export * from './developing.js';
export * from './scopes.js';
export * from './naked-poc.js';

/** Telegram alerts (Node): payloads, HTML formatting, delivery policy, persistent outbox, sender, bot commands, service. */
export * from './types.js';
export * from './format.js';
export * from './chats.js';
export * from './policy.js';
export * from './queue.js';
export * from './sender.js';
export * from './commands.js';
export * from './chart.js';
export * from './capture.js';
export * from './core.js';
export * from './service.js';

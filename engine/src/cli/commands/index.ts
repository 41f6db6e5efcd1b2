/** Registry of CLI commands; add new command modules here. */
import type { Command } from '../command.js';
import { replayCommand } from './replay.js';
import { configCommand } from './config.js';

export const commands: Command[] = [
  replayCommand,
  configCommand,
];

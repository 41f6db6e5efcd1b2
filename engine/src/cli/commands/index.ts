/** Registry of CLI commands; add new command modules here. */
import type { Command } from '../command.js';

export const commands: Command[] = [];

/** Registry of CLI commands; add new command modules here. */
import type { Command } from '../command.js';
import { replayCommand } from './replay.js';
import { demoCommand } from './demo.js';
import { backtestCommand } from './backtest.js';
import { configCommand } from './config.js';
import { startCommand } from './start.js';
import { recordCommand } from './record.js';
import { mt5SimCommand } from './mt5-sim.js';
import { tokenCommand } from './token.js';
import { kiteCommand } from './kite.js';
import { clusterCommand } from './cluster.js';

export const commands: Command[] = [
  startCommand,
  replayCommand,
  demoCommand,
  backtestCommand,
  configCommand,
  mt5SimCommand,
  recordCommand,
  tokenCommand,
  kiteCommand,
  clusterCommand,
];

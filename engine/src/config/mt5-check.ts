/**
 * What `tapeflow start` would hit when it starts the MT5 bridge, found before it runs (config check
 * and loadConfig): the bridge's port taken by the HTTP server of the same config, and a tick database
 * path that cannot be created or written. The secret is checked with the other environment variables
 * (load.ts). A port held by another process is the environment at start time, not the file: start
 * exits non-zero on it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ConfigIssue, TapeFlowConfig } from './types.js';

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]']);
const loopback = (h: string): boolean => /^(localhost|::1|\[::1\]|127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.test(h.trim());

function sameInterface(a: string, b: string): boolean {
  const x = a.trim().toLowerCase(), y = b.trim().toLowerCase();
  return x === y || WILDCARD.has(x) || WILDCARD.has(y) || (loopback(x) && loopback(y));
}

/** stat, or undefined when nothing is there (ENOENT, or ENOTDIR: a file on the way) */
function stat(p: string): ReturnType<typeof statSync> | undefined {
  try { return statSync(p); } catch { return undefined; }
}

/** Why a file cannot be opened for writing (created with its directories when missing), or null. */
function unwritable(path: string): string | null {
  const st = stat(path);
  if (st) {
    if (st.isDirectory()) return 'is a directory';
    try { accessSync(path, constants.W_OK); } catch { return 'is not writable'; }
    return null;
  }
  let dir = dirname(path);
  for (;;) {
    const d = stat(dir);
    if (d) {
      if (!d.isDirectory()) return `cannot be created: ${dir} is not a directory`;
      try { accessSync(dir, constants.W_OK); } catch { return `cannot be created: ${dir} is not writable`; }
      return null;
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

export function mt5StartIssues(config: TapeFlowConfig, cwd = process.cwd()): ConfigIssue[] {
  const m = config.mt5;
  if (!m.enabled) return [];
  const issues: ConfigIssue[] = [];
  const srv = config.server;
  if (m.port !== 0 && m.port === srv.port && sameInterface(m.host, srv.host)) {
    issues.push({ path: 'mt5.port', message: `${m.port} is also server.port on ${srv.host}: the bridge and the HTTP server cannot listen on one port` });
  }
  const db = resolve(cwd, m.dbPath ?? join(dirname(config.store.path), 'mt5-ticks.sqlite'));
  const why = unwritable(db);
  if (why) issues.push({ path: m.dbPath ? 'mt5.dbPath' : 'store.path', message: `the bridge's tick database ${db} ${why}${m.dbPath ? '' : ' (mt5.dbPath defaults to mt5-ticks.sqlite next to store.path)'}` });
  return issues;
}

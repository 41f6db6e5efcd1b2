/**
 * Node-side config loading: find and read the YAML file, validate it, apply environment settings
 * (TAPEFLOW_LOG_LEVEL, TAPEFLOW_LOG_FORMAT) and check that referenced secret variables are set.
 */
import { readFile, access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { isLogFormat, isLogLevel, LOG_FORMATS, LOG_LEVELS } from '../log.js';
import { mt5StartIssues } from './mt5-check.js';
import { validateConfig } from './validate.js';
import { ConfigError, defaultConfig, type ConfigIssue, type TapeFlowConfig } from './types.js';

export const DEFAULT_CONFIG_FILE = 'tapeflow.config.yaml';

type Env = Record<string, string | undefined>;

export interface ConfigCheck {
  /** the file read, or null when none was given or found (defaults) */
  file: string | null;
  config?: TapeFlowConfig;
  issues: ConfigIssue[];
}

async function exists(p: string): Promise<boolean> {
  try { await access(p); return true; } catch { return false; }
}

/** Parse YAML text and validate it; YAML syntax errors are reported with line and column. */
export function parseConfigText(text: string): { config?: TapeFlowConfig; errors: ConfigIssue[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    return {
      errors: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos ? `line ${pos.line}, column ${pos.col}` : 'YAML';
        return { path: `(yaml ${where})`, message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '') };
      }),
    };
  }
  return validateConfig(doc.toJS({ maxAliasCount: 100 }));
}

/** Settings and checks that need the environment: log overrides and presence of secret variables. */
/** Telegram's rule for a webhook secret_token */
const WEBHOOK_SECRET = /^[A-Za-z0-9_-]{1,256}$/;

export function applyEnv(config: TapeFlowConfig, env: Env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const lvl = env.TAPEFLOW_LOG_LEVEL?.trim().toLowerCase();
  if (lvl) {
    if (isLogLevel(lvl)) config.log.level = lvl;
    else issues.push({ path: 'env TAPEFLOW_LOG_LEVEL', message: `must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(env.TAPEFLOW_LOG_LEVEL)}` });
  }
  const fmt = env.TAPEFLOW_LOG_FORMAT?.trim().toLowerCase();
  if (fmt) {
    if (isLogFormat(fmt)) config.log.format = fmt;
    else issues.push({ path: 'env TAPEFLOW_LOG_FORMAT', message: `must be one of ${LOG_FORMATS.join(', ')}; got ${JSON.stringify(env.TAPEFLOW_LOG_FORMAT)}` });
  }
  const tg = config.alerts.telegram;
  if (tg.enabled && !env[tg.tokenEnv]) {
    issues.push({ path: 'alerts.telegram.tokenEnv', message: `telegram is enabled but environment variable ${tg.tokenEnv} is not set` });
  }
  if (tg.enabled && tg.commands === 'webhook') {
    const secret = env[tg.webhook.secretEnv];
    if (!secret) issues.push({ path: 'alerts.telegram.webhook.secretEnv', message: `commands is webhook but environment variable ${tg.webhook.secretEnv} (the webhook secret) is not set` });
    else if (!WEBHOOK_SECRET.test(secret)) issues.push({ path: 'alerts.telegram.webhook.secretEnv', message: `environment variable ${tg.webhook.secretEnv} must be 1–256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule for secret_token)` });
  }
  if (tg.enabled && tg.chatIdsEnv && env[tg.chatIdsEnv] !== undefined) {
    const bad = env[tg.chatIdsEnv]!.split(',').map((s) => s.trim()).filter((s) => s && !/^-?\d+$/.test(s));
    if (bad.length) issues.push({ path: 'alerts.telegram.chatIdsEnv', message: `environment variable ${tg.chatIdsEnv} must be comma-separated numeric chat ids; bad: ${bad.join(', ')}` });
  }
  if (config.mt5.enabled && !env[config.mt5.secretEnv]) {
    issues.push({ path: 'mt5.secretEnv', message: `mt5.enabled is true but environment variable ${config.mt5.secretEnv} (the EA's shared secret, InpSecret) is not set` });
  }
  const auth = config.server.authTokenEnv;
  if (auth && !env[auth]) {
    issues.push({ path: 'server.authTokenEnv', message: `environment variable ${auth} is not set (unset authTokenEnv to run without API auth)` });
  }
  const jwt = config.server.jwt;
  if (jwt && !env[jwt.secretEnv]) issues.push({ path: 'server.jwt.secretEnv', message: `environment variable ${jwt.secretEnv} is not set (it holds the secret that signs short-lived tokens)` });
  else if (jwt && env[jwt.secretEnv]!.length < 32) issues.push({ path: 'server.jwt.secretEnv', message: `the secret in ${jwt.secretEnv} is shorter than 32 characters` });
  if (config.server.protect === 'all' && !auth && !jwt) issues.push({ path: 'server.protect', message: 'protect: all needs a token (server.authTokenEnv or server.jwt)' });
  const wildcard = !isLoopbackName(config.server.host);
  if (wildcard && !auth && !jwt && !config.server.allowNoAuth) {
    issues.push({ path: 'server.host', message: `listening on ${config.server.host} needs a token (server.authTokenEnv or server.jwt); set server.allowNoAuth: true to listen without one` });
  }
  return issues;
}

/**
 * Locate, read and validate a config without throwing. With no path: $TAPEFLOW_CONFIG, else
 * ./tapeflow.config.yaml when it exists, else the defaults.
 */
export async function checkConfig(path?: string, env: Env = process.env, cwd = process.cwd()): Promise<ConfigCheck> {
  let file: string | null = null;
  if (path) file = resolve(cwd, path);
  else if (env.TAPEFLOW_CONFIG) file = resolve(cwd, env.TAPEFLOW_CONFIG);
  else if (await exists(resolve(cwd, DEFAULT_CONFIG_FILE))) file = resolve(cwd, DEFAULT_CONFIG_FILE);
  if (file === null) {
    const config = defaultConfig();
    return { file, config, issues: applyEnv(config, env) };
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { file, issues: [{ path: '(file)', message: code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message}` }] };
  }
  const { config, errors } = parseConfigText(text);
  if (!config) return { file, issues: errors };
  config.source = file;
  const envIssues = [...applyEnv(config, env), ...mt5StartIssues(config, cwd)];
  return envIssues.length ? { file, issues: envIssues } : { file, config, issues: [] };
}

/** Load and validate the config; throws ConfigError listing every problem. */
export async function loadConfig(path?: string, env: Env = process.env): Promise<TapeFlowConfig> {
  const r = await checkConfig(path, env);
  if (!r.config || r.issues.length) throw new ConfigError(r.issues, r.file);
  return r.config;
}

/** Loopback listen addresses (127.0.0.0/8, ::1, localhost). */
function isLoopbackName(h: string): boolean {
  const x = h.trim().replace(/^\[|\]$/g, '').toLowerCase();
  return x === 'localhost' || x === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(x);
}

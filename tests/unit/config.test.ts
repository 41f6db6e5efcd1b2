import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ConfigError, buildRegistry, checkConfig, defaultConfig, isMultipleOf, loadConfig, parseConfigText, pipelineOptions, validateConfig,
  type ConfigIssue,
} from '../../engine/src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tapeflow-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const p = join(dir, `c${++n}.yaml`);
  writeFileSync(p, text);
  return p;
}
const v = (yamlText: string): ConfigIssue[] => validateConfig(parse(yamlText)).errors;
const msgs = (issues: ConfigIssue[]): string[] => issues.map((i) => `${i.path}: ${i.message}`);

const SHIPPED = resolve(__dirname, '../../tapeflow.config.yaml');

describe('valid configs and defaults', () => {
  it('a minimal file loads with every default applied', async () => {
    const c = await loadConfig(file('feeds:\n  - venue: bybit\n    symbols: [BTCUSDT]\n'), {});
    const d = defaultConfig();
    expect(c.feeds).toEqual([{ venue: 'bybit', symbols: ['BTCUSDT'], enabled: true }]);
    expect(c.server).toEqual({ host: '127.0.0.1', port: 8080, cors: { origins: [] }, protect: 'api', allowedHosts: [], allowNoAuth: false, authThrottle: { maxFailures: 10, windowS: 60, lockS: 60 } });
    expect(c.store).toEqual({ path: './data/tapeflow.sqlite' });
    expect(c.alerts.telegram).toEqual({
      enabled: false, tokenEnv: 'TELEGRAM_BOT_TOKEN', charts: true, commands: 'polling',
      kinds: ['entry', 'break_even', 'trail', 'exit', 'exit_warning', 'daily_bias', 'rule', 'sweep', 'pcr'],
      webhook: { path: '/telegram/webhook', secretEnv: 'TELEGRAM_WEBHOOK_SECRET' },
    });
    expect(c.alerts.telegram.dbPath).toBeUndefined(); // alerts.sqlite next to store.path
    expect(c.analytics).toEqual({
      timeframe: '1m', valueAreaPct: 0.7, stackedMinRows: 3, cvdReset: 'session', barMemoryMB: 64,
      imbalance: { ratio: 3, compare: 'diagonal', minDominant: 0, minOther: 0, zeroPolicy: 'imbalance', metric: 'volume' },
    });
    expect(c.log).toEqual({ level: 'info', format: 'human' });
    expect(c.instruments).toEqual([]);
    expect(c.sessions).toEqual({});
    expect(c.source).toMatch(/c\d+\.yaml$/);
    expect({ ...c, feeds: [], source: null }).toEqual(d);
  });

  it('partial sections merge with defaults; null sections mean defaults', () => {
    const r = validateConfig(parse('server:\n  port: 9001\nanalytics:\n  imbalance:\n    ratio: 4\nalerts:\nlog:\n'));
    expect(r.errors).toEqual([]);
    expect(r.config!.server).toEqual({ host: '127.0.0.1', port: 9001, cors: { origins: [] }, protect: 'api', allowedHosts: [], allowNoAuth: false, authThrottle: { maxFailures: 10, windowS: 60, lockS: 60 } });
    expect(r.config!.analytics.imbalance).toEqual({ ratio: 4, compare: 'diagonal', minDominant: 0, minOther: 0, zeroPolicy: 'imbalance', metric: 'volume' });
    expect(r.config!.alerts.telegram.tokenEnv).toBe('TELEGRAM_BOT_TOKEN');
  });

  it('an empty document or no file at all gives the defaults', async () => {
    expect(validateConfig(null)).toEqual({ config: defaultConfig(), errors: [] });
    expect(parseConfigText('# only comments\n')).toEqual({ config: defaultConfig(), errors: [] });
    const empty = mkdtempSync(join(dir, 'empty-'));
    const r = await checkConfig(undefined, {}, empty);
    expect(r.file).toBeNull();
    expect(r.config).toEqual(defaultConfig());
  });

  it('finds ./tapeflow.config.yaml in the working directory, or $TAPEFLOW_CONFIG', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, 'tapeflow.config.yaml'), 'server:\n  port: 7000\n');
    const r = await checkConfig(undefined, {}, cwd);
    expect(r.file).toBe(join(cwd, 'tapeflow.config.yaml'));
    expect(r.config!.server.port).toBe(7000);
    const other = file('server:\n  port: 7001\n');
    expect((await checkConfig(undefined, { TAPEFLOW_CONFIG: other }, cwd)).config!.server.port).toBe(7001);
  });

  it('the shipped tapeflow.config.yaml validates: Binance USD-M BTCUSDT+ETHUSDT, 127.0.0.1:8080, SQLite, telegram off', async () => {
    const c = await loadConfig(SHIPPED, {});
    expect(c.feeds).toEqual([{ venue: 'binance-usdm', symbols: ['BTCUSDT', 'ETHUSDT'], enabled: true }]);
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.server.port).toBe(8080);
    expect(c.store.path).toBe('./data/tapeflow.sqlite');
    expect(c.alerts.telegram.enabled).toBe(false);
    const reg = buildRegistry(c);
    expect(reg.get('BTCUSDT').venue).toBe('binance-usdm');
    expect(reg.get('ETHUSDT').tickSize).toBe('0.01');
  });

  it('the commented examples in the shipped file are valid when uncommented', () => {
    const text = readFileSync(SHIPPED, 'utf8');
    const uncommented = text
      .replace(/^instruments: \[\]$/m, 'instruments:').replace(/^sessions: \{\}$/m, 'sessions:').replace(/^merged: \[\]/m, 'merged:')
      .split('\n').map((l) => l.replace(/^(\s+)# (?=\s*(?:- |[A-Za-z_]+:))/, '$1')).join('\n');
    const r = parseConfigText(uncommented);
    expect(msgs(r.errors)).toEqual([]);
    expect(r.config!.instruments.map((i) => i.id)).toEqual(['BTCUSDT', 'NAS100', 'US30.cash']);
    expect(r.config!.feeds.map((f) => f.venue)).toEqual(['binance-usdm', 'coinbase', 'kite']);
    expect(r.config!.server.authTokenEnv).toBe('TAPEFLOW_API_TOKEN');
    expect(r.config!.alerts.telegram.allowChatIds).toEqual([]); // shipped explicitly empty: only the chatIdsEnv chats may subscribe
    expect(r.config!.alerts.telegram.outboxTtlHours).toBe(24);
    expect(buildRegistry(r.config!).get('NAS100').session.name).toBe('ny_overnight');
    expect(r.config!.merged).toEqual([{ id: 'BTC-AGG', sources: ['BTCUSDT', 'BYBIT:BTCUSDT', 'COINBASE:BTC-USD'], row: '5' }]);
  });

  it('paper, merged and mt5 sections: defaults and key-path errors', () => {
    const d = parseConfigText('');
    expect(d.config!.paper).toMatchObject({ enabled: true, initialBalance: 10000, maxPositionPct: 2, maxExposurePct: 10, dailyLossPct: 5 });
    expect(d.config!.mt5).toMatchObject({ enabled: false, host: '127.0.0.1', port: 9100, secretEnv: 'TAPEFLOW_MT5_SECRET' });
    expect(d.config!.merged).toEqual([]);
    expect(msgs(v('paper:\n  initialBalance: -5\nmerged:\n  - sources: [A, B]\nmt5:\n  port: 70000\n  secret: x\n')).sort()).toEqual([
      'merged[0].id: required key is missing',
      'mt5.port: out of range: 70000 is above the maximum 65535',
      'mt5.secret: secrets come from environment variables: use secretEnv',
      'paper.initialBalance: out of range: must be greater than 0, got -5',
    ].sort());
  });
});

describe('each error class names its key path', () => {
  it('wrong type', () => {
    expect(msgs(v('server:\n  port: "eighty"\n'))).toEqual(['server.port: expected a number, got string "eighty"']);
    expect(msgs(v('feeds: {venue: bybit}\n'))).toEqual(['feeds: expected a list, got a map']);
    expect(msgs(v('alerts:\n  telegram:\n    enabled: yes\n'))).toEqual(['alerts.telegram.enabled: expected true or false, got string "yes"']);
  });

  it('unknown key, with a suggestion for typos', () => {
    expect(msgs(v('server:\n  prot: 8080\n'))).toEqual(['server.prot: unknown key (did you mean "port"?)']);
    expect(msgs(v('instrument: []\n'))).toEqual(['instrument: unknown key (did you mean "instruments"?)']);
    expect(msgs(v('instruments:\n  - id: BTCUSDT\n    tikSize: "0.1"\n'))).toEqual(['instruments[0].tikSize: unknown key (did you mean "tickSize"?)']);
    expect(v('store:\n  zzz: 1\n')[0].message).toBe('unknown key (allowed: path, retentionDays, maxQueuedOps)');
  });

  it('out of range', () => {
    expect(msgs(v('server:\n  port: 70000\n'))).toEqual(['server.port: out of range: 70000 is above the maximum 65535']);
    expect(msgs(v('analytics:\n  valueAreaPct: 1.5\n'))).toEqual(['analytics.valueAreaPct: out of range: 1.5 is above the maximum 1']);
    expect(msgs(v('analytics:\n  barMemoryMB: 2\n'))).toEqual(['analytics.barMemoryMB: out of range: 2 is below the minimum 8']);
    expect(msgs(v('analytics:\n  barMemoryMB: lots\n'))).toHaveLength(1);
    expect(msgs(v('analytics:\n  valueAreaPct: 0\n'))).toEqual(['analytics.valueAreaPct: out of range: must be greater than 0, got 0']);
    expect(msgs(v('analytics:\n  stackedMinRows: 2.5\n'))).toEqual(['analytics.stackedMinRows: expected a whole number, got 2.5']);
    expect(msgs(v('instruments:\n  - id: BTCUSDT\n    tickSize: "0"\n'))).toEqual(['instruments[0].tickSize: out of range: must be greater than 0, got "0"']);
  });

  it('enum values', () => {
    expect(msgs(v('feeds:\n  - venue: binance-usd\n    symbols: [BTCUSDT]\n'))).toEqual([
      'feeds[0].venue: must be one of binance-usdm, binance-spot, binance-coinm, bybit, bybit-spot, coinbase, okx, hyperliquid, kite, mt5, replay, simulator; got "binance-usd" (did you mean "binance-usdm"?)',
    ]);
    expect(msgs(v('analytics:\n  imbalance:\n    compare: diagonl\n'))).toEqual(['analytics.imbalance.compare: must be one of diagonal, horizontal; got "diagonl" (did you mean "diagonal"?)']);
  });

  it('not a multiple of tick size (the key the user wrote, or tickSize when a built-in row no longer fits)', () => {
    expect(msgs(v('instruments:\n  - id: BTCUSDT\n    profileRow: "10.05"\n'))).toEqual(['instruments[0].profileRow: 10.05 is not a multiple of tick size 0.10']);
    expect(msgs(v('instruments:\n  - id: ETHUSDT\n    tickSize: "0.3"\n'))).toEqual([
      'instruments[0].tickSize: the built-in profileRow 1.0 is not a multiple of tick size 0.3; set profileRow too',
      'instruments[0].tickSize: the built-in footprintRow 0.5 is not a multiple of tick size 0.3; set footprintRow too',
    ]);
    expect(v('instruments:\n  - id: ETHUSDT\n    tickSize: "0.25"\n    profileRow: "1.0"\n')).toEqual([]);
    expect(isMultipleOf('10.0', '0.10')).toBe(true);
    expect(isMultipleOf('0.0005', '0.00001')).toBe(true);
    expect(isMultipleOf('0.00055', '0.0001')).toBe(false);
  });

  it('unknown session template and unknown time zone', () => {
    expect(msgs(v('instruments:\n  - id: NAS100\n    session: nycash\n'))).toEqual([
      'instruments[0].session: unknown session template "nycash" (did you mean "ny_cash"?); known: asian, london, ny_cash, full_day, crypto_24x7',
    ]);
    expect(msgs(v('sessions:\n  tokyo_am:\n    timezone: Asia/Tokio\n    start: "09:00"\n    end: "11:30"\n'))).toEqual([
      'sessions.tokyo_am.timezone: unknown time zone "Asia/Tokio" (use an IANA name such as America/New_York)',
    ]);
    expect(msgs(v('instruments:\n  - id: DAX40\n    session: {timezone: Europe/Berln, start: "08:00", end: "25:00"}\n'))).toEqual([
      'instruments[0].session.timezone: unknown time zone "Europe/Berln" (use an IANA name such as America/New_York)',
      'instruments[0].session.end: invalid time "25:00": expected 00:00 to 24:00',
    ]);
  });

  it('new instruments need their grid; duplicate and case-twin ids are rejected', () => {
    expect(msgs(v('instruments:\n  - id: GER40\n    tickSize: "0.5"\n'))).toEqual([
      'instruments[0].assetClass: required for a new instrument ("GER40" is not a built-in id)',
      'instruments[0].lotStep: required for a new instrument ("GER40" is not a built-in id)',
      'instruments[0].profileRow: required for a new instrument ("GER40" is not a built-in id)',
    ]);
    expect(msgs(v('instruments:\n  - id: BTCUSDT\n  - id: ETHUSDT\n  - id: BTCUSDT\n'))).toEqual([
      'instruments[2].id: duplicate id "BTCUSDT" (already configured at instruments[0])',
    ]);
    expect(msgs(v('instruments:\n  - id: btcusdt\n'))).toEqual([
      'instruments[0].id: unknown instrument id "btcusdt": ids are case-sensitive (did you mean the built-in "BTCUSDT"?)',
    ]);
    expect(msgs(v('instruments:\n  - tickSize: "1"\n'))).toEqual(['instruments[0].id: required key is missing']);
  });

  it('feed details: empty or duplicate symbols, URL schemes', () => {
    expect(msgs(v('feeds:\n  - venue: coinbase\n    symbols: []\n    wsUrl: https://x.example\n  - venue: bybit\n    symbols: [BTCUSDT, BTCUSDT]\n    restUrl: "not a url"\n'))).toEqual([
      'feeds[0].symbols: expected at least 1 item, got 0',
      'feeds[0].wsUrl: wsUrl must start with ws:// or wss://; got "https://x.example"',
      'feeds[1].symbols[1]: duplicate symbol "BTCUSDT"',
      'feeds[1].restUrl: not a valid URL: "not a url"',
    ]);
    expect(msgs(v('feeds:\n  - symbols: [X]\n'))).toEqual(['feeds[0].venue: required key is missing']);
  });

  it('server, alerts and analytics details', () => {
    expect(msgs(v('server:\n  cors:\n    origins: ["http://localhost:5173/", "*", "https://app.example.com"]\n'))).toEqual([
      'server.cors.origins[0]: not an origin: "http://localhost:5173/" (use scheme://host[:port] with no path or trailing slash, e.g. "http://localhost:5173")',
    ]);
    expect(msgs(v('alerts:\n  telegram:\n    allowChatIds: [123, "-100200", "@chan"]\n    apiRoot: ftp://x\n'))).toEqual([
      'alerts.telegram.allowChatIds[2]: expected a numeric chat id such as 123456789 or -1001234567890, got string "@chan"',
      'alerts.telegram.apiRoot: apiRoot must start with http:// or https://; got "ftp://x"',
    ]);
    expect(validateConfig(parse('alerts:\n  telegram:\n    allowChatIds: [123, "-100200"]\n')).config!.alerts.telegram.allowChatIds).toEqual([123, -100200]);
  });

  it('alerts.telegram delivery keys: dbPath, kinds, charts, commands, quietHours, cooldownMs', () => {
    const ok = validateConfig(parse([
      'alerts:', '  telegram:', '    dbPath: /var/lib/tapeflow/alerts.sqlite', '    kinds: [entry, exit, daily_bias]', '    charts: false', '    commands: webhook',
      '    quietHours: {start: "22:00", end: "07:00"}', '    cooldownMs: {rule: 60000, sweep: 0}', '',
    ].join('\n')));
    expect(msgs(ok.errors)).toEqual([]);
    expect(ok.config!.alerts.telegram).toMatchObject({
      dbPath: '/var/lib/tapeflow/alerts.sqlite', kinds: ['entry', 'exit', 'daily_bias'], charts: false, commands: 'webhook',
      quietHours: { start: '22:00', end: '07:00', timezone: 'UTC', mode: 'silent' }, cooldownMs: { rule: 60000, sweep: 0 },
    });
    expect(msgs(v([
      'alerts:', '  telegram:', '    dbPath: ""', '    kinds: [entry, exits]', '    charts: sometimes', '    commands: push',
      '    quietHours: {start: "25:00", timezone: Mars/Olympus, mode: loud}', '    cooldownMs: {rule: -5, sweeps: 10, entry: 1.5}', '',
    ].join('\n')))).toEqual([
      'alerts.telegram.dbPath: must not be empty',
      'alerts.telegram.kinds[1]: must be one of entry, break_even, trail, exit, exit_warning, daily_bias, rule, sweep, pcr; got "exits" (did you mean "exit"?)',
      'alerts.telegram.charts: expected true or false, got string "sometimes"',
      'alerts.telegram.commands: must be one of polling, webhook, off; got "push"',
      'alerts.telegram.quietHours.start: expected a time "HH:MM", got "25:00"',
      'alerts.telegram.quietHours.end: required key is missing',
      'alerts.telegram.quietHours.timezone: unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Berlin)',
      'alerts.telegram.quietHours.mode: must be one of silent, suppress; got "loud"',
      'alerts.telegram.cooldownMs.sweeps: unknown key (did you mean "sweep"?)',
      'alerts.telegram.cooldownMs.entry: expected a whole number, got 1.5',
      'alerts.telegram.cooldownMs.rule: out of range: -5 is below the minimum 0',
    ]);
    expect(msgs(v('analytics:\n  timeframe: 7m\n'))).toEqual(['analytics.timeframe: timeframe "7m" does not divide a day']);
    expect(v('analytics:\n  timeframe: 500T\n')).toEqual([]);
    expect(msgs(v('sessions:\n  london:\n    timezone: UTC\n    start: "08:00"\n    end: "09:00"\n'))).toEqual([
      'sessions.london: name clashes with the built-in session template "london"; choose another name',
    ]);
    expect(msgs(v('[1, 2]\n'))).toEqual([': expected a map of sections (instruments, feeds, server, …), got a list']);
  });

  it('YAML syntax errors and duplicate keys carry line and column', () => {
    const r = parseConfigText('server:\n  port: 1\n  port: 2\n');
    expect(r.config).toBeUndefined();
    expect(r.errors[0].path).toBe('(yaml line 3, column 3)');
    expect(r.errors[0].message).toMatch(/unique/i);
    const bad = parseConfigText('feeds: [\n');
    expect(bad.errors.length).toBeGreaterThan(0);
    expect(bad.errors[0].path).toMatch(/^\(yaml line \d+, column \d+\)$/);
  });
});

describe('all errors are collected and thrown together', () => {
  const BAD = [
    'instruments:',
    '  - id: BTCUSDT',
    '    profileRow: "10.05"',
    '  - id: NAS100',
    '    session: nyc',
    '  - id: XAUUSD',
    '    tickSize: abc',
    'feeds:',
    '  - venue: kraken',
    '    symbols: [XBTUSD]',
    'server:',
    '  port: -1',
    '  hots: 0.0.0.0',
    'alerts:',
    '  telegram:',
    '    token: "123456:ABCDEF"',
    'log:',
    '  level: verbose',
    '',
  ].join('\n');

  it('validateConfig reports every problem with its path', () => {
    const r = validateConfig(parse(BAD));
    expect(r.config).toBeUndefined();
    expect(r.errors.map((e) => e.path)).toEqual([
      'instruments[0].profileRow',
      'instruments[1].session',
      'instruments[2].tickSize',
      'feeds[0].venue',
      'server.hots',
      'server.port',
      'alerts.telegram.token',
      'log.level',
    ]);
  });

  it('loadConfig throws one ConfigError listing them all', async () => {
    const p = file(BAD);
    const err = await loadConfig(p, {}).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.issues).toHaveLength(8);
    expect(ce.file).toBe(p);
    expect(ce.message.split('\n')[0]).toBe(`${p}: 8 errors`);
    expect(ce.message).toContain('  instruments[2].tickSize: expected a positive decimal such as "0.25", got string "abc"');
    expect(ce.message).toContain('  alerts.telegram.token: secrets come from environment variables: use tokenEnv');
  });

  it('a missing file is an error, not silently the defaults', async () => {
    await expect(loadConfig(join(dir, 'nope.yaml'), {})).rejects.toThrow(/nope\.yaml: 1 error\n {2}\(file\): file not found/);
  });
});

describe('secrets only from environment variables', () => {
  it('rejects a literal secret anywhere, pointing at the Env key', () => {
    expect(msgs(v('alerts:\n  telegram:\n    enabled: true\n    token: "123:ABC"\n'))).toEqual(['alerts.telegram.token: secrets come from environment variables: use tokenEnv']);
    expect(msgs(v('server:\n  authToken: hunter2\n'))).toEqual(['server.authToken: secrets come from environment variables: use authTokenEnv']);
    expect(msgs(v('feeds:\n  - venue: coinbase\n    symbols: [BTC-USD]\n    apiKey: k\n    apiSecret: s\n'))).toEqual([
      'feeds[0].apiKey: secrets come from environment variables: remove it from the file (this section takes no secret)',
      'feeds[0].apiSecret: secrets come from environment variables: remove it from the file (this section takes no secret)',
    ]);
    // hidden in an unknown section: both the unknown key and the secret are reported
    expect(msgs(v('exchange:\n  credentials:\n    password: pw\n'))).toEqual([
      'exchange: unknown key (allowed: instruments, sessions, feeds, server, store, alerts, analytics, paper, ruleMode, merged, mt5, cluster, log)',
      'exchange.credentials.password: secrets come from environment variables: remove it from the file (this section takes no secret)',
    ]);
  });

  it('an *Env key must hold a variable name, not the secret', () => {
    expect(msgs(v('alerts:\n  telegram:\n    tokenEnv: "123456:ABC-DEF"\n'))).toEqual([
      'alerts.telegram.tokenEnv: must be the NAME of an environment variable (letters, digits, _), not the secret itself; got "123456:ABC-DEF"',
    ]);
  });

  it('enabled telegram / API auth need their variables set at load time', async () => {
    const p = file('alerts:\n  telegram:\n    enabled: true\n    tokenEnv: MY_TG\nserver:\n  authTokenEnv: MY_API\n');
    await expect(loadConfig(p, {})).rejects.toThrow(ConfigError);
    const r = await checkConfig(p, {});
    expect(msgs(r.issues)).toEqual([
      'alerts.telegram.tokenEnv: telegram is enabled but environment variable MY_TG is not set',
      'server.authTokenEnv: environment variable MY_API is not set (unset authTokenEnv to run without API auth)',
    ]);
    const c = await loadConfig(p, { MY_TG: '1:x', MY_API: 'y' });
    expect(c.alerts.telegram.tokenEnv).toBe('MY_TG');
    expect(JSON.stringify(c)).not.toContain('1:x'); // the secret itself never enters the config
  });

  it('server security keys: protect, allowedHosts, jwt, authThrottle; a non-loopback host needs a token or allowNoAuth', async () => {
    const ok = validateConfig(parse('server:\n  protect: all\n  allowedHosts: [charts.example.com, "::1", 10.0.0.5]\n  jwt: {secretEnv: MY_JWT, ttlS: 600}\n  authThrottle: {maxFailures: 5}\n'));
    expect(msgs(ok.errors)).toEqual([]);
    expect(ok.config!.server).toMatchObject({ protect: 'all', allowedHosts: ['charts.example.com', '::1', '10.0.0.5'], jwt: { secretEnv: 'MY_JWT', ttlS: 600, revoked: [] }, authThrottle: { maxFailures: 5, windowS: 60, lockS: 60 } });
    expect(msgs(v('server:\n  protect: everything\n  allowedHosts: ["http://x.example/"]\n  jwt: {ttlS: 5}\n'))).toEqual([
      'server.protect: must be one of api, all; got "everything"',
      'server.allowedHosts[0]: not a host name: "http://x.example/" (a DNS name or IP address without scheme, port or path, e.g. "charts.example.com")',
      'server.jwt.ttlS: out of range: 5 is below the minimum 10',
    ]);
    const open = file('server:\n  host: 0.0.0.0\n');
    expect(msgs((await checkConfig(open, {})).issues)).toEqual(['server.host: listening on 0.0.0.0 needs a token (server.authTokenEnv or server.jwt); set server.allowNoAuth: true to listen without one']);
    expect(msgs((await checkConfig(file('server:\n  host: 0.0.0.0\n  allowNoAuth: true\n'), {})).issues)).toEqual([]);
    expect(msgs((await checkConfig(file('server:\n  host: 0.0.0.0\n  jwt: {secretEnv: MY_JWT}\n'), { MY_JWT: 'short' })).issues)).toEqual(['server.jwt.secretEnv: the secret in MY_JWT is shorter than 32 characters']);
    expect(msgs((await checkConfig(file('server:\n  protect: all\n'), {})).issues)).toEqual(['server.protect: protect: all needs a token (server.authTokenEnv or server.jwt)']);
  });

  it('alerts.telegram.webhook: path, secretEnv and publicUrl; the secret is checked at load time in webhook mode', async () => {
    expect(defaultConfig().alerts.telegram.webhook).toEqual({ path: '/telegram/webhook', secretEnv: 'TELEGRAM_WEBHOOK_SECRET' });
    const ok = validateConfig(parse('alerts:\n  telegram:\n    commands: webhook\n    webhook: {path: /hooks/tg, secretEnv: TG_HOOK, publicUrl: "https://x.example/hooks/tg"}\n'));
    expect(msgs(ok.errors)).toEqual([]);
    expect(ok.config!.alerts.telegram.webhook).toEqual({ path: '/hooks/tg', secretEnv: 'TG_HOOK', publicUrl: 'https://x.example/hooks/tg' });
    expect(msgs(v('alerts:\n  telegram:\n    webhook: {path: /api/tg, secretEnv: "s3cr3t!", publicUrl: "http://x.example/tg"}\n'))).toEqual([
      'alerts.telegram.webhook.path: must be a path starting with / (letters, digits, _ . - /), not under /api; got "/api/tg"',
      'alerts.telegram.webhook.secretEnv: must be the NAME of an environment variable (letters, digits, _), not the secret itself; got "s3cr3t!"',
      'alerts.telegram.webhook.publicUrl: publicUrl must start with https://; got "http://x.example/tg"',
    ]);
    const p = file('alerts:\n  telegram:\n    enabled: true\n    tokenEnv: MY_TG\n    commands: webhook\n    webhook: {secretEnv: MY_HOOK}\n');
    expect(msgs((await checkConfig(p, { MY_TG: '1:x' })).issues)).toEqual([
      'alerts.telegram.webhook.secretEnv: commands is webhook but environment variable MY_HOOK (the webhook secret) is not set',
    ]);
    expect(msgs((await checkConfig(p, { MY_TG: '1:x', MY_HOOK: 'has space' })).issues)).toEqual([
      'alerts.telegram.webhook.secretEnv: environment variable MY_HOOK must be 1–256 characters of A-Z, a-z, 0-9, _ and - (Telegram\'s rule for secret_token)',
    ]);
    expect((await checkConfig(p, { MY_TG: '1:x', MY_HOOK: 'ok_Secret-1' })).issues).toEqual([]);
  });

  it('TAPEFLOW_LOG_LEVEL overrides log.level; a bad value is reported', async () => {
    const p = file('log:\n  level: warn\n');
    expect((await loadConfig(p, {})).log.level).toBe('warn');
    expect((await loadConfig(p, { TAPEFLOW_LOG_LEVEL: 'debug' })).log.level).toBe('debug');
    await expect(loadConfig(p, { TAPEFLOW_LOG_LEVEL: 'chatty' })).rejects.toThrow(/env TAPEFLOW_LOG_LEVEL: must be one of debug, info, warn, error; got "chatty"/);
  });
});

describe('instrument overrides and additions in the registry', () => {
  it('an override changes the registry thresholds and rows, leaving other fields built-in', () => {
    const r = validateConfig(parse('instruments:\n  - id: BTCUSDT\n    profileRow: "25.0"\n    thresholds:\n      absorptionMinVolume: 40\n'));
    expect(r.errors).toEqual([]);
    const reg = buildRegistry(r.config!);
    const btc = reg.get('BTCUSDT');
    expect(btc.thresholds).toEqual({ absorptionMinVolume: 40, initiativeMinDelta: 10 });
    expect(btc.profileRow).toBe('25.0');
    expect(btc.profileRowTicks).toBe(250);
    expect(btc.footprintRowTicks).toBe(250); // built-in footprint row dropped with the new profile row
    expect(btc.tickSize).toBe('0.10');
    expect(btc.venue).toBe('binance-usdm');
    // the untouched instruments keep their built-ins
    expect(reg.get('ETHUSDT').thresholds).toEqual({ absorptionMinVolume: 200, initiativeMinDelta: 100 });
    expect(buildRegistry(defaultConfig()).get('BTCUSDT').thresholds.absorptionMinVolume).toBe(20);
  });

  it('YAML numbers for decimals are accepted and normalized', () => {
    const r = validateConfig(parse('instruments:\n  - id: EURUSD\n    profileRow: 0.0010\n    footprintRow: 1e-4\n'));
    expect(r.errors).toEqual([]);
    const eur = buildRegistry(r.config!).get('EURUSD');
    expect(eur.profileRow).toBe('0.001');
    expect(eur.profileRowTicks).toBe(100);
    expect(eur.footprintRowTicks).toBe(10);
  });

  it('a custom session referenced by name is used by the instrument calendar', () => {
    const r = validateConfig(parse([
      'sessions:',
      '  ny_overnight:',
      '    timezone: America/New_York',
      '    start: "18:00"',
      '    end: "09:30"',
      '    days: [7, 1, 2, 3, 4]',
      'instruments:',
      '  - id: NAS100',
      '    session: ny_overnight',
      '  - id: UK100',
      '    session: asian',
      '  - id: DAX40',
      '    session: {timezone: Europe/Berlin, start: "08:00", end: "22:00"}',
      '',
    ].join('\n')));
    expect(r.errors).toEqual([]);
    const reg = buildRegistry(r.config!);
    const nas = reg.get('NAS100');
    expect(nas.session).toEqual({ name: 'ny_overnight', timezone: 'America/New_York', start: '18:00', end: '09:30', days: [7, 1, 2, 3, 4] });
    // Monday 2024-01-15 18:00 EST = 23:00Z; key is the opening date
    const w = nas.calendar.sessionAt(Date.parse('2024-01-16T05:00:00Z'))!;
    expect(w.key).toBe('2024-01-15');
    expect(new Date(w.start).toISOString()).toBe('2024-01-15T23:00:00.000Z');
    expect(new Date(w.end).toISOString()).toBe('2024-01-16T14:30:00.000Z');
    expect(reg.get('UK100').session.name).toBe('asian');
    const dax = reg.get('DAX40');
    expect(dax.session).toEqual({ name: 'DAX40:custom', timezone: 'Europe/Berlin', start: '08:00', end: '22:00', days: [1, 2, 3, 4, 5] });
    expect(new Date(dax.calendar.sessionAt(Date.parse('2024-07-01T12:00:00Z'))!.start).toISOString()).toBe('2024-07-01T06:00:00.000Z');
  });

  it('a new instrument is added with sensible defaults', () => {
    const r = validateConfig(parse([
      'instruments:',
      '  - id: US30.cash',
      '    venue: mt5',
      '    assetClass: index',
      '    tickSize: "0.1"',
      '    lotStep: "0.01"',
      '    profileRow: "5.0"',
      '    session: ny_cash',
      '',
    ].join('\n')));
    expect(r.errors).toEqual([]);
    const reg = buildRegistry(r.config!);
    const us30 = reg.get('US30.cash');
    expect(us30.symbol).toBe('US30.cash');
    expect(us30.venue).toBe('mt5');
    expect(us30.flow).toBe('quote-activity');
    expect(us30.profileRowTicks).toBe(50);
    expect(us30.session.name).toBe('ny_cash');
    expect(us30.thresholds).toEqual({ absorptionMinVolume: 30, initiativeMinDelta: 20 });
    expect(reg.has('NAS100')).toBe(true);
  });
});

describe('analytics section to pipeline options', () => {
  it('maps every key', () => {
    const r = validateConfig(parse('analytics:\n  timeframe: 5m\n  valueAreaPct: 0.68\n  imbalance:\n    ratio: 2.5\n    compare: horizontal\n    zeroPolicy: requireMinOther\n    minOther: 2\n    metric: trades\n  stackedMinRows: 4\n  cvdReset: never\n'));
    expect(r.errors).toEqual([]);
    expect(pipelineOptions(r.config!.analytics)).toEqual({
      timeframe: '5m', cvdReset: 'never', valueArea: { pct: 0.68 }, stackedMinRows: 4,
      // the minimums are instrument units (trade counts here): each pipeline converts them for its instrument
      imbalance: { ratio: 2.5, compare: 'horizontal', zeroPolicy: 'requireMinOther', metric: 'trades' },
      imbalanceSizes: { minDominant: 0, minOther: 2 },
    });
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../engine/src/cli/command.js';
import { configCommand } from '../../engine/src/cli/commands/config.js';
import { commands } from '../../engine/src/cli/commands/index.js';
import { main } from '../../engine/src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'tapeflow-config-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SHIPPED = resolve(__dirname, '../../tapeflow.config.yaml');

let out = '', err = '';
beforeEach(() => {
  out = ''; err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
  vi.stubEnv('TAPEFLOW_LOG_LEVEL', '');
  vi.stubEnv('TAPEFLOW_LOG_FORMAT', '');
  vi.stubEnv('TAPEFLOW_CONFIG', '');
});
afterEach(() => { vi.restoreAllMocks(); vi.unstubAllEnvs(); });

describe('tapeflow config check', () => {
  it('is registered with the CLI', () => {
    expect(commands).toContain(configCommand);
    expect(configCommand.name).toBe('config');
  });

  it('OK and exit 0 for the shipped config', async () => {
    const code = await configCommand.run(['check', SHIPPED]);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toMatch(/^OK: 0 instruments configured \(\d+ in the registry\), 1 feed \(1 enabled, 2 symbols\), 0 custom sessions, server 127\.0\.0\.1:8080, store \.\/data\/tapeflow\.sqlite, telegram off — /);
    expect(out.trim().endsWith(SHIPPED)).toBe(true);
  });

  it('warns (exit 0) when Telegram alerts are on and allowChatIds is empty; not when it lists chats', async () => {
    vi.stubEnv('TF_CFG_TG_TOKEN', '1:x');
    const p = join(dir, 'tg-open.yaml');
    writeFileSync(p, 'alerts:\n  telegram:\n    enabled: true\n    tokenEnv: TF_CFG_TG_TOKEN\n    chatIdsEnv: TF_CFG_TG_CHATS\n');
    expect(await configCommand.run(['check', p, '--quiet'])).toBe(0);
    expect(err).toBe(`${p}: warning: alerts.telegram.allowChatIds is empty: only the chats of TF_CFG_TG_CHATS may change subscriptions; /subscribe, /unsubscribe, /mute and /quiet from any other chat are refused\n`);
    err = '';
    writeFileSync(p, 'alerts:\n  telegram:\n    enabled: true\n    tokenEnv: TF_CFG_TG_TOKEN\n    allowChatIds: [42]\n');
    expect(await configCommand.run(['check', p, '--quiet'])).toBe(0);
    expect(err).toBe('');
  });

  it('counts instruments and feeds; --config works like PATH; --quiet prints nothing', async () => {
    const p = join(dir, 'two.yaml');
    writeFileSync(p, 'instruments:\n  - id: BTCUSDT\n    profileRow: "20.0"\n  - id: ETHUSDT\nfeeds:\n  - venue: bybit\n    symbols: [BTCUSDT]\n  - venue: coinbase\n    symbols: [BTC-USD]\n    enabled: false\n');
    expect(await configCommand.run(['check', '--config', p])).toBe(0);
    expect(out).toMatch(/^OK: 2 instruments configured \(\d+ in the registry\), 2 feeds \(1 enabled, 1 symbol\)/);
    out = '';
    expect(await configCommand.run(['check', p, '--quiet'])).toBe(0);
    expect(out).toBe('');
  });

  it('prints every error as PATH: key.path: reason and exits 1', async () => {
    const p = join(dir, 'bad.yaml');
    writeFileSync(p, 'server:\n  port: 99999\n  hots: x\nalerts:\n  telegram:\n    token: "1:abc"\ninstruments:\n  - id: NAS100\n    profileRow: "1.05"\n');
    const code = await configCommand.run(['check', p]);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err.split('\n')).toEqual([
      `${p}: instruments[0].profileRow: 1.05 is not a multiple of tick size 0.1`,
      `${p}: server.hots: unknown key (did you mean "host"?)`,
      `${p}: server.port: out of range: 99999 is above the maximum 65535`,
      `${p}: alerts.telegram.token: secrets come from environment variables: use tokenEnv`,
      `${p}: 4 errors`,
      '',
    ]);
  });

  it('a missing file exits 1', async () => {
    const p = join(dir, 'missing.yaml');
    expect(await configCommand.run(['check', p])).toBe(1);
    expect(err).toBe(`${p}: (file): file not found\n${p}: 1 error\n`);
  });

  it('environment problems are reported too (telegram enabled without its token)', async () => {
    const p = join(dir, 'tg.yaml');
    writeFileSync(p, 'alerts:\n  telegram:\n    enabled: true\n    tokenEnv: TAPEFLOW_TEST_TG_TOKEN_UNSET\n');
    expect(await configCommand.run(['check', p])).toBe(1);
    expect(err).toContain(`${p}: alerts.telegram.tokenEnv: telegram is enabled but environment variable TAPEFLOW_TEST_TG_TOKEN_UNSET is not set`);
    err = '';
    vi.stubEnv('TAPEFLOW_TEST_TG_TOKEN_UNSET', '123:abc');
    expect(await configCommand.run(['check', p])).toBe(0);
    expect(out).toContain('telegram on');
    expect(out + err).not.toContain('123:abc');
  });

  it('usage errors: missing or unknown subcommand, two paths, unknown flag', async () => {
    await expect(configCommand.run([])).rejects.toThrow(UsageError);
    await expect(configCommand.run(['validate'])).rejects.toThrow(/unknown subcommand "validate"/);
    await expect(configCommand.run(['check', 'a.yaml', 'b.yaml'])).rejects.toThrow(/at most one PATH/);
    await expect(configCommand.run(['check', 'a.yaml', '--config', 'b.yaml'])).rejects.toThrow(/either as PATH or with --config/);
    await expect(configCommand.run(['check', '--strict'])).rejects.toThrow(/unknown option --strict/);
  });

  it('through main: --help prints the usage (exit 0); errors exit 1; usage errors exit 2', async () => {
    expect(await main(['config', '--help'])).toBe(0);
    expect(out).toContain('Usage: tapeflow config check [PATH]');
    expect(out).toContain('docs/configuration.md');
    expect(await main(['config', 'check', SHIPPED])).toBe(0);
    expect(await main(['config', 'check', join(dir, 'missing.yaml')])).toBe(1);
    expect(await main(['config', 'nope'])).toBe(2);
  });
});

/** `tapeflow config check [PATH]`: validate a config file and print every problem with its key path. */
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { buildRegistry } from '../../config/registry.js';
import { checkConfig, DEFAULT_CONFIG_FILE } from '../../config/load.js';
import { formatIssue } from '../../config/types.js';

const USAGE = `Usage: tapeflow config check [PATH] [--config PATH] [--quiet]

Validates a TapeFlow configuration file (YAML) and the environment it needs.

  PATH, --config PATH   the file to check (default: $TAPEFLOW_CONFIG, else ./${DEFAULT_CONFIG_FILE};
                        with neither, the built-in defaults are checked)
  --quiet               print nothing on success

Prints "OK: <n> instruments, <m> feeds …" and exits 0 when valid; otherwise prints every problem
as "PATH: key.path: reason" on stderr and exits 1. Unknown keys, literal secrets (use *Env keys),
rows off the tick grid, unknown sessions or time zones and out-of-range values are all errors.
Warnings (exit 0): Telegram alerts on with an empty alerts.telegram.allowChatIds.
See docs/configuration.md for every key.`;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export const configCommand: Command = {
  name: 'config',
  summary: 'check a configuration file (config check [PATH])',
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const { positional, flags } = parseArgs(args, { values: ['config'], booleans: ['quiet'] });
    const [sub, ...rest] = positional;
    if (sub !== 'check') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand: check');
    if (rest.length > 1) throw new UsageError(`expected at most one PATH, got ${rest.length}`);
    const flagPath = flags.get('config');
    if (rest.length && typeof flagPath === 'string') throw new UsageError('give the file either as PATH or with --config, not both');
    const path = rest[0] ?? (typeof flagPath === 'string' ? flagPath : undefined);

    const r = await checkConfig(path);
    const label = r.file ?? '(defaults)';
    if (!r.config || r.issues.length) {
      for (const i of r.issues) process.stderr.write(`${label}: ${formatIssue(i)}\n`);
      process.stderr.write(`${label}: ${plural(r.issues.length, 'error')}\n`);
      return 1;
    }
    const c = r.config;
    let registrySize: number;
    try {
      registrySize = buildRegistry(c).all().length;
    } catch (e) {
      process.stderr.write(`${label}: instruments: ${(e as Error).message}\n`);
      return 1;
    }
    const tg = c.alerts.telegram;
    if (tg.enabled && !tg.allowChatIds?.length) {
      process.stderr.write(`${label}: warning: alerts.telegram.allowChatIds is empty: only the chats of ${tg.chatIdsEnv ?? 'chatIdsEnv (unset)'} may change subscriptions; /subscribe, /unsubscribe, /mute and /quiet from any other chat are refused\n`);
    }
    if (!flags.has('quiet')) {
      const enabled = c.feeds.filter((f) => f.enabled);
      const symbols = enabled.reduce((n, f) => n + f.symbols.length, 0);
      const parts = [
        plural(c.instruments.length, 'instrument') + ` configured (${registrySize} in the registry)`,
        `${plural(c.feeds.length, 'feed')} (${enabled.length} enabled, ${plural(symbols, 'symbol')})`,
        plural(Object.keys(c.sessions).length, 'custom session'),
        `server ${c.server.host}:${c.server.port}`,
        `store ${c.store.path}`,
        `telegram ${c.alerts.telegram.enabled ? 'on' : 'off'}`,
      ];
      process.stdout.write(`OK: ${parts.join(', ')} — ${label}\n`);
    }
    return 0;
  },
};

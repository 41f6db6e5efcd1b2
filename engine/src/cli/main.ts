/** `tapeflow` CLI entry: dispatches to command modules; every command answers --help. */
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { commands } from './commands/index.js';

const HELP = (cmds: Command[]): string => `tapeflow — open order-flow toolkit

Usage: tapeflow <command> [options]

Commands:
${cmds.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`).join('\n')}

Run 'tapeflow <command> --help' for a command's options.
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP(commands));
    return name ? 0 : 1;
  }
  if (name === '--version') { process.stdout.write('tapeflow 0.1.0\n'); return 0; }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`tapeflow: unknown command "${name}"\n\n${HELP(commands)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.usage.endsWith('\n') ? cmd.usage : cmd.usage + '\n');
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tapeflow ${name}: ${e.message}\n\n${cmd.usage}\n`);
      return 2;
    }
    process.stderr.write(`tapeflow ${name}: ${(e as Error).message}\n`);
    return 1;
  }
}

/** Shape of a CLI command module; main.ts dispatches to these. */
export interface Command {
  name: string;
  /** one line for the command list */
  summary: string;
  /** full --help text */
  usage: string;
  run(args: string[]): Promise<number>;
}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/**
 * Minimal flag parser: --key value, --key=value, boolean --flag (when `booleans` names it).
 * Unknown flags are an error so typos never pass silently.
 */
export function parseArgs(args: string[], known: { values: string[]; booleans: string[] }): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { positional.push(...args.slice(i + 1)); break; }
    if (!a.startsWith('--')) { positional.push(a); continue; }
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (known.booleans.includes(key)) {
      if (eq > 0) throw new UsageError(`--${key} takes no value`);
      flags.set(key, true);
    } else if (known.values.includes(key)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new UsageError(`--${key} needs a value`);
      flags.set(key, v);
    } else throw new UsageError(`unknown option --${key}`);
  }
  return { positional, flags };
}

export class UsageError extends Error {}

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorMessage } from '../errors/error-text.js';
import { PortholeError } from '../errors/porthole-error.js';

/** Exit codes shared by every sub-command. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** `hidden` keeps a flag out of --help (flags meant for the machine, like the SCM's `--scm`). */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  description: string;
  hidden?: boolean;
};

/** One `porthole <name>` sub-command: its help text, its flags and what it runs. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Help for a sub-command (`porthole service install --help`); undefined falls back to the command's. */
  helpFor?(positionals: string[]): string | undefined;
  /** Returns the process exit code. */
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

/** A mistake in how the command was called: printed with a hint and exit code 2. */
export class UsageError extends PortholeError<'usage'> {
  override name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('usage', message, options);
  }
}

export function formatHelp(cmd: Command): string {
  const lines = [`Usage: ${cmd.usage}`, '', cmd.summary, '', 'Options:'];
  const entries = Object.entries({ ...cmd.options, help: helpOption }).filter(([, o]) => !o.hidden);
  const width = Math.max(...entries.map(([name, o]) => flagLabel(name, o).length));
  for (const [name, o] of entries) {
    lines.push(`  ${flagLabel(name, o).padEnd(width)}  ${o.description}`);
  }
  return lines.join('\n');
}

const helpOption: OptionSpec = { type: 'boolean', short: 'h', description: 'Show this help and exit' };

function flagLabel(name: string, o: OptionSpec): string {
  const short = o.short ? `-${o.short}, ` : '    ';
  return `${short}--${name}${o.type === 'string' ? ' <value>' : ''}`;
}

/** Parses argv strictly: an unknown flag or a missing value is a UsageError naming it. */
export function parseCommandArgs(
  cmd: Command,
  argv: string[],
): { help: boolean; values: Record<string, unknown>; positionals: string[] } {
  const options: Record<string, OptionSpec> = { ...cmd.options, help: helpOption };
  const config: ParseArgsConfig = {
    args: argv,
    strict: true,
    allowPositionals: true,
    options: Object.fromEntries(
      Object.entries(options).map(([k, { description: _d, hidden: _h, ...o }]) => [k, o]),
    ) as ParseArgsConfig['options'],
  };
  try {
    const { values, positionals } = parseArgs(config);
    return { help: values.help === true, values: values as Record<string, unknown>, positionals };
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
}

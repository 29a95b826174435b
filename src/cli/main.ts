import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  formatHelp,
  parseCommandArgs,
  type Command,
} from './command.js';
import { commands } from './commands.js';
import { errorMessage } from '../errors/error-text.js';
import { PORTHOLE_VERSION as version } from './version.js';

function topLevelHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: porthole <command> [options]',
    '',
    'Remote-desktop agent: a service that brokers per-session helpers, which stream the desktop',
    'as H.264 over WebRTC straight to the viewer.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     Show this help (or `porthole <command> --help` for one command)',
    '  -v, --version  Print the version',
  ].join('\n');
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    console.log(topLevelHelp());
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (first === '-v' || first === '--version') {
    console.log(version);
    return EXIT_OK;
  }
  const cmd: Command | undefined = commands.find((c) => c.name === first);
  if (!cmd) {
    const what = first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`;
    console.error(`porthole: ${what}. Run 'porthole --help' for the list of commands.`);
    return EXIT_USAGE;
  }
  try {
    const { help, values, positionals } = parseCommandArgs(cmd, rest);
    if (help) {
      console.log(cmd.helpFor?.(positionals) ?? formatHelp(cmd));
      return EXIT_OK;
    }
    return await cmd.run(values, positionals);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`porthole ${cmd.name}: ${err.message}\nRun 'porthole ${cmd.name} --help' for usage.`);
      return EXIT_USAGE;
    }
    console.error(`porthole ${cmd.name}: ${errorMessage(err)}`);
    return EXIT_FAILURE;
  }
}

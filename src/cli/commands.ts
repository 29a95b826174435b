import { apiCommand } from '../api/cli.js';
import { EXIT_FAILURE, UsageError, type Command } from './command.js';
import { helperCommand } from './helper-command.js';
import { serviceCommand } from './service-command.js';

/**
 * Sub-commands not yet built print where they arrive and fail; each is replaced by its real module
 * when its issue lands (service/broker, media, viewer).
 */
function pending(name: string, summary: string, arrives: string): Command {
  return {
    name,
    summary,
    usage: `porthole ${name} [options]`,
    options: {},
    run: async (_values, positionals) => {
      if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      console.error(`porthole ${name}: not available yet; it arrives with ${arrives}.`);
      return EXIT_FAILURE;
    },
  };
}

export const commands: Command[] = [
  serviceCommand,
  helperCommand,
  apiCommand,
  pending(
    'demo',
    'Run service + helper + API + viewer on this machine (Xvfb if no display)',
    'the viewer issue',
  ),
];

import { createDefaultDesktopHost } from '../helper/default-host.js';
import { runHelper } from '../helper/helper-main.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { int, oneOf, str } from '../protocol/validate.js';
import { UsageError, type Command } from './command.js';

export const helperCommand: Command = {
  name: 'helper',
  summary: 'Run a per-session helper (started by the service with a secret on stdin, not by hand)',
  usage: 'porthole helper --session N --helper-id ID [--channel-fd 3]   (secret on stdin)',
  options: {
    session: { type: 'string', description: 'OS session number this helper serves' },
    'helper-id': { type: 'string', description: 'Id the service gave this helper (for the handshake)' },
    'channel-fd': { type: 'string', description: 'fd of the inherited channel socket (default 3)' },
    'log-level': { type: 'string', description: 'debug | info | warn | error | silent (default info)' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.session === undefined || values['helper-id'] === undefined) {
      throw new UsageError('--session and --helper-id are required (the service passes them)');
    }
    const parse = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    };
    const sessionId = parse(() => int(0, 0x7fff_ffff)(Number(values.session), '--session'));
    const helperId = parse(() =>
      str({ min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ })(values['helper-id'], '--helper-id'),
    );
    const channelFd = parse(() => int(3, 1024)(Number(values['channel-fd'] ?? 3), '--channel-fd'));
    const level = parse(() =>
      oneOf(LOG_LEVELS)(values['log-level'] ?? process.env.PORTHOLE_LOG_LEVEL ?? 'info', '--log-level'),
    );
    const log = createLogger('porthole-helper', level as LogLevel).child({ sessionId });
    return runHelper({ sessionId, helperId, channelFd, host: createDefaultDesktopHost({ log }), log });
  },
};

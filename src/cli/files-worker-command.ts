/**
 * `porthole files-worker`: one file operation for a helper that runs as root, in a process it started
 * as the session user (src/helper/files/files-worker.ts). Not for people: it speaks JSON on stdio.
 */
import type { Command } from './command.js';
import { UsageError } from './command.js';

export const filesWorkerCommand: Command = {
  name: 'files-worker',
  summary: 'Internal: one file operation as the session user, for a root helper (JSON on stdin)',
  usage: 'porthole files-worker   (started by the helper; request on stdin)',
  options: {},
  async run(_values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (process.getuid?.() === 0) {
      process.stderr.write('files-worker refuses to run as root\n');
      return 1;
    }
    const { runFilesWorker } = await import('../helper/files/files-worker.js');
    return runFilesWorker(process.stdin, process.stdout);
  },
};

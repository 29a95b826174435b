/**
 * `porthole indicator-window`: the being-viewed indicator's window on Windows, in a process of its own
 * started by the helper (src/helper/presence/win32-indicator.ts). Not for people: it speaks JSON lines
 * on stdio and exits when stdin ends.
 */
import type { Command } from './command.js';
import { UsageError } from './command.js';

export const indicatorWindowCommand: Command = {
  name: 'indicator-window',
  summary: 'Internal: the being-viewed indicator window on Windows, for a helper (JSON lines on stdio)',
  usage: 'porthole indicator-window   (started by the helper; text on stdin)',
  options: {},
  async run(_values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (process.platform !== 'win32') {
      process.stderr.write('indicator-window exists on Windows only\n');
      return 1;
    }
    const { runIndicatorWindow } = await import('../helper/presence/win32-indicator-window.js');
    const { done } = runIndicatorWindow(process.stdin, (line) => process.stdout.write(line));
    await done;
    return 0;
  },
};

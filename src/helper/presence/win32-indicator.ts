/**
 * Windows: the helper's end of the indicator. The window lives in a child process
 * (`porthole indicator-window`, win32-indicator-window.ts says why), started at the first viewer and
 * ended after the last: its stdin carries the text as JSON lines, its stdout the buttons pressed.
 * Closing stdin makes it destroy the window and exit; if it has not exited 2 s later it is killed.
 *
 * The child inherits the helper's token and desktop (the helper's startup desktop, `winsta0\default`):
 * it does not follow the input desktop, so it is not shown on the secure desktop (UAC, Ctrl+Alt+Del),
 * where nothing but Windows' own UI belongs. Nothing here is Windows-specific: the tests drive it with
 * a stand-in child on Linux, and the window itself under Wine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../../log/logger.js';
import type { IndicatorEvents, IndicatorWindow } from './indicator.js';

const KILL_AFTER_MS = 2000;
/** A line longer than this from the child is not an event of ours. */
const MAX_LINE = 1000;

export interface Win32IndicatorOptions {
  log: Pick<Logger, 'info' | 'warn'>;
  /** The person answered in the chat window (which lives in the same process). */
  onReply?: (text: string) => void;
  /** argv that starts porthole; `indicator-window` is appended (default: this process's node and script). */
  command?: string[];
}

/** The indicator's process also holds the session's chat window. */
export interface Win32IndicatorWindow extends IndicatorWindow {
  /** A viewer's line, shown in the chat window (opened without taking the focus). */
  chatLine(line: string): void;
  /** Opens the chat window with the focus in its entry. */
  openChat(): void;
  readonly closed: boolean;
}

export function openWin32Indicator(
  text: string,
  events: IndicatorEvents,
  opts: Win32IndicatorOptions,
): Win32IndicatorWindow {
  const [file, ...args] = opts.command ?? [process.execPath, process.argv[1] ?? ''];
  const child: ChildProcess = spawn(file!, [...args, 'indicator-window'], {
    stdio: ['pipe', 'pipe', 'ignore'],
    windowsHide: true,
  });
  let closed = false;
  /** The child is gone (exited, or never started): its windows, the chat window too, with it. */
  let gone = false;
  let killTimer: NodeJS.Timeout | undefined;
  child.once('error', (err) => {
    gone = true;
    opts.log.warn({ err: err.message }, 'indicator window process failed');
  });
  child.once('exit', (code, signal) => {
    gone = true;
    clearTimeout(killTimer);
    if (!closed) opts.log.warn({ code, signal }, 'indicator window process ended early');
  });
  child.stdin?.on('error', () => {});
  const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (closed || line.length > MAX_LINE) return;
    let msg: { event?: unknown; affinity?: unknown; text?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.event === 'disconnect') events.disconnect();
    else if (msg.event === 'chat') events.chat();
    else if (msg.event === 'reply' && typeof msg.text === 'string') opts.onReply?.(msg.text);
    else if (msg.event === 'ready') {
      const affinity = String(msg.affinity).slice(0, 16);
      opts.log.info({ affinity, pid: child.pid }, 'being-viewed indicator shown');
    }
  });
  const tell = (msg: object): void => {
    if (!closed && !gone) child.stdin?.write(`${JSON.stringify(msg)}\n`);
  };
  const setText = (t: string): void => tell({ text: t });
  setText(text);
  return {
    setText,
    chatLine: (line) => tell({ chatLine: line }),
    openChat: () => tell({ openChat: true }),
    /** Closed, or its process is gone: nothing is shown any more. */
    get closed() {
      return closed || gone;
    },
    close() {
      if (closed) return;
      closed = true;
      lines.close();
      child.stdin?.end();
      if (!gone && child.exitCode === null && child.signalCode === null) {
        killTimer = setTimeout(() => child.kill(), KILL_AFTER_MS);
        killTimer.unref();
      }
    },
  };
}

/**
 * X11: the session's chat window as a `zenity --entry` dialog run by the helper, so as the session's
 * user on its DISPLAY (as the consent prompt: zenity-prompt.ts). The dialog shows the last lines of
 * the conversation, each starting with its sender's name, and a line to answer in; OK sends the answer
 * to the viewers, Cancel (or closing it) just closes it. Chat on the indicator opens it again.
 *
 * zenity cannot add a line to a dialog that is open, so lines that arrive meanwhile wait for it to
 * close, and it opens again at once with them. Why zenity and not an Xlib window: a text entry with input
 * methods, editing keys and accessibility is GTK's job, not 200 lines of core-protocol drawing.
 *
 * The label is GTK mnemonic text (not markup) read through C escapes: `\` and `_` are doubled
 * (chatDialogText). Exit status: 0 OK (the answer on stdout), 1 Cancel or closed, anything else (no display, a
 * crash) or a missing zenity makes the window `unavailable`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../log/logger.js';
import { MAX_CHAT_TEXT } from '../../protocol/chat.js';
import type { ChatWindow, ChatWindowEvents } from './chat-window.js';

export const CHAT_WINDOW_TITLE = 'porthole: chat';
/** Lines shown in the dialog (the oldest drop off), and lines kept. */
const SHOWN_LINES = 12;
const KEPT_LINES = 50;
/** One answer is a line: stdout beyond it is not read. */
const MAX_STDOUT = MAX_CHAT_TEXT * 4 + 16;

export interface ZenityChatWindowOptions {
  log: Pick<Logger, 'info' | 'warn'>;
  /** The program (default `zenity` on PATH). */
  command?: string;
  /** The X display (default: the helper's own `$DISPLAY`). */
  display?: string;
}

export function openZenityChatWindow(events: ChatWindowEvents, opts: ZenityChatWindowOptions): ChatWindow {
  return new ZenityChatWindow(events, opts);
}

/**
 * The dialog's label: the conversation so far. zenity's `--entry` expands C escapes in `--text`
 * (g_strcompress: `\n` becomes a line break, `\101` an `A`), so every backslash is doubled, or a viewer
 * typing `\n` would start a line of its own in the window, e.g. one that looks like the person's. Then
 * the label is GTK mnemonic text: `_` is doubled so no letter is underlined or hidden.
 */
export function chatDialogText(lines: string[]): string {
  const shown = lines.slice(-SHOWN_LINES).map((l) => l.replaceAll('\\', '\\\\'));
  const body = shown.length ? shown.join('\n') : 'No messages yet.';
  return `${body}\n\nYour answer:`.replaceAll('_', '__');
}

class ZenityChatWindow implements ChatWindow {
  private readonly lines: string[] = [];
  private child: ChildProcess | undefined;
  /** Lines arrived while the dialog was open: it opens again when it closes. */
  private unseen = false;
  private closed = false;
  /** A dialog must not outlive the helper: it would answer nobody. */
  private readonly onExit = (): void => this.close();

  constructor(
    private readonly events: ChatWindowEvents,
    private readonly opts: ZenityChatWindowOptions,
  ) {}

  show(from: string, text: string): void {
    this.add(`${from}: ${text}`);
    if (this.child) this.unseen = true;
    else this.spawnDialog();
  }

  open(): void {
    if (!this.child) this.spawnDialog();
  }

  close(): void {
    this.closed = true;
    this.child?.kill('SIGTERM');
    this.child = undefined;
    process.off('exit', this.onExit);
  }

  private add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > KEPT_LINES) this.lines.splice(0, this.lines.length - KEPT_LINES);
  }

  private spawnDialog(): void {
    if (this.closed) return;
    this.unseen = false;
    const args = [
      '--entry',
      `--title=${CHAT_WINDOW_TITLE}`,
      `--text=${chatDialogText(this.lines)}`,
      '--ok-label=Send',
      '--cancel-label=Close',
      '--width=480',
    ];
    let child: ChildProcess;
    try {
      child = spawn(this.opts.command ?? 'zenity', args, {
        stdio: ['ignore', 'pipe', 'ignore'],
        ...(this.opts.display ? { env: { ...process.env, DISPLAY: this.opts.display } } : {}),
      });
    } catch (err) {
      this.events.unavailable(`cannot run zenity: ${String(err)}`);
      return;
    }
    this.child = child;
    process.off('exit', this.onExit);
    process.on('exit', this.onExit);
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_STDOUT) stdout += d;
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.events.unavailable(
        err.code === 'ENOENT' ? 'zenity is not installed (apt install zenity)' : `zenity: ${err.message}`,
      );
    });
    child.once('close', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.closed) return;
      if (code === 0) {
        const answer = stdout.replace(/\r?\n$/, '');
        if (answer.trim() !== '') {
          this.add(`You: ${answer}`);
          this.events.reply(answer);
        }
      } else if (code !== 1) {
        this.opts.log.warn({ code, signal }, 'chat window failed');
        this.events.unavailable(`zenity ${signal ? `was killed by ${signal}` : `exited with ${code}`}`);
        return;
      }
      if (this.unseen) this.spawnDialog();
    });
  }
}

/**
 * X11: the consent prompt as a zenity question dialog (GTK; Debian's `zenity`, a Recommends of the
 * .deb), run as a child of the helper, so as the session's user, on the session's DISPLAY with its
 * XAUTHORITY (the helper's own environment). Why zenity rather than a window drawn through Xlib: it
 * brings text layout, keyboard navigation, accessibility and the desktop's theme, and its exit status
 * says which button was pressed.
 *
 * - `--no-markup`: the viewer's name is the API's token name, not Pango markup;
 * - `--default-cancel`: Deny has the focus, so Enter pressed by chance refuses (as on Windows);
 * - `_Allow` / `_Deny`: Alt+A and Alt+D press them;
 * - `--timeout`: zenity closes itself and exits 5; the helper kills it TIMEOUT_GRACE_MS later if not.
 *
 * Exit status: 0 Allow, 1 Deny (or the window closed, or Escape), 5 timed out; anything else (a
 * display it cannot open, a crash) is `unavailable`, and the service refuses the desktop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../log/logger.js';
import { CONSENT_TITLE, consentQuestion } from '../../protocol/consent-text.js';
import type { ConsentPromptAnswer, ConsentPromptUi } from './consent-prompt.js';

/** zenity's exit status for a dialog that reached its --timeout. */
export const ZENITY_TIMEOUT_EXIT = 5;
const TIMEOUT_GRACE_MS = 2000;
const MAX_STDERR = 2000;

/** What a zenity --question exit means. */
export function consentFromZenityExit(
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr = '',
): ConsentPromptAnswer {
  if (code === 0) return { outcome: 'accepted' };
  if (code === 1) return { outcome: 'denied' };
  if (code === ZENITY_TIMEOUT_EXIT) return { outcome: 'timed_out' };
  const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
  const why = stderr.trim().split('\n').pop()?.slice(0, 500);
  return { outcome: 'unavailable', reason: `zenity ${how}${why ? `: ${why}` : ''}` };
}

export interface ZenityConsentPromptOptions {
  log: Pick<Logger, 'info' | 'warn'>;
  /** The program (default `zenity` on PATH). */
  command?: string;
}

export class ZenityConsentPrompt implements ConsentPromptUi {
  private readonly open = new Set<ChildProcess>();
  private readonly onExit = (): void => this.close();

  constructor(private readonly opts: ZenityConsentPromptOptions) {}

  ask(q: { viewer: string; asks: { control: boolean; files: boolean }; timeoutMs: number }) {
    const seconds = Math.max(1, Math.round(q.timeoutMs / 1000));
    const args = [
      '--question',
      `--title=${CONSENT_TITLE}`,
      `--text=${consentQuestion(q.viewer, q.asks, q.timeoutMs)}`,
      '--no-markup',
      '--default-cancel',
      '--ok-label=_Allow',
      '--cancel-label=_Deny',
      `--timeout=${seconds}`,
      '--width=420',
    ];
    return new Promise<ConsentPromptAnswer>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(this.opts.command ?? 'zenity', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (err) {
        resolve({ outcome: 'unavailable', reason: `cannot run zenity: ${String(err)}` });
        return;
      }
      // A prompt must not outlive the helper: it would answer nobody.
      if (this.open.size === 0) process.on('exit', this.onExit);
      this.open.add(child);
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < MAX_STDERR) stderr += d;
      });
      let overran = false;
      const kill = setTimeout(
        () => {
          overran = true;
          child.kill('SIGTERM');
        },
        seconds * 1000 + TIMEOUT_GRACE_MS,
      );
      const done = (answer: ConsentPromptAnswer): void => {
        clearTimeout(kill);
        this.open.delete(child);
        if (this.open.size === 0) process.off('exit', this.onExit);
        resolve(answer);
      };
      child.once('error', (err: NodeJS.ErrnoException) => {
        const reason =
          err.code === 'ENOENT' ? 'zenity is not installed (apt install zenity)' : `zenity: ${err.message}`;
        done({ outcome: 'unavailable', reason });
      });
      child.once('exit', (code, signal) => {
        const answer = overran
          ? { outcome: 'timed_out' as const }
          : consentFromZenityExit(code, signal, stderr);
        this.opts.log.info({ outcome: answer.outcome, code, signal }, 'consent prompt closed');
        done(answer);
      });
    });
  }

  close(): void {
    for (const child of this.open) child.kill('SIGTERM');
  }
}

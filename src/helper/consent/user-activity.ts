/**
 * Is someone at this session? For `consent: when-user-present` (design/SESSION-POLICY.md): the service
 * already knows whether a user is logged on and the session active (logind); the helper, which holds
 * the session's display, adds how long its input has been idle and whether its screen saver is on.
 * The platform's reader is x11-user-activity.ts; index.ts wraps the prompt with this check.
 */
import { errorMessage } from '../../errors/error-text.js';
import type { Logger } from '../../log/logger.js';
import type { ConsentPromptAnswer, ConsentPromptUi } from './consent-prompt.js';

export interface UserActivity {
  /** Milliseconds since the last input the display saw (a person's, or any client's XTest). */
  idleMs: number;
  /** The screen saver is on: the screen is blanked or locked by a saver. */
  screenSaverOn: boolean;
}

/** Reads the session's input activity now; throws when it cannot be known. */
export type ReadUserActivity = () => UserActivity;

/** Why nobody counts as present, or undefined when someone may be. */
export function absentBecause(activity: UserActivity, absentAfterIdleMs: number): string | undefined {
  if (activity.screenSaverOn) return 'the screen saver is on';
  if (activity.idleMs >= absentAfterIdleMs)
    return `no input for ${Math.floor(activity.idleMs / 1000)} s (the policy says nobody is there after ${Math.floor(absentAfterIdleMs / 1000)} s)`;
  return undefined;
}

/**
 * The prompt, asked only when someone may be there: a question carrying `absentAfterIdleMs` is answered
 * `absent` without a window when the reader says the session is idle that long or its screen saver is
 * on. An activity that cannot be read (no MIT-SCREEN-SAVER extension, libXss missing) counts as
 * someone there: the prompt shows, as it did before this check existed (fail towards asking).
 */
export function askWhenPresent(
  ui: ConsentPromptUi,
  read: ReadUserActivity,
  log: Pick<Logger, 'info' | 'warn'>,
): ConsentPromptUi {
  return {
    async ask(q): Promise<ConsentPromptAnswer> {
      if (q.absentAfterIdleMs !== undefined) {
        let activity: UserActivity | undefined;
        try {
          activity = read();
        } catch (err) {
          log.warn({ err: errorMessage(err) }, 'input idle time unknown: asking');
        }
        const why = activity && absentBecause(activity, q.absentAfterIdleMs);
        if (why) {
          log.info(
            { idleMs: activity!.idleMs, screenSaverOn: activity!.screenSaverOn },
            'nobody at the session: not asked',
          );
          return { outcome: 'absent', reason: why };
        }
      }
      return ui.ask(q);
    },
    close: () => ui.close(),
  };
}

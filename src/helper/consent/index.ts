/**
 * The helper's consent prompt for this platform: zenity on X11, asked only when someone may be at the
 * session (user-activity.ts, XScreenSaver idle time); on Windows the service shows the prompt itself
 * (WTSSendMessageW), so a Windows helper answers `unavailable`.
 */
import type { Logger } from '../../log/logger.js';
import type { ConsentPromptUi } from './consent-prompt.js';
import { askWhenPresent } from './user-activity.js';
import { ZenityConsentPrompt } from './zenity-prompt.js';

// The X11 reader loads libX11 when its module is evaluated: Linux only, so the helper starts on Windows.
const x11 = process.platform === 'linux' ? await import('./x11-user-activity.js') : undefined;

export function createConsentPromptUi(log: Pick<Logger, 'info' | 'warn'>): ConsentPromptUi {
  if (process.platform === 'win32') {
    return {
      ask: () =>
        Promise.resolve({
          outcome: 'unavailable',
          reason: 'on Windows the service shows the consent prompt',
        }),
      close: () => {},
    };
  }
  const zenity = new ZenityConsentPrompt({ log });
  return x11 ? askWhenPresent(zenity, () => x11.readX11UserActivity(), log) : zenity;
}

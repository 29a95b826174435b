/**
 * The helper's consent prompt for this platform: zenity on X11; on Windows the service shows the
 * prompt itself (WTSSendMessageW), so a Windows helper answers `unavailable`.
 */
import type { Logger } from '../../log/logger.js';
import type { ConsentPromptUi } from './consent-prompt.js';
import { ZenityConsentPrompt } from './zenity-prompt.js';

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
  return new ZenityConsentPrompt({ log });
}

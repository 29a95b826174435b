/**
 * Windows: the consent prompt is a message box the service puts into the target session with
 * WTSSendMessageW. It works from Session 0 into any session without a helper and without a window
 * station of the service's own, has its own timeout, and returns the button pressed. It blocks its
 * calling thread until then, so it runs on libuv's pool through koffi's `.async`
 * (wtsapi32.ts sendMessageAsync), never on the main thread.
 *
 * Yes/No with No as the default button: a key pressed by chance (Enter, Space) while the box pops up
 * over the user's work refuses rather than lets someone in.
 */
import {
  IDASYNC,
  IDCANCEL,
  IDNO,
  IDOK,
  IDTIMEOUT,
  IDYES,
  MB_DEFBUTTON2,
  MB_ICONQUESTION,
  MB_SETFOREGROUND,
  MB_TOPMOST,
  MB_YESNO,
  sendMessageAsync,
} from '../../native/win32/wtsapi32.js';
import { errorMessage } from '../../errors/error-text.js';
import { CONSENT_TITLE, consentQuestion } from '../../protocol/consent-text.js';
import type { ConsentPrompter, PromptAnswer } from '../consent/consent-gate.js';

export const CONSENT_BOX_STYLE = MB_YESNO | MB_ICONQUESTION | MB_DEFBUTTON2 | MB_SETFOREGROUND | MB_TOPMOST;

/** The answer a WTSSendMessageW response stands for. */
export function consentFromResponse(response: number): PromptAnswer {
  switch (response) {
    case IDYES:
    case IDOK:
      return { outcome: 'accepted' };
    case IDNO:
    case IDCANCEL:
      return { outcome: 'denied' };
    case IDTIMEOUT:
      return { outcome: 'timed_out' };
    case IDASYNC:
      // Only with bWait FALSE, which porthole never passes.
      return { outcome: 'unavailable', reason: 'WTSSendMessageW did not wait for the answer (IDASYNC)' };
    default:
      return {
        outcome: 'unavailable',
        reason: `WTSSendMessageW returned the unexpected response ${response}`,
      };
  }
}

export type SendMessage = typeof sendMessageAsync;

/**
 * Boxes open at once on the whole machine. Each holds one of libuv's four pool threads for up to the
 * consent timeout, and the service's pipe I/O completes through a wait on that pool too
 * (event-waiter.ts): two boxes leave it two threads.
 */
export const MAX_OPEN_BOXES = 2;

export function createWin32ConsentPrompter(send: SendMessage = sendMessageAsync): ConsentPrompter {
  let open = 0;
  return {
    async ask(q) {
      if (open >= MAX_OPEN_BOXES) {
        return {
          outcome: 'unavailable',
          reason: `${open} consent prompts are already open on this machine; try again when they are answered`,
        };
      }
      const seconds = Math.max(1, Math.round(q.timeoutMs / 1000));
      open += 1;
      try {
        const response = await send(
          q.sessionId,
          CONSENT_TITLE,
          consentQuestion(q.viewer, q.asks, q.timeoutMs),
          CONSENT_BOX_STYLE,
          seconds,
        );
        return consentFromResponse(response);
      } catch (err) {
        return { outcome: 'unavailable', reason: errorMessage(err) };
      } finally {
        open -= 1;
      }
    },
  };
}

/**
 * X11: the consent prompt is shown by the session's helper, which runs as the session's user with
 * its DISPLAY and XAUTHORITY (the service, root, has no business opening windows on a user's
 * display). The service asks with a `consent_prompt` request and the helper answers with the button
 * pressed (src/helper/consent/).
 */
import { errorMessage } from '../../errors/error-text.js';
import type { ConsentPrompter, PromptAnswer } from './consent-gate.js';

/** Time beyond the prompt's own timeout for the helper's answer to arrive. */
const ANSWER_MARGIN_MS = 3000;

export const helperConsentPrompter: ConsentPrompter = {
  async ask(q, helper): Promise<PromptAnswer> {
    try {
      const reply = await helper.request(
        {
          type: 'consent_prompt',
          viewer: q.viewer,
          asks: q.asks,
          timeoutMs: q.timeoutMs,
          ...(q.absentAfterIdleMs !== undefined ? { absentAfterIdleMs: q.absentAfterIdleMs } : {}),
        },
        q.timeoutMs + ANSWER_MARGIN_MS,
      );
      if (reply.type !== 'consent_answer') {
        return { outcome: 'unavailable', reason: `the helper answered consent_prompt with ${reply.type}` };
      }
      return reply.reason === undefined
        ? { outcome: reply.outcome }
        : { outcome: reply.outcome, reason: reply.reason };
    } catch (err) {
      return { outcome: 'unavailable', reason: `the helper did not answer: ${errorMessage(err)}` };
    }
  },
};

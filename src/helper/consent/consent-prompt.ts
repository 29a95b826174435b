/**
 * The consent prompt the helper shows in its session when the service asks (`consent_prompt`, X11):
 * who asks and for what, Allow / Deny, closing by itself at the timeout. The service decides whether
 * to ask and what the answer means (src/service/consent); this only asks. The factory that picks the
 * platform's prompt is ./index.ts.
 */
import type { ConsentAnswer, ConsentPrompt } from '../../protocol/ipc.js';

export type ConsentPromptAnswer = Omit<ConsentAnswer, 'type'>;

export interface ConsentPromptUi {
  /** Shows the prompt and resolves with the answer; never rejects. */
  ask(q: Omit<ConsentPrompt, 'type'>): Promise<ConsentPromptAnswer>;
  /** Closes every prompt still open (the helper is stopping). */
  close(): void;
}

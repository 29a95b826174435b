/**
 * The Windows consent prompt's call under Wine: WTSSendMessageW declared as the SDK has it, called on
 * libuv's pool through koffi's `.async` with the main thread free meanwhile. Wine's WTSSendMessageW is
 * a stub that returns FALSE without showing anything, so what runs here is the call's shape and the
 * failure path (the prompter answers `unavailable`, and the broker refuses the desktop); the box, its
 * buttons and its timeout in a real user session are steps of scripts/windows-vm-check.ps1.
 */
import { describe, expect, test } from 'vitest';
import { sendMessageAsync } from '../../src/native/win32/wtsapi32.js';
import {
  CONSENT_BOX_STYLE,
  createWin32ConsentPrompter,
} from '../../src/service/windows/win32-consent-prompt.js';

describe('WTSSendMessageW through koffi .async (Wine)', () => {
  test('runs off the main thread and settles, naming the call when it fails', async () => {
    let mainThreadRan = false;
    const call = sendMessageAsync(1, 'porthole test', 'a question', CONSENT_BOX_STYLE, 1);
    setImmediate(() => (mainThreadRan = true));
    const settled = await call.then(
      (response) => ({ response }),
      (err: Error) => ({ error: err.message }),
    );
    expect(mainThreadRan).toBe(true);
    // Wine: the stub's FALSE. (A Windows with a session 1 would show the box and time out: 32000.)
    expect(settled).toEqual({ error: expect.stringMatching(/^WTSSendMessageW failed/) });
  });

  test('the prompter turns the failure into `unavailable`, naming the call', async () => {
    const answer = await createWin32ConsentPrompter().ask(
      { sessionId: 1, viewer: 'alice', asks: { control: true, files: false }, timeoutMs: 5000 },
      { request: () => Promise.reject(new Error('not used on Windows')) },
    );
    expect(answer).toEqual({
      outcome: 'unavailable',
      reason: expect.stringMatching(/^WTSSendMessageW failed/),
    });
  });
});

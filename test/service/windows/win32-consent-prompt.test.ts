/**
 * The Windows consent prompt's decision logic, on Linux with WTSSendMessageW stood in for (Wine's is a
 * stub): which response means what, and what the message box is asked to show. The call's shape runs
 * under Wine (test/win32/consent-prompt.test.ts); the real box only on a Windows VM
 * (scripts/windows-vm-check.ps1).
 */
import { describe, expect, it } from 'vitest';
import {
  CONSENT_BOX_STYLE,
  consentFromResponse,
  createWin32ConsentPrompter,
  MAX_OPEN_BOXES,
  type SendMessage,
} from '../../../src/service/windows/win32-consent-prompt.js';

// The values of winuser.h/wtsapi32.h, written out: the test must fail if the module's constants drift.
const IDOK = 1;
const IDCANCEL = 2;
const IDYES = 6;
const IDNO = 7;
const IDTIMEOUT = 32000;
const IDASYNC = 32001;

describe('a WTSSendMessageW response as a consent answer', () => {
  it.each([
    [IDYES, 'accepted'],
    [IDOK, 'accepted'],
    [IDNO, 'denied'],
    [IDCANCEL, 'denied'],
    [IDTIMEOUT, 'timed_out'],
    [IDASYNC, 'unavailable'],
    [0, 'unavailable'],
    [3, 'unavailable'],
  ])('%i is %s', (response, outcome) => {
    expect(consentFromResponse(response).outcome).toBe(outcome);
  });
});

describe('the prompter', () => {
  const question = {
    sessionId: 3,
    viewer: 'alice\nEVIL LINE',
    asks: { control: true, files: true },
    timeoutMs: 30_000,
  };
  const helper = { request: () => Promise.reject(new Error('Windows asks without the helper')) };

  it('asks Yes/No (No the default) in the target session with the timeout in seconds', async () => {
    const calls: Parameters<SendMessage>[] = [];
    const prompter = createWin32ConsentPrompter((...args) => {
      calls.push(args);
      return Promise.resolve(IDYES);
    });
    expect(await prompter.ask(question, helper)).toEqual({ outcome: 'accepted' });
    expect(calls).toHaveLength(1);
    const [session, title, message, style, seconds] = calls[0]!;
    expect({ session, title, style, seconds }).toEqual({
      session: 3,
      title: 'porthole: remote access request',
      style: 0x4 | 0x20 | 0x100 | 0x10000 | 0x40000, // MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2|MB_SETFOREGROUND|MB_TOPMOST
      seconds: 30,
    });
    expect(style).toBe(CONSENT_BOX_STYLE);
    expect(message).toMatch(/^alice EVIL LINE wants to view and control this screen and transfer files\./);
  });

  it('answers unavailable when the call fails, with the failure', async () => {
    const prompter = createWin32ConsentPrompter(() =>
      Promise.reject(new Error('WTSSendMessageW failed: 0 ERROR_SUCCESS (returned FALSE)')),
    );
    expect(await prompter.ask(question, helper)).toEqual({
      outcome: 'unavailable',
      reason: 'WTSSendMessageW failed: 0 ERROR_SUCCESS (returned FALSE)',
    });
  });
});

describe('boxes open at once', () => {
  it(`refuses a third box while ${MAX_OPEN_BOXES} are open, and takes one again once one closed`, async () => {
    const pending: ((response: number) => void)[] = [];
    const prompter = createWin32ConsentPrompter(
      () => new Promise<number>((resolve) => pending.push(resolve)),
    );
    const q = { sessionId: 1, viewer: 'v', asks: { control: true, files: true }, timeoutMs: 30_000 };
    const helper = { request: () => Promise.reject(new Error('unused')) };
    const first = prompter.ask(q, helper);
    const second = prompter.ask(q, helper);
    expect(await prompter.ask(q, helper)).toEqual({
      outcome: 'unavailable',
      reason: expect.stringMatching(/^2 consent prompts are already open/),
    });
    expect(pending).toHaveLength(2);
    pending[0]!(IDNO);
    expect(await first).toEqual({ outcome: 'denied' });
    const third = prompter.ask(q, helper);
    expect(pending).toHaveLength(3);
    pending[1]!(IDTIMEOUT);
    pending[2]!(IDYES);
    expect([await second, await third]).toEqual([{ outcome: 'timed_out' }, { outcome: 'accepted' }]);
  });
});

/**
 * The Windows sender's checks that run before SendSAS, on Linux with the policy read and SendSAS
 * stood in for; the impersonation and the call itself run under Wine (test/win32/secure-attention.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { sasPolicyProblem } from '../../../src/service/secure-attention.js';
import { createWin32SecureAttention } from '../../../src/service/windows/win32-secure-attention.js';

describe('the Windows sender refuses before SendSAS what SendSAS would ignore', () => {
  const neverSent = () => {
    throw new Error('SendSAS must not be called');
  };

  it('outside the service control manager', () => {
    const sender = createWin32SecureAttention({ underScm: false, readPolicy: () => 1, sendSas: neverSent });
    expect(sender.send(1)).toEqual({
      outcome: 'unsupported',
      reason: expect.stringMatching(/^Ctrl\+Alt\+Del can be sent only by the installed service/),
    });
  });

  it('without the policy, naming it', () => {
    const sender = createWin32SecureAttention({
      underScm: true,
      readPolicy: () => undefined,
      sendSas: neverSent,
    });
    expect(sender.send(1)).toEqual({ outcome: 'unsupported', reason: sasPolicyProblem(undefined) });
  });

  it('when the policy cannot be read', () => {
    const sender = createWin32SecureAttention({
      underScm: true,
      readPolicy: () => {
        throw new Error('RegGetValueW failed: 5 ERROR_ACCESS_DENIED');
      },
      sendSas: neverSent,
    });
    expect(sender.send(1)).toEqual({
      outcome: 'failed',
      reason: 'cannot read the SoftwareSASGeneration policy: RegGetValueW failed: 5 ERROR_ACCESS_DENIED',
    });
  });
});

/**
 * Ctrl+Alt+Del from the service under Wine: the policy read from HKLM, sas.dll's SendSAS, and the
 * impersonation of the service's own token moved into the target session around the call, with
 * SendSAS stood in for: Wine's sas.dll exports SendSAS as an unimplemented stub, which aborts the
 * process when called. Wine also keeps a token's session id unchanged. That the SAS reaches the
 * session's Winlogon is a step of the VM script.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HKEY_LOCAL_MACHINE, readDword } from '../../src/native/win32/registry.js';
import { sendSasFunction } from '../../src/native/win32/sas.js';
import { SecurityImpersonation, threadImpersonation } from '../../src/native/win32/token.js';
import { SAS_POLICY_KEY, SAS_POLICY_VALUE, sasPolicyProblem } from '../../src/service/secure-attention.js';
import { createWin32SecureAttention } from '../../src/service/windows/win32-secure-attention.js';

const reg = (...args: string[]) => spawnSync('reg', args, { encoding: 'utf8' });
const setPolicy = (value: number) =>
  reg('add', `HKLM\\${SAS_POLICY_KEY}`, '/v', SAS_POLICY_VALUE, '/t', 'REG_DWORD', '/d', String(value), '/f');
const deletePolicy = () => reg('delete', `HKLM\\${SAS_POLICY_KEY}`, '/v', SAS_POLICY_VALUE, '/f');

describe('SendSAS from the service (Wine)', () => {
  beforeAll(() => void deletePolicy());
  afterAll(() => void deletePolicy());

  test('without the SoftwareSASGeneration policy, says which policy and how to set it', () => {
    expect(readDword(HKEY_LOCAL_MACHINE, SAS_POLICY_KEY, SAS_POLICY_VALUE)).toBeUndefined();
    const sender = createWin32SecureAttention({ underScm: true });
    expect(sender.send(1)).toEqual({ outcome: 'unsupported', reason: sasPolicyProblem(undefined) });
  });

  test('with the policy at 1, calls SendSAS while impersonating its own token, and reverts', () => {
    expect(setPolicy(1).status).toBe(0);
    expect(readDword(HKEY_LOCAL_MACHINE, SAS_POLICY_KEY, SAS_POLICY_VALUE)).toBe(1);
    const during: ReturnType<typeof threadImpersonation>[] = [];
    const sender = createWin32SecureAttention({
      underScm: true,
      sendSas: () => void during.push(threadImpersonation()),
    });
    expect(threadImpersonation()).toBeUndefined();
    expect(sender.send(1)).toEqual({ outcome: 'sent' });
    // The thread held an impersonation token for the call (Wine keeps its session id as it was) …
    expect(during).toEqual([{ level: SecurityImpersonation, sessionId: expect.any(Number) }]);
    // … and is itself again afterwards.
    expect(threadImpersonation()).toBeUndefined();
  });

  test('a SendSAS that throws still reverts the impersonation, and is reported as failed', () => {
    expect(setPolicy(3).status).toBe(0);
    const sender = createWin32SecureAttention({
      underScm: true,
      sendSas: () => {
        throw new Error('stand-in failure');
      },
    });
    expect(sender.send(1)).toEqual({ outcome: 'failed', reason: 'stand-in failure' });
    expect(threadImpersonation()).toBeUndefined();
  });

  test('finds SendSAS in sas.dll (Wine exports it as an unimplemented stub: calling it aborts the process)', () => {
    expect(typeof sendSasFunction()).toBe('function');
  });

  test('with the policy at 2 (Ease of Access applications only), refuses', () => {
    expect(setPolicy(2).status).toBe(0);
    expect(createWin32SecureAttention({ underScm: true }).send(1)).toEqual({
      outcome: 'unsupported',
      reason: sasPolicyProblem(2),
    });
  });
});

/**
 * SendSAS from the service, into one session. The SendSAS remarks set the rules, each checked here
 * before the call, since SendSAS itself reports nothing:
 *
 * - the caller must be a service: the process was started by the service control manager (`--scm`);
 *   a `porthole service` run from a console is refused with the reason;
 * - the SoftwareSASGeneration policy must allow services (1 or 3), or Windows ignores the call: the
 *   refusal names the policy and how to set it (../secure-attention.ts);
 * - "a call to the SendSAS function by that service simulates a SAS on the session associated with the
 *   impersonated token": the service impersonates a duplicate of its own token moved into the target
 *   session (TokenSessionId, which needs SE_TCB_NAME: LocalSystem), for the length of the call only.
 *
 * The helper's token is not used: the helper connects at SecurityIdentification, which lets nobody act
 * as it, and the service's own LocalSystem token is what SendSAS expects of a service.
 *
 * Peers: TigerVNC's service calls SendSAS(FALSE) when its helper sets a global event (console session
 * only); RustDesk's helper asks its service over IPC for the console session, and the service
 * temporarily sets SoftwareSASGeneration to 1 if needed. porthole reports a missing policy instead of
 * changing a machine policy behind the administrator's back.
 */
import { HKEY_LOCAL_MACHINE, readDword } from '../../native/win32/registry.js';
import { sendSasFunction } from '../../native/win32/sas.js';
import {
  duplicateImpersonationToken,
  openProcessToken,
  setTokenSessionId,
  TOKEN_DUPLICATE,
  TOKEN_QUERY,
  whileImpersonating,
} from '../../native/win32/token.js';
import { closeHandle } from '../../native/win32/kernel32.js';
import { errorMessage } from '../../errors/error-text.js';
import {
  SAS_POLICY_KEY,
  SAS_POLICY_VALUE,
  sasPolicyProblem,
  type SasSendOutcome,
  type SecureAttentionSender,
} from '../secure-attention.js';

export interface Win32SecureAttentionOptions {
  /** The process was started by the service control manager (`porthole service --scm`). */
  underScm: boolean;
  /** The policy's value (default: read from HKLM on each request, so a change applies at once). */
  readPolicy?: () => number | undefined;
  /** SendSAS(FALSE) (default: sas.dll's); a Wine test passes a stand-in that looks at the thread. */
  sendSas?: () => void;
}

export function createWin32SecureAttention(opts: Win32SecureAttentionOptions): SecureAttentionSender {
  const readPolicy =
    opts.readPolicy ?? (() => readDword(HKEY_LOCAL_MACHINE, SAS_POLICY_KEY, SAS_POLICY_VALUE));
  return {
    send(sessionId: number): SasSendOutcome {
      if (!opts.underScm) {
        return {
          outcome: 'unsupported',
          reason:
            'Ctrl+Alt+Del can be sent only by the installed service: this porthole service was not started ' +
            'by the service control manager (porthole service install, then start it)',
        };
      }
      let policy: number | undefined;
      try {
        policy = readPolicy();
      } catch (err) {
        return {
          outcome: 'failed',
          reason: `cannot read the ${SAS_POLICY_VALUE} policy: ${errorMessage(err)}`,
        };
      }
      const problem = sasPolicyProblem(policy);
      if (problem) return { outcome: 'unsupported', reason: problem };
      let sendSas: () => void;
      try {
        sendSas = opts.sendSas ?? sendSasFunction();
      } catch (err) {
        return { outcome: 'unsupported', reason: `sas.dll cannot be loaded: ${errorMessage(err)}` };
      }
      try {
        sendInSession(sessionId, sendSas);
      } catch (err) {
        return { outcome: 'failed', reason: errorMessage(err) };
      }
      return { outcome: 'sent' };
    },
  };
}

/** Runs `sendSas` while the thread impersonates the service's own token moved into `sessionId`. */
function sendInSession(sessionId: number, sendSas: () => void): void {
  const own = openProcessToken(TOKEN_DUPLICATE | TOKEN_QUERY);
  try {
    const token = duplicateImpersonationToken(own);
    try {
      setTokenSessionId(token, sessionId);
      whileImpersonating(token, sendSas);
    } finally {
      closeHandle(token);
    }
  } finally {
    closeHandle(own);
  }
}

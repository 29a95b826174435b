/**
 * Ctrl+Alt+Del, the one input action that passes through the service. Windows lets only a service (or
 * a signed UIAccess program in a protected folder) simulate the secure attention sequence: SendSAS from
 * a process that is not a service works only for the current user or LocalSystem with UAC on, and
 * every caller needs the SoftwareSASGeneration policy (SendSAS remarks). A service that impersonates a
 * token "simulates a SAS on the session associated with the impersonated token", so the service sends
 * it into the helper's session (windows/win32-secure-attention.ts).
 *
 * The helper asks with a `secure_attention` request that names no session: the relay sends it to the
 * session the broker spawned that helper into, at most once per SECURE_ATTENTION_INTERVAL_MS per
 * session (respawned helpers of a session share the budget), and answers with the outcome.
 */
import {
  SECURE_ATTENTION_INTERVAL_MS,
  MAX_SECURE_ATTENTION_REASON,
  type SecureAttentionResult,
} from '../protocol/ipc.js';
import { errorMessage } from '../errors/error-text.js';
import type { Logger } from '../log/logger.js';
import { realTimers, type Timers } from '../time/timers.js';

/** What sending the sequence into a session came to: `sent`, or why not. */
export type SasSendOutcome = { outcome: 'sent' } | { outcome: 'unsupported' | 'failed'; reason: string };

/** Sends the secure attention sequence to one session (the platform part). */
export interface SecureAttentionSender {
  send(sessionId: number): SasSendOutcome;
}

/** Where Windows reads the policy, and its value name (HKLM). */
export const SAS_POLICY_KEY = 'SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System';
export const SAS_POLICY_VALUE = 'SoftwareSASGeneration';

/**
 * SoftwareSASGeneration: 0 (or absent) none, 1 services, 2 Ease of Access applications, 3 both. Returns
 * what the viewer should read when services may not send the sequence, with how to allow it.
 */
export function sasPolicyProblem(value: number | undefined): string | undefined {
  if (value === 1 || value === 3) return undefined;
  const now = value === undefined ? 'is not set' : `is ${value}, which does not include services`;
  return (
    `Ctrl+Alt+Del is turned off on this machine: the policy ${SAS_POLICY_VALUE} ${now}. ` +
    'An administrator can allow it with Group Policy (Computer Configuration > Administrative Templates > ' +
    'Windows Components > Windows Logon Options > "Disable or enable software Secure Attention Sequence": ' +
    'Enabled, Services) or with: ' +
    `reg add "HKLM\\${SAS_POLICY_KEY}" /v ${SAS_POLICY_VALUE} /t REG_DWORD /d 1 /f`
  );
}

/** Where there is no secure attention sequence to send (Linux, the development mode). */
export const noSecureAttention: SecureAttentionSender = {
  send: () => ({ outcome: 'unsupported', reason: 'Ctrl+Alt+Del exists only on Windows' }),
};

export interface SecureAttentionRelayOptions {
  sender: SecureAttentionSender;
  log: Pick<Logger, 'info' | 'warn'>;
  timers?: Timers;
  /** Shortest time between two sends into one session (default SECURE_ATTENTION_INTERVAL_MS). */
  intervalMs?: number;
}

/** Rate-limits, sends and logs each session's Ctrl+Alt+Del requests. */
export class SecureAttentionRelay {
  readonly #opts: SecureAttentionRelayOptions;
  readonly #timers: Timers;
  /** Per session: when the last request was let through. */
  readonly #last = new Map<number, number>();
  /** Refusal reasons already logged at warn: a viewer pressing the button again adds nothing new. */
  readonly #warned = new Set<string>();

  constructor(opts: SecureAttentionRelayOptions) {
    this.#opts = opts;
    this.#timers = opts.timers ?? realTimers;
  }

  request(sessionId: number): SecureAttentionResult {
    const now = this.#timers.now();
    const interval = this.#opts.intervalMs ?? SECURE_ATTENTION_INTERVAL_MS;
    const last = this.#last.get(sessionId);
    if (last !== undefined && now - last < interval) {
      const retryAfterMs = Math.ceil(interval - (now - last));
      return {
        type: 'secure_attention_result',
        outcome: 'rate_limited',
        reason: `at most one Ctrl+Alt+Del every ${interval / 1000} s`,
        retryAfterMs,
      };
    }
    // Counted whatever the outcome: a refused request must not be retried at the viewer's pace either.
    this.#last.set(sessionId, now);
    let result: SasSendOutcome;
    try {
      result = this.#opts.sender.send(sessionId);
    } catch (err) {
      result = { outcome: 'failed', reason: errorMessage(err) };
    }
    if (result.outcome === 'sent') {
      this.#opts.log.info({ sessionId }, 'Ctrl+Alt+Del sent (SendSAS)');
      return { type: 'secure_attention_result', outcome: 'sent' };
    }
    if (!this.#warned.has(result.reason)) {
      if (this.#warned.size >= 32) this.#warned.clear();
      this.#warned.add(result.reason);
      this.#opts.log.warn(
        { sessionId, outcome: result.outcome, reason: result.reason },
        'Ctrl+Alt+Del not sent',
      );
    }
    return {
      type: 'secure_attention_result',
      outcome: result.outcome,
      reason: result.reason.slice(0, MAX_SECURE_ATTENTION_REASON),
    };
  }

  /** Forgets a session (it ended). */
  forget(sessionId: number): void {
    this.#last.delete(sessionId);
  }
}

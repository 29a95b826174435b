/**
 * Attended access: the `access` section of porthole.json. Whether the person at the machine is asked
 * before a viewer's desktop starts (consent), what a prompt nobody answers means, how long an answer
 * holds for a reconnect, and how long a desktop may last or idle (design/SESSION-POLICY.md).
 */
import type { ViewerPermissions } from '../protocol/ipc.js';
import { MAX_CONSENT_TIMEOUT_MS } from '../protocol/api.js';
import { bool, int, object, oneOf, optional, ProtocolError, type Guard } from '../protocol/validate.js';
import type { DetectedSession } from './sessions/session-detector.js';

export const CONSENT_MODES = ['never', 'always', 'when-user-present'] as const;
export type ConsentMode = (typeof CONSENT_MODES)[number];
export const CONSENT_TIMEOUT_ANSWERS = ['deny', 'accept'] as const;

export interface AccessPolicy {
  /** `never`: unattended access; `always`: every desktop asks; `when-user-present`: see userPresent. */
  consent: ConsentMode;
  /** How long the prompt waits for an answer. */
  consentTimeoutMs: number;
  /** What a prompt nobody answered means. */
  onConsentTimeout: (typeof CONSENT_TIMEOUT_ANSWERS)[number];
  /** A view-only viewer (no control, no files) connects without asking. */
  viewOnlySkipsConsent: boolean;
  /**
   * A viewer accepted for a session is not asked again for that session (for no more than it was
   * accepted for) while one of its desktops runs there, or within this long after the last one
   * ended: the viewer's own reconnects after a network drop. 0: every start_desktop asks.
   */
  consentHoldMs: number;
  /** A desktop is cut this long after it started (0: no limit). */
  maxSessionMs: number;
  /** A desktop is cut after this long without input from its viewer (0: no limit). */
  idleTimeoutMs: number;
  /** The viewer is warned this long before either cut. */
  limitWarningMs: number;
  /**
   * `when-user-present` on X11: a session whose display has seen no input for this long, or whose
   * screen saver is on, counts as nobody there (the helper reads XScreenSaverQueryInfo). 0: the idle
   * time is not read. Windows does not read it (see SESSION-POLICY.md).
   */
  absentAfterIdleMs: number;
  /**
   * While a viewer allowed to control is connected, the session's own keyboard and mouse are blocked
   * (Windows BlockInput; Ctrl+Alt+Del gives them back). X11: not possible soundly, logged.
   */
  blockLocalInput: boolean;
}

export const DEFAULT_ACCESS_POLICY: Readonly<AccessPolicy> = Object.freeze({
  // Unattended, as before this policy existed: an existing install keeps working unchanged.
  consent: 'never',
  consentTimeoutMs: 30_000,
  // A prompt nobody answered is no consent.
  onConsentTimeout: 'deny',
  viewOnlySkipsConsent: false,
  // Covers the viewer's own reconnects (5 attempts over ~23 s) with a wide margin.
  consentHoldMs: 300_000,
  maxSessionMs: 0,
  idleTimeoutMs: 0,
  limitWarningMs: 60_000,
  // Five minutes without a key or a mouse move: the person has walked away (a screen saver's own delay
  // is often 5–10 min).
  absentAfterIdleMs: 300_000,
  blockLocalInput: false,
});

/** A limit: 0 (off), or 1 s … 24 h. */
const limitMs: Guard<number> = (v, path) => {
  const n = int(0, 86_400_000)(v, path);
  if (n !== 0 && n < 1000) throw new ProtocolError(path, 'must be 0 (no limit) or at least 1000 ms');
  return n;
};

/** The section as porthole.json may write it: every field optional, each bounded. */
export const accessPolicyShape = object({
  consent: optional(oneOf(CONSENT_MODES)),
  consentTimeoutMs: optional(int(5000, MAX_CONSENT_TIMEOUT_MS)),
  onConsentTimeout: optional(oneOf(CONSENT_TIMEOUT_ANSWERS)),
  viewOnlySkipsConsent: optional(bool),
  consentHoldMs: optional(int(0, 86_400_000)),
  maxSessionMs: optional(limitMs),
  idleTimeoutMs: optional(limitMs),
  limitWarningMs: optional(int(0, 3_600_000)),
  absentAfterIdleMs: optional((v, path) => {
    const n = int(0, 86_400_000)(v, path);
    if (n !== 0 && n < 10_000) throw new ProtocolError(path, 'must be 0 (not read) or at least 10000 ms');
    return n;
  }),
  blockLocalInput: optional(bool),
});

/** Defaults filled in and the fields checked against each other (a ProtocolError names the field). */
export function resolveAccessPolicy(raw: ReturnType<typeof accessPolicyShape> | undefined): AccessPolicy {
  const policy: AccessPolicy = { ...DEFAULT_ACCESS_POLICY };
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (value !== undefined) (policy as unknown as Record<string, unknown>)[key] = value;
  }
  for (const limit of ['maxSessionMs', 'idleTimeoutMs'] as const) {
    if (policy[limit] !== 0 && policy.limitWarningMs >= policy[limit]) {
      throw new ProtocolError(
        'access.limitWarningMs',
        `must be shorter than access.${limit} (${policy[limit]} ms), or the warning would come before the desktop started`,
      );
    }
  }
  return policy;
}

/**
 * Someone may be at the session: a user is logged on to it and it is the active one (not locked, not
 * disconnected, not a login screen). On Windows that is WTSActive with a user; on X11 the display's
 * logind session is active with a user (a display logind does not know counts as active:
 * x11-session-detector.ts). On X11 the helper then also reads the display's input idle time before it
 * shows the prompt (`absentAfterIdleMs`): idle that long, nobody is there and nothing is asked.
 */
export function userPresent(session: Pick<DetectedSession, 'state' | 'username'>): boolean {
  return session.state === 'active' && session.username !== '';
}

/** Whether a start_desktop for this session and viewer must wait for the person's answer. */
export function consentRequired(
  policy: Pick<AccessPolicy, 'consent' | 'viewOnlySkipsConsent'>,
  session: Pick<DetectedSession, 'state' | 'username'>,
  asks: ViewerPermissions,
): boolean {
  if (policy.consent === 'never') return false;
  if (policy.viewOnlySkipsConsent && !asks.control && !asks.files) return false;
  if (policy.consent === 'when-user-present') return userPresent(session);
  return true;
}

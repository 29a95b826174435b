/**
 * The codes a failed request is answered with, on the API link and on the service ⇄ helper pipe
 * alike: one list, so that a code raised on one side of the service crosses the other unchanged.
 * design/PROTOCOL.md documents each. An error whose `code` is one of these is answered with it.
 * `too_many_viewers`, `busy` and `rate_limited` are capacity limits: they come with a `retryAfterMs`.
 * The consent codes answer a start_desktop the person at the machine did not accept (consent-policy.ts).
 */
export const REPLY_ERROR_CODES = [
  'bad_request',
  'no_such_session',
  'helper_unavailable',
  'timeout',
  'internal',
  /** The session's helper already serves as many desktops as it may. */
  'too_many_viewers',
  /** The agent is handling as many commands as it may at once. */
  'busy',
  /** This viewer holds its share of desktops not yet connected. */
  'rate_limited',
  /** The person at the machine refused this viewer (or a timeout's default answer was "deny"). */
  'consent_denied',
  /** Nobody answered the consent prompt in time, and the policy's answer on timeout is "deny". */
  'consent_timeout',
  /**
   * `add_peer` named a desktop connection this machine does not serve, or one of another viewer (the
   * same answer for both: a desktop id is never confirmed to a viewer it does not belong to).
   */
  'no_such_desktop',
] as const;
export type ReplyErrorCode = (typeof REPLY_ERROR_CODES)[number];

export function isReplyErrorCode(code: unknown): code is ReplyErrorCode {
  return typeof code === 'string' && (REPLY_ERROR_CODES as readonly string[]).includes(code);
}

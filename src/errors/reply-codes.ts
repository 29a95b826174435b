/**
 * The codes a failed request is answered with, on the API link and on the service ⇄ helper pipe
 * alike: one list, so that a code raised on one side of the service crosses the other unchanged.
 * design/PROTOCOL.md documents each. An error whose `code` is one of these is answered with it.
 * The last three are capacity limits: they come with a `retryAfterMs`.
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
] as const;
export type ReplyErrorCode = (typeof REPLY_ERROR_CODES)[number];

export function isReplyErrorCode(code: unknown): code is ReplyErrorCode {
  return typeof code === 'string' && (REPLY_ERROR_CODES as readonly string[]).includes(code);
}

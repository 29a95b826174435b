import { PortholeError } from '../errors/porthole-error.js';
import { isReplyErrorCode, type ReplyErrorCode } from '../errors/reply-codes.js';
import { errorMessage } from '../errors/error-text.js';
import { ChannelClosedError } from '../ipc/errors.js';

/** A failure with one of the reply codes, returned to the API as is. */
export class BrokerError extends PortholeError<ReplyErrorCode> {
  override name = 'BrokerError';
}

/**
 * What a desktop command's failure is answered with: a porthole error that carries a reply code
 * keeps it (a helper's `bad_request`, a request's `timeout`), a helper channel that closed under the
 * request is `helper_unavailable`, anything else is `internal`.
 */
export function toBrokerError(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof PortholeError && isReplyErrorCode(err.code)) {
    const retry = err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs };
    return new BrokerError(err.code, err.message, { cause: err, ...retry });
  }
  if (err instanceof ChannelClosedError)
    return new BrokerError('helper_unavailable', err.message, { cause: err });
  return new BrokerError('internal', errorMessage(err), { cause: err });
}

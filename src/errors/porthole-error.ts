/**
 * The root of every error porthole raises on purpose (undici's `UndiciError` is the model): a stable,
 * machine-readable `code` that callers branch on, a `name` for log lines, a message for people, and
 * the failure underneath as `cause`. Subclasses narrow `Code` to the union they can produce.
 *
 * A plain `Error` remains only where no caller branches on the failure (an internal invariant).
 */
export class PortholeError<Code extends string = string> extends Error {
  override name = 'PortholeError';
  /** For a capacity limit: when trying again may succeed (answered as `Retry-After`). */
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * A value that crossed a trust boundary with a bad field: `field` is its dotted path
 * (`offer.sdp`, `iceServers[1].urls`), `reason` what was wrong. Neither ever holds the value itself,
 * so the error can be logged and sent back to whoever sent the value.
 */
export class FieldError extends PortholeError<'bad_request'> {
  override name = 'FieldError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super('bad_request', field ? `${field}: ${reason}` : reason);
  }
}

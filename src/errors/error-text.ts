/** How an error of any kind, or a thrown non-error, reads in a log line or a message. */

/** The error's message; `String(value)` for a thrown non-error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The short name of an error's kind: its `code` when it has a string one (`ENOENT`, `no_such_session`),
 * else its `name` (`TypeError`), else the type of the thrown value. For log-once bookkeeping and
 * structured log fields.
 */
export function errorKind(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : err.name;
  }
  return typeof err;
}

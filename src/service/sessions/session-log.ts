/**
 * The logger session detection writes to: the subset of pino's API it uses, so a pino logger (or a
 * child of one) can be passed as is. Entries carry display numbers, uids and error codes, never
 * the contents of an Xauthority file.
 */
export interface SessionLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const ignore = (): void => {};

/** The default: detection is silent unless the caller hands it a logger. */
export const silentSessionLogger: SessionLogger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
};

/** The short code that names an error's kind (`ENOENT`, `TypeError`), for log-once bookkeeping. */
export function errorKind(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return typeof code === 'string' ? code : err.name;
  }
  return typeof err;
}

/** A one-line description of an error for a log entry. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

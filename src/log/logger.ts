/**
 * porthole's one logging interface: structured lines (an object of fields first, then a message),
 * one line per event, never a secret, a key or a message body. pino's loggers satisfy it (see
 * pino-logger.ts, the only file that imports pino); a part that writes only some levels takes a
 * `Pick<Logger, …>`, so a test can hand it a small recorder.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const ignore = (): void => {};

/** Writes nothing: the default wherever a caller may leave the log out. */
export const silentLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: () => silentLogger,
};

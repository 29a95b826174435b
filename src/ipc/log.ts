/**
 * The logger the IPC layer writes to. It is the subset of pino's API the channel uses, so a pino
 * logger (or a child of one) can be passed as is. Every call carries a structured object and never a
 * secret, a key, a nonce or a message body.
 */
export interface IpcLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const ignore = (): void => {};

/** The default: the IPC layer is silent unless the caller hands it a logger. */
export const silentLogger: IpcLogger = { warn: ignore, info: ignore, debug: ignore };

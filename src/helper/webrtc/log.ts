/**
 * The logger the WebRTC layer writes to: the subset of pino's API it uses, so a pino logger (or a
 * child of one) can be passed as is. Lines carry structure, never message bodies or credentials.
 */
export interface PeerLog {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const ignore = (): void => {};
export const silentPeerLog: PeerLog = { error: ignore, warn: ignore, info: ignore, debug: ignore };

import type { Duplex } from 'node:stream';
import type { HelperToService, ServiceToHelper } from '../protocol/ipc.js';
import type { ErrorCode } from '../protocol/common.js';

/** The service's authenticated channel to one helper (an adapter over src/ipc). */
export interface HelperLink {
  request(body: ServiceToHelper, timeoutMs: number): Promise<HelperToService>;
  send(body: ServiceToHelper): void;
  onMessage(listener: (body: HelperToService) => void): void;
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

/** Runs the server side of the handshake over a helper's stream with that helper's secret. */
export type OpenHelperLink = (stream: Duplex, helperId: string, secret: Buffer) => Promise<HelperLink>;

/** A failure with one of the protocol's stable codes, returned to the API as is. */
export class BrokerError extends Error {
  override name = 'BrokerError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

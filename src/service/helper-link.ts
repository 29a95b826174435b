import type { Duplex } from 'node:stream';
import type { HelperToService, ServiceToHelper } from '../protocol/ipc.js';

/** The service's authenticated channel to one helper (an adapter over src/ipc). */
export interface HelperLink {
  request(body: ServiceToHelper, timeoutMs: number): Promise<HelperToService>;
  send(body: ServiceToHelper): void;
  onMessage(listener: (body: HelperToService) => void): void;
  /**
   * Answers the helper's requests (secure_attention): the handler's value is the response; a thrown
   * RequestError is answered with its code.
   */
  onRequest(handler: (body: HelperToService) => Promise<ServiceToHelper>): void;
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

/** Runs the server side of the handshake over a helper's stream with that helper's secret. */
export type OpenHelperLink = (stream: Duplex, helperId: string, secret: Buffer) => Promise<HelperLink>;

import type { Duplex } from 'node:stream';
import type { Channel } from '../ipc/channel.js';
import { acceptInheritedChannel } from '../ipc/inherited.js';
import type { Logger } from '../log/logger.js';
import { parseHelperToService, type HelperToService, type ServiceToHelper } from '../protocol/ipc.js';
import type { HelperLink, OpenHelperLink } from './helper-link.js';

/** The broker's `openLink` over src/ipc: server side of the handshake on a helper's inherited socket. */
export function ipcLinkOpener(log: Logger, handshakeTimeoutMs = 10_000): OpenHelperLink {
  return async (stream: Duplex, helperId: string, secret: Buffer): Promise<HelperLink> => {
    const channel = await acceptInheritedChannel<HelperToService, ServiceToHelper>(stream, {
      helperId,
      secret,
      validate: parseHelperToService,
      handshakeTimeoutMs,
      logger: log,
    });
    return helperLinkOf(channel);
  };
}

/** The broker's view of an authenticated channel to a helper (shared by the Unix and Windows links). */
export function helperLinkOf(channel: Channel<HelperToService, ServiceToHelper>): HelperLink {
  return {
    request: (body, timeoutMs) => channel.request(body, { timeoutMs }),
    send: (body) => void channel.send(body),
    onMessage: (listener) => channel.onMessage(listener),
    onRequest: (handler) => channel.onRequest(handler),
    onClose: (listener) => {
      void channel.closed.then((r) => listener(r.detail ? `${r.code}: ${r.detail}` : r.code));
    },
    close: () => channel.close(),
  };
}

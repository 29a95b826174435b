import type { Duplex } from 'node:stream';
import { Channel } from '../../ipc/channel.js';
import { resolveChannelOptions } from '../../ipc/channel-options.js';
import { serverHandshake } from '../../ipc/handshake.js';
import type { Logger } from '../../log/logger.js';
import { parseHelperToService, type HelperToService, type ServiceToHelper } from '../../protocol/ipc.js';
import type { HelperLink, OpenHelperLink } from '../helper-link.js';

/**
 * The broker's `openLink` on Windows: the same handshake and channel as on Unix, over the PipeStream
 * the Win32 spawner hands over (ipcLinkOpener accepts only the net.Socket of an inherited socketpair).
 */
export function pipeLinkOpener(log: Logger, handshakeTimeoutMs = 10_000): OpenHelperLink {
  return async (stream: Duplex, helperId: string, secret: Buffer): Promise<HelperLink> => {
    const options = { validate: parseHelperToService, logger: log };
    resolveChannelOptions(options, log);
    const keys = await serverHandshake(stream, {
      secretFor: (id) => (id === helperId ? secret : undefined),
      timeoutMs: handshakeTimeoutMs,
      logger: log,
    });
    const channel = new Channel<HelperToService, ServiceToHelper>(stream, keys, options);
    return {
      request: (body, timeoutMs) => channel.request(body, { timeoutMs }),
      send: (body) => void channel.send(body),
      onMessage: (listener) => channel.onMessage(listener),
      onClose: (listener) => {
        void channel.closed.then((r) => listener(r.detail ? `${r.code}: ${r.detail}` : r.code));
      },
      close: () => channel.close(),
    };
  };
}

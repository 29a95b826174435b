import type { Duplex } from 'node:stream';
import { acceptHelperChannel } from '../../ipc/inherited.js';
import type { Logger } from '../../log/logger.js';
import { parseHelperToService, type HelperToService, type ServiceToHelper } from '../../protocol/ipc.js';
import type { HelperLink, OpenHelperLink } from '../helper-link.js';
import { helperLinkOf } from '../ipc-link.js';

/**
 * The broker's `openLink` on Windows: the same handshake and channel as on Unix, over the PipeStream
 * the Win32 spawner hands over (ipcLinkOpener accepts only the net.Socket of an inherited socketpair).
 */
export function pipeLinkOpener(log: Logger, handshakeTimeoutMs = 10_000): OpenHelperLink {
  return async (stream: Duplex, helperId: string, secret: Buffer): Promise<HelperLink> => {
    const channel = await acceptHelperChannel<HelperToService, ServiceToHelper>(stream, {
      helperId,
      secret,
      validate: parseHelperToService,
      handshakeTimeoutMs,
      logger: log,
    });
    return helperLinkOf(channel);
  };
}

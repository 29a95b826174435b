/**
 * Serves the `files` channel of one viewer's peer: a FileTransfers per channel opened, closed (partial
 * uploads removed) when the channel or the session closes. Without file access (a SYSTEM helper, an
 * unknown session user, `--files off`) the channel stays open and every request is answered
 * `unavailable` with the reason, so the viewer can say why.
 */
import type { Logger } from '../../log/logger.js';
import { parseViewerFilesText, type HelperFilesMessage } from '../../protocol/files.js';
import type { DesktopPeer } from '../webrtc/desktop-peer.js';
import type { FileAccessChoice } from './index.js';
import { FileTransfers, type FileTransfersOptions } from './file-transfers.js';

export interface FilesSession {
  close(): Promise<void>;
}

export function serveFiles(
  peer: Pick<DesktopPeer, 'onFilesChannel'>,
  access: Promise<FileAccessChoice>,
  opts: {
    maxUploadBytes: number;
    log: Pick<Logger, 'info' | 'warn' | 'debug'>;
    onTransfer?: FileTransfersOptions['onTransfer'];
    onProgress?: FileTransfersOptions['onProgress'];
  },
): FilesSession {
  const live = new Set<FileTransfers>();
  let closed = false;
  const off = peer.onFilesChannel((channel) => {
    void access.then((choice) => {
      if (closed) return;
      if (!choice.access) {
        const unavailable = (extra: Partial<Extract<HelperFilesMessage, { type: 'error' }>> = {}): void => {
          const msg: HelperFilesMessage = {
            type: 'error',
            code: 'unavailable',
            message: (choice.reason ?? 'file transfer is off').slice(0, 400),
            ...extra,
          };
          channel.sendText(JSON.stringify(msg));
        };
        unavailable();
        channel.onText((text) => {
          try {
            const m = parseViewerFilesText(text);
            unavailable('id' in m ? { id: m.id } : 'req' in m ? { req: m.req } : {});
          } catch {
            unavailable();
          }
        });
        return;
      }
      const transfers = new FileTransfers({ channel, access: choice.access, ...opts });
      live.add(transfers);
      channel.onText((t) => transfers.receiveText(t));
      channel.onBinary((b) => transfers.receiveBinary(b));
      channel.onClosed?.(() => {
        live.delete(transfers);
        void transfers.close();
      });
      transfers.hello();
    });
  });
  return {
    async close() {
      closed = true;
      off();
      await Promise.allSettled([...live].map((t) => t.close()));
      live.clear();
    },
  };
}

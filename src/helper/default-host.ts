import type { Logger } from '../log/logger.js';
import type { DesktopHost } from './desktop-host.js';
import { WebRtcDesktopHost } from './webrtc-desktop-host.js';

export interface DefaultHostOptions {
  log: Logger;
}

/**
 * The helper's DesktopHost for this platform: WebRTC peers with the session's capture, encoder and
 * input attached.
 */
export function createDefaultDesktopHost(opts: DefaultHostOptions): DesktopHost {
  const { log } = opts;
  return new WebRtcDesktopHost({
    log,
    probe: async () =>
      process.env.DISPLAY
        ? { canCapture: true, displays: [] }
        : { canCapture: false, displays: [], reason: 'no DISPLAY in the helper environment' },
    attach: (peer, req) => {
      const off = peer.onInput((msg) => log.debug({ desktop: req.sessionId, input: msg.type }, 'input'));
      return { close: () => off() };
    },
  });
}

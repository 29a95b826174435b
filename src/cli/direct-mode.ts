import os from 'node:os';
import { createDefaultDesktopHost } from '../helper/host/default-wiring.js';
import type { Logger } from '../log/logger.js';
import { ApiLink } from '../service/api-link.js';
import type { ServiceConfig } from '../service/config.js';
import { EXIT_OK } from './command.js';
import { waitForStopSignal } from './stop-signal.js';
import { BrokerError } from '../service/broker-error.js';

/**
 * `porthole service --direct`: development mode. Desktops run inside this process on its own
 * DISPLAY, with no helper and no pipe (as Breeze's dev mode does). Not for production: the process
 * that holds the API token would also parse viewer input.
 */
export async function runDirectMode(config: ServiceConfig, log: Logger): Promise<number> {
  if (!config.api) throw new Error('--direct needs an API (--api-url, --device-id, --token-file)');
  const display = process.env.DISPLAY ?? '';
  const sessionId = Number(/^:(\d+)/.exec(display)?.[1] ?? 0);
  const host = createDefaultDesktopHost({ log });
  let desktopIndex = 0;
  const link = new ApiLink({
    ...config.api,
    log,
    handler: async (cmd) => {
      switch (cmd.type) {
        case 'list_sessions': {
          const caps = await host.capabilities();
          const user = os.userInfo().username;
          return {
            sessions: [
              {
                sessionId,
                username: user,
                state: 'active',
                type: 'x11',
                helperConnected: caps.canCapture,
                helperState: caps.canCapture ? 'ready' : 'failed',
                ...(caps.reason ? { lastError: caps.reason } : {}),
              },
            ],
          };
        }
        case 'start_desktop': {
          const p = cmd.payload;
          if (p.targetSessionId !== undefined && p.targetSessionId !== sessionId) {
            throw new BrokerError('no_such_session', `direct mode serves only session ${sessionId}`);
          }
          desktopIndex += 1;
          const answer = await host.start({
            type: 'desktop_start',
            sessionId: p.sessionId,
            ...(p.offer !== undefined ? { offer: p.offer } : {}),
            ...(p.relay ? { relay: p.relay } : {}),
            iceServers: p.iceServers,
            displayIndex: p.displayIndex ?? 0,
            // Who owns the desktop: `add_peer` is answered only for the same viewer.
            ...(p.viewer ? { viewer: p.viewer } : {}),
          });
          return answer !== undefined
            ? { sessionId: p.sessionId, answer }
            : { sessionId: p.sessionId, transport: 'websocket' as const };
        }
        case 'stop_desktop':
          return { sessionId: cmd.payload.sessionId, stopped: await host.stop(cmd.payload.sessionId) };
        case 'add_peer': {
          if (!host.addPeer) throw new BrokerError('bad_request', 'this host cannot add a peer to a desktop');
          const answer = await host.addPeer({ type: 'desktop_add_peer', ...cmd.payload });
          return { sessionId: cmd.payload.sessionId, answer };
        }
      }
    },
  });
  log.warn({ display, desktops: desktopIndex }, 'direct mode: desktops run in the service process');
  if (
    config.access.consent !== 'never' ||
    config.access.maxSessionMs > 0 ||
    config.access.idleTimeoutMs > 0
  ) {
    // A development mode: it has no helper to show a prompt and applies no access policy.
    log.warn({}, 'direct mode ignores the access section (no consent prompt, no session limits)');
  }
  link.start();
  await waitForStopSignal();
  await link.stop();
  await host.close();
  return EXIT_OK;
}

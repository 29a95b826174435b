/**
 * Where an API instance serves its WebSocket relay: always `/api/relay/{agent,viewer}`, and also under
 * the path of its `relayOrigin` when that has one (`wss://lb.example/i/a1` → `/i/a1/api/relay/…`). A
 * load balancer can then send each instance's prefix to that instance (sticky routing by path, on the
 * viewer's own origin), stripping the prefix or not.
 */
import type { RelaySide } from './relay-tickets.js';

/** A path prefix of `/segment` parts (unreserved characters), or none. */
export const RELAY_PREFIX = /^(\/[A-Za-z0-9._~-]+)*$/;

/** The relay side `path` opens on this instance, if it is one of its relay routes. */
export function relaySideOf(path: string, relayOrigin: string | undefined): RelaySide | undefined {
  const prefix = relayOrigin ? new URL(relayOrigin).pathname.replace(/\/$/, '') : '';
  for (const base of prefix ? ['', prefix] : ['']) {
    if (path === `${base}/api/relay/agent`) return 'agent';
    if (path === `${base}/api/relay/viewer`) return 'viewer';
  }
  return undefined;
}

/**
 * A relayed desktop (`desktop_start.relay`) in the host: no offer is answered, the relay peer stands
 * in for the WebRTC one, and the same admission, deadline and teardown apply to it.
 */
import { describe, expect, it } from 'vitest';
import { WebRtcDesktopHost } from '../../../src/helper/host/webrtc-desktop-host.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { DesktopStart } from '../../../src/protocol/ipc.js';
import type { RelayDesktopPeerOptions } from '../../../src/helper/relay/relay-desktop-peer.js';
import { FakeClock, settle } from '../../fixtures/fake-clock.js';
import { createFakeDesktopPeer, type FakeDesktopPeer } from '../../fixtures/fake-desktop-peer.js';

const RELAY = { url: 'ws://127.0.0.1:9/api/relay/agent', ticket: `0a.${'x'.repeat(43)}` };

function setup() {
  const clock = new FakeClock();
  const relayPeers: { opts: RelayDesktopPeerOptions; peer: FakeDesktopPeer }[] = [];
  let offersAnswered = 0;
  let attached = 0;
  let released = 0;
  const closed: string[] = [];
  const host = new WebRtcDesktopHost({
    log: silentLogger,
    probe: () => Promise.resolve({ canCapture: true, displays: [] }),
    attach: () => {
      attached++;
      return { close: () => void released++ };
    },
    timers: clock,
    pendingDeadlineMs: 20_000,
    createPeer: () => {
      offersAnswered++;
      return Promise.resolve({ answer: 'v=0', peer: createFakeDesktopPeer() });
    },
    createRelayPeer: (opts) => {
      const peer = createFakeDesktopPeer();
      relayPeers.push({ opts, peer });
      return Promise.resolve(peer);
    },
  });
  host.onClosed((id, why) => closed.push(`${id}: ${why}`));
  const request: DesktopStart = {
    type: 'desktop_start',
    sessionId: 'relayed-1',
    relay: RELAY,
    iceServers: [],
    displayIndex: 0,
    permissions: { control: false, files: false },
  };
  return {
    clock,
    host,
    relayPeers,
    request,
    closed,
    counts: () => ({ offersAnswered, attached, released }),
  };
}

describe('a relayed desktop in the host', () => {
  it('connects the relay peer instead of answering an offer, and resolves with no answer', async () => {
    const { host, relayPeers, request, counts } = setup();
    await expect(host.start(request)).resolves.toBeUndefined();
    expect(relayPeers.map((p) => p.opts.relay)).toEqual([RELAY]);
    expect(counts()).toMatchObject({ offersAnswered: 0, attached: 1 });
  });

  it('applies the viewer’s permissions to the relay’s channels', async () => {
    const { host, relayPeers, request } = setup();
    await host.start(request);
    const allow = relayPeers[0]?.opts.allowChannel;
    expect(allow?.('input')).toBe(false);
    expect(allow?.('control')).toBe(true);
  });

  it('drops a relayed desktop whose viewer never pairs, like an unconnected peer', async () => {
    const { clock, host, request, closed, counts } = setup();
    await host.start(request);
    await clock.advance(20_000);
    await settle();
    expect(closed).toEqual(['relayed-1: not connected within 20000 ms']);
    expect(counts().released).toBe(1);
    expect(host.activeConnections).toBe(0);
  });

  it('tears everything down when the relay socket closes', async () => {
    const { host, relayPeers, request, closed, counts } = setup();
    await host.start(request);
    relayPeers[0]?.peer.setState('connected');
    relayPeers[0]?.peer.setState('closed');
    await settle();
    expect(closed).toEqual(['relayed-1: peer closed']);
    expect(counts().released).toBe(1);
    expect(host.activeConnections).toBe(0);
  });

  it('frees the slot when the relay refuses the helper', async () => {
    const { request } = setup();
    const failing = new WebRtcDesktopHost({
      log: silentLogger,
      probe: () => Promise.resolve({ canCapture: true, displays: [] }),
      attach: () => ({ close: () => {} }),
      createRelayPeer: () => Promise.reject(new Error('the relay refused the helper’s socket (HTTP 401)')),
    });
    await expect(failing.start(request)).rejects.toThrow(/HTTP 401/);
    expect(failing.activeConnections).toBe(0);
  });
});

/**
 * The host and the person at the machine: the being-viewed indicator follows the connected desktops
 * (not the offers), Disconnect ends every desktop after telling each viewer, and a limit's warning is
 * shown on the indicator too. Peers and windows are fakes; the clock is the test's.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MOVE_GRACE_MS,
  END_NOTICE_MS,
  WebRtcDesktopHost,
} from '../../../src/helper/host/webrtc-desktop-host.js';
import type { IndicatorEvents } from '../../../src/helper/presence/indicator.js';
import { SessionPresence } from '../../../src/helper/presence/session-presence.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { DesktopAuditEvent } from '../../../src/protocol/audit-event.js';
import type { DesktopStart } from '../../../src/protocol/ipc.js';
import { FakeClock, settle } from '../../fixtures/fake-clock.js';
import { createFakeDesktopPeer, type FakeDesktopPeer } from '../../fixtures/fake-desktop-peer.js';

function setup() {
  const clock = new FakeClock();
  const audit: DesktopAuditEvent[] = [];
  const peers: FakeDesktopPeer[] = [];
  const closed: [string, string][] = [];
  const shown = {
    text: undefined as string | undefined,
    opened: 0,
    events: undefined as IndicatorEvents | undefined,
  };
  const presence = new SessionPresence({
    log: silentLogger,
    openIndicator: (text, events) => {
      shown.opened += 1;
      shown.text = text;
      shown.events = events;
      return { setText: (t) => (shown.text = t), close: () => (shown.text = undefined) };
    },
    disconnectAll: () => host.disconnectAll(),
    audit: (e) => audit.push(e),
    timers: clock,
  });
  const host: WebRtcDesktopHost = new WebRtcDesktopHost({
    log: silentLogger,
    probe: () => Promise.resolve({ canCapture: true, displays: [] }),
    attach: () => ({ close: () => {} }),
    timers: clock,
    audit: (e) => audit.push(e),
    presence,
    createPeer: () => {
      const peer = createFakeDesktopPeer();
      peers.push(peer);
      return Promise.resolve({ answer: `answer ${peers.length}`, peer });
    },
  });
  host.onClosed((id, why) => closed.push([id, why]));
  const start = async (
    id: string,
    viewer: string,
    extra: Partial<DesktopStart> = {},
  ): Promise<FakeDesktopPeer> => {
    await host.start({
      type: 'desktop_start',
      sessionId: id,
      offer: 'v=0',
      iceServers: [],
      displayIndex: 0,
      viewer: { name: viewer },
      ...extra,
    });
    await settle();
    return peers.at(-1)!;
  };
  return { clock, host, presence, shown, audit, closed, start };
}

describe('WebRtcDesktopHost and the being-viewed indicator', () => {
  it('shows the indicator only once a desktop connects, and hides it after the last one ends', async () => {
    const s = setup();
    const alice = await s.start('desk-1', 'alice');
    expect(s.shown.opened).toBe(0); // answered, not connected: nobody is watching yet
    alice.setState('connected');
    expect(s.shown.text).toBe('alice is viewing this screen');
    const bob = await s.start('desk-2', 'bob');
    bob.setState('connected');
    expect(s.shown.text).toBe('alice and bob are viewing this screen');
    await s.host.stop('desk-1');
    expect(s.shown.text).toBe('bob is viewing this screen');
    bob.setState('failed');
    await settle();
    // A failed path may be the viewer's network changing: its desktop waits for a new peer first.
    expect(s.shown.text).toBe('bob is viewing this screen');
    await s.clock.advance(DEFAULT_MOVE_GRACE_MS);
    await settle();
    expect(s.shown.text).toBeUndefined();
    expect(s.presence.viewerCount).toBe(0);
  });

  it('Disconnect tells every viewer, then ends every desktop and audits each as cut by the user', async () => {
    const s = setup();
    const alice = await s.start('desk-1', 'alice');
    const bob = await s.start('desk-2', 'bob');
    alice.setState('connected');
    bob.setState('connected');
    s.shown.events!.disconnect();
    expect(alice.sentControl).toContainEqual({ type: 'ended', reason: 'user' });
    expect(bob.sentControl).toContainEqual({ type: 'ended', reason: 'user' });
    expect(alice.closed).toBe(false); // the notice gets its moment on the wire
    await s.clock.advance(END_NOTICE_MS);
    await settle();
    expect(alice.closed && bob.closed).toBe(true);
    expect(s.host.activeConnections).toBe(0);
    expect(s.shown.text).toBeUndefined();
    expect(s.closed).toEqual([
      ['desk-1', 'disconnected by the person at the machine'],
      ['desk-2', 'disconnected by the person at the machine'],
    ]);
    expect(s.audit).toEqual([
      { kind: 'session_cut', desktop: 'desk-1', reason: 'user' },
      { kind: 'session_cut', desktop: 'desk-2', reason: 'user' },
    ]);
  });

  it('tells the person at the machine before a cut, counting down, and clears it when the idle clock restarts', async () => {
    const s = setup();
    const alice = await s.start('desk-1', 'alice', { limits: { idleMs: 100_000, warnMs: 60_000 } });
    alice.setState('connected');
    await s.clock.advance(40_000);
    expect(s.shown.text).toBe('alice is viewing this screen - session ends in 1 min (idle)');
    await s.clock.advance(31_000);
    expect(s.shown.text).toBe('alice is viewing this screen - session ends in 29 s (idle)');
    alice.input({ type: 'key', code: 'KeyA', down: true });
    expect(s.shown.text).toBe('alice is viewing this screen');
  });

  it('keeps each desktop’s warning its own: another viewer’s action or departure does not clear it', async () => {
    const s = setup();
    const alice = await s.start('desk-1', 'alice', { limits: { maxSessionMs: 120_000, warnMs: 60_000 } });
    const bob = await s.start('desk-2', 'bob', { limits: { idleMs: 300_000, warnMs: 60_000 } });
    const carol = await s.start('desk-3', 'carol');
    for (const p of [alice, bob, carol]) p.setState('connected');
    await s.clock.advance(60_000);
    const aliceEnds = "alice's session ends in 1 min (time limit)";
    expect(s.shown.text).toBe(`alice, bob and 1 other are viewing this screen - ${aliceEnds}`);
    bob.input({ type: 'key', code: 'KeyA', down: true }); // bob's idle clock: not alice's warning
    expect(s.shown.text).toContain(aliceEnds);
    await s.host.stop('desk-1');
    expect(s.shown.text).toBe('bob and carol are viewing this screen');
  });

  it('a chat line of a connected viewer reaches the presence, and is audited once', async () => {
    const s = setup();
    const alice = await s.start('desk-1', 'alice');
    alice.setState('connected');
    alice.channel('chat', true);
    alice.chat({ type: 'message', text: 'hi' });
    alice.chat({ type: 'message', text: 'again' });
    // No chat window in this setup: the viewer hears so for each line, and chat use is audited once.
    const unavailable = { type: 'error', code: 'unavailable', message: 'this machine shows no chat window' };
    expect(alice.sentChat).toEqual([unavailable, unavailable]);
    expect(s.audit).toEqual([{ kind: 'chat', desktop: 'desk-1' }]);
  });
});

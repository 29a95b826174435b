/**
 * A desktop moving to a new peer (WebRtcDesktopHost.addPeer, the viewer's network changed): only the
 * same viewer may, the new peer is fed while the old one runs and replaces it once connected, the old
 * peer's media (holding its input) is closed then, and nothing counts it as a new viewer.
 */
import { describe, expect, it } from 'vitest';
import { PortholeError } from '../../../src/errors/porthole-error.js';
import {
  DEFAULT_MOVE_GRACE_MS,
  WebRtcDesktopHost,
  type AttachedMedia,
} from '../../../src/helper/host/webrtc-desktop-host.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { DesktopAddPeer, DesktopStart } from '../../../src/protocol/ipc.js';
import { FakeClock, settle } from '../../fixtures/fake-clock.js';
import { createFakeDesktopPeer, type FakeDesktopPeer } from '../../fixtures/fake-desktop-peer.js';

interface Media extends AttachedMedia {
  peer: FakeDesktopPeer;
  req: DesktopStart;
  closed: boolean;
  /** Keys this media's injector holds; its close releases them (as desktop-session.ts does). */
  held: Set<string>;
}

function setup(opts: { maxConnections?: number; limits?: boolean } = {}) {
  const clock = new FakeClock();
  const peers: FakeDesktopPeer[] = [];
  const media: Media[] = [];
  const closed: [string, string][] = [];
  const presence = { connected: [] as string[], left: [] as string[], moved: [] as string[] };
  const host = new WebRtcDesktopHost({
    log: silentLogger,
    probe: () => Promise.resolve({ canCapture: true, displays: [] }),
    attach: (peer, req) => {
      const m: Media = {
        peer: peer as FakeDesktopPeer,
        req,
        closed: false,
        held: new Set(),
        displayIndex: () => 1,
        close() {
          m.closed = true;
          m.held.clear();
        },
      };
      peer.onInput((msg) => {
        if (msg.type === 'key') {
          if (msg.down) m.held.add(msg.code);
          else m.held.delete(msg.code);
        }
      });
      media.push(m);
      return m;
    },
    createPeer: () => {
      const peer = createFakeDesktopPeer();
      peers.push(peer);
      return Promise.resolve({ answer: `answer ${peers.length}`, peer });
    },
    presence: {
      connected: (id) => presence.connected.push(id),
      left: (id) => presence.left.push(id),
      limitNotice: () => {},
      moved: (id) => presence.moved.push(id),
    },
    timers: clock,
    ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
  });
  host.onClosed((id, why) => closed.push([id, why]));
  const start = async (id: string, viewer: string | null = 'alice'): Promise<FakeDesktopPeer> => {
    await host.start({
      type: 'desktop_start',
      sessionId: id,
      offer: 'v=0 first',
      iceServers: [],
      displayIndex: 0,
      permissions: { control: true, files: false },
      ...(viewer ? { viewer: { name: viewer } } : {}),
      ...(opts.limits ? { limits: { idleMs: 60_000, warnMs: 0 } } : {}),
    });
    const peer = peers.at(-1)!;
    peer.setState('connected');
    return peer;
  };
  const move = (id: string, viewer = 'alice'): DesktopAddPeer => ({
    type: 'desktop_add_peer',
    sessionId: id,
    offer: 'v=0 second',
    iceServers: [{ urls: 'stun:stun.example.net' }],
    viewer: { name: viewer },
  });
  return { clock, host, peers, media, closed, presence, start, move };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof PortholeError)) throw new Error(`expected a PortholeError, got ${String(err)}`);
  return err.code;
}

describe('WebRtcDesktopHost.addPeer', () => {
  it('answers a new peer fed with the desktop’s permissions and current display, and keeps the old one until it connects', async () => {
    const { host, peers, media, start, move } = setup();
    const old = await start('d1');
    expect(await host.addPeer(move('d1'))).toBe('answer 2');
    expect(peers).toHaveLength(2);
    // The second attach: same desktop, same permissions, the new offer, the display watched now.
    expect(media[1]!.req).toMatchObject({
      sessionId: 'd1',
      offer: 'v=0 second',
      displayIndex: 1,
      permissions: { control: true, files: false },
      viewer: { name: 'alice' },
    });
    expect(old.closed).toBe(false);
    expect(media[0]!.closed).toBe(false);
    expect(host.activeConnections).toBe(1);
  });

  it('swaps in the new peer when it connects: the old peer and its media close, held keys released, indicator unchanged', async () => {
    const { clock, host, peers, media, start, move, presence, closed } = setup();
    const old = await start('d1');
    old.input({ type: 'key', code: 'ShiftLeft', down: true });
    expect(media[0]!.held.has('ShiftLeft')).toBe(true);
    await host.addPeer(move('d1'));
    peers[1]!.setState('connected');
    await settle();
    expect(old.closed).toBe(true);
    expect(media[0]!.closed).toBe(true);
    expect(media[0]!.held.size).toBe(0);
    expect(media[1]!.closed).toBe(false);
    // The same viewer: one `connected` for the indicator, then a move, never a `left`.
    expect(presence).toEqual({ connected: ['d1'], left: [], moved: ['d1'] });
    expect(closed).toEqual([]);
    expect(host.activeConnections).toBe(1);
    // The old peer closing says nothing about the desktop; the new one's failure ends it (after the
    // grace a failed path gets for yet another move).
    peers[1]!.setState('failed');
    await clock.advance(DEFAULT_MOVE_GRACE_MS);
    await settle();
    expect(closed).toEqual([['d1', 'peer failed']]);
    expect(media[1]!.closed).toBe(true);
  });

  it('answers no_such_desktop for an unknown desktop, another viewer’s, and one whose viewer is unknown', async () => {
    const { host, start, move, peers } = setup();
    await start('d1');
    await start('anon', null);
    expect(await codeOf(host.addPeer(move('nope')))).toBe('no_such_desktop');
    expect(await codeOf(host.addPeer(move('d1', 'mallory')))).toBe('no_such_desktop');
    expect(await codeOf(host.addPeer(move('anon')))).toBe('no_such_desktop');
    // No peer was made for any of them.
    expect(peers).toHaveLength(2);
  });

  it('refuses to move a desktop that never connected (bad_request)', async () => {
    const { host, peers, move } = setup();
    await host.start({
      type: 'desktop_start',
      sessionId: 'd1',
      offer: 'v=0',
      iceServers: [],
      displayIndex: 0,
      viewer: { name: 'alice' },
    });
    expect(await codeOf(host.addPeer(move('d1')))).toBe('bad_request');
    expect(peers).toHaveLength(1);
  });

  it('does not take a slot: a full helper still moves its desktop', async () => {
    const { host, start, move } = setup({ maxConnections: 1 });
    await start('d1');
    await expect(host.addPeer(move('d1'))).resolves.toBe('answer 2');
  });

  it('drops a new peer that does not connect within the deadline; the old one keeps serving', async () => {
    const { clock, host, peers, media, start, move, closed } = setup();
    const old = await start('d1');
    await host.addPeer(move('d1'));
    await clock.advance(20_000);
    await settle();
    expect(peers[1]!.closed).toBe(true);
    expect(media[1]!.closed).toBe(true);
    expect(old.closed).toBe(false);
    expect(closed).toEqual([]);
    // A later connect of the dropped peer changes nothing.
    peers[1]!.setState('connected');
    expect(old.closed).toBe(false);
  });

  it('when the old peer fails first, closes it at once (releasing its keys) and waits for the new one', async () => {
    const { host, peers, media, start, move, closed } = setup();
    const old = await start('d1');
    old.input({ type: 'key', code: 'KeyA', down: true });
    await host.addPeer(move('d1'));
    old.setState('failed');
    await settle();
    expect(media[0]!.closed).toBe(true);
    expect(media[0]!.held.size).toBe(0);
    expect(closed).toEqual([]);
    peers[1]!.setState('connected');
    await settle();
    expect(host.activeConnections).toBe(1);
    expect(await host.stop('d1')).toBe(true);
    expect(media[1]!.closed).toBe(true);
  });

  it('keeps a connected desktop whose peer failed for its viewer’s new peer, with its keys released at once', async () => {
    const { clock, host, peers, media, start, move, closed, presence } = setup();
    const old = await start('d1');
    old.input({ type: 'key', code: 'ControlLeft', down: true });
    old.setState('failed');
    await settle();
    expect(old.closed).toBe(true);
    expect(media[0]!.held.size).toBe(0);
    expect(closed).toEqual([]);
    await clock.advance(DEFAULT_MOVE_GRACE_MS - 1000);
    await host.addPeer(move('d1'));
    peers[1]!.setState('connected');
    await clock.advance(DEFAULT_MOVE_GRACE_MS);
    await settle();
    expect(closed).toEqual([]);
    expect(host.activeConnections).toBe(1);
    expect(presence.left).toEqual([]);
  });

  it('ends a desktop whose peer failed when no new peer comes within the grace, and at once when it closed', async () => {
    const { clock, start, closed, presence } = setup();
    const failed = await start('d1');
    failed.setState('failed');
    await clock.advance(DEFAULT_MOVE_GRACE_MS - 1);
    await settle();
    expect(closed).toEqual([]);
    await clock.advance(1);
    await settle();
    expect(closed).toEqual([['d1', 'peer failed']]);
    expect(presence.left).toEqual(['d1']);
    // A viewer that closed its connection is gone: no wait.
    const quit = await start('d2');
    quit.setState('closed');
    await settle();
    expect(closed).toContainEqual(['d2', 'peer closed']);
  });

  it('ends the desktop when both the old peer and the new one fail', async () => {
    const { host, peers, start, move, closed } = setup();
    const old = await start('d1');
    await host.addPeer(move('d1'));
    old.setState('failed');
    peers[1]!.setState('failed');
    await settle();
    expect(closed).toHaveLength(1);
    expect(closed[0]![0]).toBe('d1');
    expect(host.activeConnections).toBe(0);
  });

  it('keeps one new peer at a time: a second move replaces the first', async () => {
    const { host, peers, start, move } = setup();
    await start('d1');
    await host.addPeer(move('d1'));
    await host.addPeer(move('d1'));
    expect(peers[1]!.closed).toBe(true);
    expect(peers[2]!.closed).toBe(false);
  });

  it('closes a pending new peer with the desktop', async () => {
    const { host, peers, media, start, move } = setup();
    await start('d1');
    await host.addPeer(move('d1'));
    await host.stop('d1');
    expect(peers.every((p) => p.closed)).toBe(true);
    expect(media.every((m) => m.closed)).toBe(true);
  });

  it('carries the idle clock over: input on the new peer is activity, and the limit notice goes to it', async () => {
    const { clock, host, peers, start, move } = setup({ limits: true });
    await start('d1');
    await host.addPeer(move('d1'));
    peers[1]!.setState('connected');
    await clock.advance(50_000);
    peers[1]!.input({ type: 'pointer_move', x: 0.5, y: 0.5 });
    await clock.advance(50_000);
    await settle();
    // 100 s since the start but only 50 s since the input on the new peer: not cut.
    expect(host.activeConnections).toBe(1);
    await clock.advance(10_000);
    await settle();
    expect(peers[1]!.sentControl).toContainEqual({ type: 'session_limit', reason: 'idle', remainingMs: 0 });
  });
});

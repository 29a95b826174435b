import { afterEach, describe, expect, it } from 'vitest';
import { createDesktopSession } from '../../../src/helper/desktop/desktop-session.js';
import type { EncodedAccessUnit, VideoSource } from '../../../src/helper/desktop/video-source.js';
import { createFakeClipboard } from '../../../src/helper/input/fake-clipboard.js';
import { createFakeInputInjector } from '../../../src/helper/input/fake-input-injector.js';
import { createDesktopPeer } from '../../../src/helper/webrtc/desktop-peer.js';
import type { DisplayInfo } from '../../../src/protocol/common.js';
import { createTestOfferer, H264Depacketizer } from '../../fixtures/webrtc-offerer.js';
import { silentLogger } from '../../../src/log/logger.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { createFakeDesktopPeer } from '../../fixtures/fake-desktop-peer.js';
import type { SecureAttentionAnswer } from '../../../src/helper/service-requests.js';

const displays: DisplayInfo[] = [
  { index: 0, name: 'left', x: 0, y: 0, width: 1920, height: 1080, primary: true },
  { index: 1, name: 'right', x: 1920, y: 0, width: 1280, height: 1024, primary: false },
];

function createFakeSource() {
  const calls: string[] = [];
  const listeners = new Set<(u: EncodedAccessUnit) => void>();
  let current = 0;
  const source: VideoSource & { calls: string[]; emit(u: EncodedAccessUnit): void } = {
    calls,
    displays: () => displays,
    get currentDisplay() {
      return current;
    },
    onAccessUnit(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    requestKeyframe: () => calls.push('keyframe'),
    setDisplay(index) {
      calls.push(`display:${index}`);
      current = index;
      return Promise.resolve();
    },
    setRate: (r) => calls.push(`rate:${JSON.stringify(r)}`),
    close: () => {
      calls.push('close');
    },
    emit: (u) => listeners.forEach((cb) => cb(u)),
  };
  return source;
}

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A session on a real peer pair; with `connect: false` it stops before the answer is applied. */
async function setup({ connect = true }: { connect?: boolean } = {}) {
  const viewer = await createTestOfferer();
  cleanup.push(() => viewer.close());
  const { answer, peer } = await createDesktopPeer({
    offer: viewer.offer,
    iceServers: [],
    log: silentLogger,
  });
  cleanup.push(() => peer.close());
  const source = createFakeSource();
  const injector = createFakeInputInjector();
  const clipboard = createFakeClipboard();
  const session = createDesktopSession({ peer, source, injector, clipboard, log: silentLogger });
  cleanup.push(() => session.close());
  const send = (label: 'input' | 'control', msg: object): void => {
    viewer.channels[label].sendMessage(JSON.stringify(msg));
  };
  const controlReplies = (): { type: string }[] =>
    viewer.received('control').map((t) => JSON.parse(t) as { type: string });
  const parts = { viewer, answer, peer, source, injector, clipboard, session, send, controlReplies };
  if (!connect) return parts;
  viewer.setAnswer(answer);
  await viewer.ready();
  // The session asks for a keyframe once the peer connects; the tests below start after it.
  await waitFor(() => source.calls.includes('keyframe'), { what: 'the keyframe at connect' });
  source.calls.length = 0;
  return parts;
}

describe('DesktopSession', () => {
  it('asks the source for a keyframe when the peer connects (earlier frames were dropped)', async () => {
    const { viewer, answer, source, peer } = await setup({ connect: false });
    expect(source.calls).toEqual([]);
    viewer.setAnswer(answer);
    await waitFor(() => source.calls.includes('keyframe'), { what: 'keyframe request' });
    expect(peer.state).toBe('connected');
  });

  it('sends the display list when the control channel opens', async () => {
    const { controlReplies } = await setup();
    await waitFor(() => controlReplies().length > 0, { what: 'displays' });
    expect(controlReplies()[0]).toEqual({ type: 'displays', displays, current: 0 });
  });

  it('routes input to the injector, onto the current display’s rectangle', async () => {
    const { send, injector } = await setup();
    send('input', { type: 'pointer_move', x: 0.5, y: 0.5 });
    send('input', { type: 'pointer_button', button: 'left', down: true, x: 1, y: 1 });
    send('input', { type: 'wheel', dx: 0, dy: -120 });
    send('input', { type: 'key', code: 'KeyQ', down: true });
    send('input', { type: 'text', text: 'héllo' });
    await waitFor(() => injector.calls.some((c) => c.op === 'text'), { what: 'input routed' });
    expect(injector.calls).toEqual([
      { op: 'pointerMove', rect: displays[0], x01: 0.5, y01: 0.5, at: { x: 960, y: 540 } },
      { op: 'pointerMove', rect: displays[0], x01: 1, y01: 1, at: { x: 1919, y: 1079 } },
      { op: 'button', button: 'left', down: true },
      { op: 'wheel', dx: 0, dy: -120 },
      { op: 'key', code: 'KeyQ', down: true },
      { op: 'text', text: 'héllo' },
    ]);
  });

  it('switches display (keyframe, new list, pointer on the new rectangle) and handles keyframe and rate', async () => {
    const { send, source, injector, controlReplies } = await setup();
    send('control', { type: 'select_display', index: 1 });
    await waitFor(
      () => controlReplies().some((m) => m.type === 'displays' && 'current' in m && m.current === 1),
      { what: 'switch' },
    );
    expect(source.calls).toEqual(['display:1', 'keyframe']);
    send('input', { type: 'pointer_move', x: 0, y: 0 });
    send('control', { type: 'keyframe' });
    send('control', { type: 'rate', bitrate: 2_000_000, fps: 30 });
    await waitFor(() => source.calls.length === 4, { what: 'keyframe and rate' });
    expect(source.calls.slice(2)).toEqual(['keyframe', 'rate:{"bitrate":2000000,"fps":30}']);
    await waitFor(() => injector.calls.length === 1, { what: 'pointer' });
    expect(injector.calls[0]).toMatchObject({ at: { x: 1920, y: 0 } });
  });

  it('answers a display index past the list and Ctrl+Alt+Del on X11 with errors', async () => {
    const { send, controlReplies, source } = await setup();
    send('control', { type: 'select_display', index: 5 });
    send('control', { type: 'ctrl_alt_del' });
    await waitFor(() => controlReplies().filter((m) => m.type === 'error').length === 2, { what: 'errors' });
    expect(controlReplies().filter((m) => m.type === 'error')).toEqual([
      { type: 'error', code: 'bad_message', message: 'there is no display 5', about: 'select_display' },
      {
        type: 'error',
        code: 'unsupported',
        message: 'Ctrl+Alt+Del cannot be sent to this session',
        about: 'ctrl_alt_del',
      },
    ]);
    expect(source.calls).toEqual([]);
  });

  it('moves the clipboard both ways', async () => {
    const { send, clipboard, controlReplies } = await setup();
    send('input', { type: 'clipboard', text: 'from the viewer' });
    await waitFor(() => clipboard.text === 'from the viewer', { what: 'clipboard write' });
    clipboard.copyInSession('from the session');
    await waitFor(() => controlReplies().some((m) => m.type === 'clipboard'), {
      what: 'clipboard to the viewer',
    });
    expect(controlReplies().find((m) => m.type === 'clipboard')).toEqual({
      type: 'clipboard',
      text: 'from the session',
    });
  });

  it('passes PLIs to the source and access units to the viewer', async () => {
    const { viewer, source } = await setup();
    await waitFor(() => viewer.sendPli(), { what: 'track open' });
    await waitFor(() => source.calls.includes('keyframe'), { what: 'keyframe request' });
    const depacketizer = new H264Depacketizer();
    viewer.onRtp((p) => depacketizer.push(p));
    const idr = Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0xa0]);
    source.emit({ data: idr, timestampUs: 1000, keyframe: true });
    await waitFor(() => depacketizer.accessUnits.length === 1, { what: 'the access unit' });
    expect(depacketizer.accessUnits[0]).toEqual(idr);
  });

  it('releases held input when the input channel closes and when the session closes', async () => {
    const { send, injector, viewer, session, source } = await setup();
    send('input', { type: 'key', code: 'ShiftLeft', down: true });
    send('input', { type: 'pointer_button', button: 'right', down: true });
    await waitFor(() => injector.held.size === 2, { what: 'held' });
    viewer.channels.input.close();
    await waitFor(() => injector.calls.some((c) => c.op === 'releaseAll'), { what: 'release' });
    expect(injector.calls.find((c) => c.op === 'releaseAll')).toEqual({
      op: 'releaseAll',
      released: ['ShiftLeft', 'button:right'],
    });
    await session.close();
    expect(injector.calls.at(-1)).toEqual({ op: 'close' });
    expect(source.calls.at(-1)).toBe('close');
  });
});

describe('DesktopSession: releasing a vanished viewer’s input', () => {
  /** A session on a fake peer and a fake clock: no WebRTC, no waiting. */
  function fakeSession() {
    const clock = new FakeClock();
    const peer = createFakeDesktopPeer();
    const injector = createFakeInputInjector();
    const log = {
      lines: [] as string[],
      debug() {},
      warn() {},
      info: (_: object, msg?: string) => log.lines.push(msg ?? ''),
    };
    const session = createDesktopSession({ peer, source: createFakeSource(), injector, log, timers: clock });
    cleanup.push(() => session.close());
    peer.setState('connected');
    return { clock, peer, injector, session, log };
  }

  it('releases the keys and buttons of a viewer 3 s after its last heartbeat, and keeps the stream', async () => {
    const { clock, peer, injector, log } = fakeSession();
    peer.control({ type: 'heartbeat' });
    peer.input({ type: 'key', code: 'ShiftLeft', down: true });
    peer.input({ type: 'pointer_button', button: 'left', down: true });
    await clock.advance(1000);
    peer.control({ type: 'heartbeat' });
    await clock.advance(2999);
    expect(injector.held.size).toBe(2);
    await clock.advance(1);
    expect(injector.calls.filter((c) => c.op === 'releaseAll')).toEqual([
      { op: 'releaseAll', released: ['ShiftLeft', 'button:left'] },
    ]);
    expect(log.lines).toContain('no heartbeat from the viewer: released its input');
    expect(peer.closed).toBe(false);
    // Back again: its input works, and the watch starts over.
    peer.control({ type: 'heartbeat' });
    peer.input({ type: 'key', code: 'KeyA', down: true });
    await clock.advance(2999);
    expect(injector.held).toEqual(new Set(['KeyA']));
    await clock.advance(1);
    expect(injector.held.size).toBe(0);
  });

  it('never times out a viewer that sends no heartbeats (older viewers)', async () => {
    const { clock, peer, injector } = fakeSession();
    peer.input({ type: 'key', code: 'ControlLeft', down: true });
    await clock.advance(60_000);
    expect(injector.held).toEqual(new Set(['ControlLeft']));
    expect(clock.pending).toEqual([]);
  });

  it('stops watching heartbeats when the session closes', async () => {
    const { clock, peer, session } = fakeSession();
    peer.control({ type: 'heartbeat' });
    expect(clock.pending).toEqual([3000]);
    await session.close();
    expect(clock.pending).toEqual([]);
  });

  it('releases held input when the peer dropped input while it was held', () => {
    const { peer, injector } = fakeSession();
    peer.input({ type: 'key', code: 'AltLeft', down: true });
    peer.releaseInput();
    expect(injector.calls.at(-1)).toEqual({ op: 'releaseAll', released: ['AltLeft'] });
  });
});

describe('DesktopSession: Ctrl+Alt+Del goes to the service, from a viewer that may send input', () => {
  function sasSession(answer: () => Promise<SecureAttentionAnswer>, control = true) {
    const peer = createFakeDesktopPeer();
    const asked: number[] = [];
    const session = createDesktopSession({
      peer,
      source: createFakeSource(),
      injector: createFakeInputInjector(),
      log: silentLogger,
      control,
      secureAttention: () => {
        asked.push(asked.length);
        return answer();
      },
    });
    cleanup.push(() => session.close());
    peer.setState('connected');
    const errors = () => peer.sentControl.filter((m) => m.type === 'error');
    return { peer, asked, errors };
  }

  it('asks the service, and says nothing more once it is sent', async () => {
    const t = sasSession(async () => ({ outcome: 'sent' }));
    t.peer.channel('input', true);
    t.peer.control({ type: 'ctrl_alt_del' });
    await waitFor(() => t.asked.length === 1, { what: 'the request' });
    await new Promise((r) => setImmediate(r));
    expect(t.errors()).toEqual([]);
  });

  it('tells the viewer why the service did not send it (the missing policy, a rate limit)', async () => {
    let next: SecureAttentionAnswer = {
      outcome: 'unsupported',
      reason: 'the policy SoftwareSASGeneration is not set',
    };
    const t = sasSession(async () => next);
    t.peer.channel('input', true);
    t.peer.control({ type: 'ctrl_alt_del' });
    await waitFor(() => t.errors().length === 1, { what: 'the first answer' });
    next = { outcome: 'rate_limited', reason: 'at most one Ctrl+Alt+Del every 5 s', retryAfterMs: 3000 };
    t.peer.control({ type: 'ctrl_alt_del' });
    await waitFor(() => t.errors().length === 2, { what: 'the second answer' });
    expect(t.errors()).toEqual([
      {
        type: 'error',
        code: 'unsupported',
        message: 'the policy SoftwareSASGeneration is not set',
        about: 'ctrl_alt_del',
      },
      {
        type: 'error',
        code: 'rate_limited',
        message: 'at most one Ctrl+Alt+Del every 5 s',
        about: 'ctrl_alt_del',
      },
    ]);
  });

  it('never asks for a viewer without an open input channel, the rule all input follows', async () => {
    const t = sasSession(async () => ({ outcome: 'sent' }));
    t.peer.control({ type: 'ctrl_alt_del' });
    t.peer.channel('input', true);
    t.peer.channel('input', false);
    t.peer.control({ type: 'ctrl_alt_del' });
    await new Promise((r) => setImmediate(r));
    expect(t.asked).toEqual([]);
    expect(t.errors()).toEqual([
      {
        type: 'error',
        code: 'unsupported',
        message: 'Ctrl+Alt+Del is input: this viewer has no input channel open',
        about: 'ctrl_alt_del',
      },
      {
        type: 'error',
        code: 'unsupported',
        message: 'Ctrl+Alt+Del is input: this viewer has no input channel open',
        about: 'ctrl_alt_del',
      },
    ]);
  });

  it('never asks for a view-only viewer, even one whose input channel is open', async () => {
    const t = sasSession(async () => ({ outcome: 'sent' }), false);
    t.peer.channel('input', true);
    t.peer.control({ type: 'ctrl_alt_del' });
    await new Promise((r) => setImmediate(r));
    expect(t.asked).toEqual([]);
    expect(t.errors()).toEqual([
      {
        type: 'error',
        code: 'unsupported',
        message: 'this viewer is view-only: Ctrl+Alt+Del is control',
        about: 'ctrl_alt_del',
      },
    ]);
  });

  it('keeps one request per viewer with the service at a time', async () => {
    let release!: (a: SecureAttentionAnswer) => void;
    const t = sasSession(() => new Promise((r) => (release = r)));
    t.peer.channel('input', true);
    t.peer.control({ type: 'ctrl_alt_del' });
    t.peer.control({ type: 'ctrl_alt_del' });
    await waitFor(() => t.errors().length === 1, { what: 'the refusal of the second' });
    expect(t.asked).toHaveLength(1);
    expect(t.errors()[0]).toMatchObject({
      code: 'rate_limited',
      message: 'a Ctrl+Alt+Del is already on its way',
    });
    release({ outcome: 'sent' });
    await new Promise((r) => setImmediate(r));
    t.peer.control({ type: 'ctrl_alt_del' });
    await waitFor(() => t.asked.length === 2, { what: 'the next request' });
  });
});

describe('DesktopSession: a view-only viewer', () => {
  it('is not sent the session’s clipboard', async () => {
    const peer = createFakeDesktopPeer();
    const clipboard = createFakeClipboard();
    const session = createDesktopSession({
      peer,
      source: createFakeSource(),
      injector: createFakeInputInjector(),
      clipboard,
      log: silentLogger,
      control: false,
    });
    cleanup.push(() => session.close());
    peer.setState('connected');
    clipboard.copyInSession('a secret in the session');
    await new Promise((r) => setImmediate(r));
    expect(peer.sentControl.filter((m) => m.type === 'clipboard')).toEqual([]);
  });
});

/**
 * The viewer's make-before-break after a network change (webrtc-connection.ts, design/VIEWER.md
 * "Network change"), with a fake RTCPeerConnection and fake timers: when a move starts, that it
 * switches only once the new peer connection connects, that the old one is closed without stopping
 * the desktop, and that a move that fails ends in the ordinary reconnect path, once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type ApiClient } from '../../src/viewer/api-client.js';
import type { ConnectionEvents, ConnectionState } from '../../src/viewer/desktop-connection.js';
import {
  DISCONNECTED_GRACE_MS,
  SILENCE_MS,
  SILENCE_POLL_MS,
  SilenceWatch,
} from '../../src/viewer/reconnect-policy.js';
import {
  HANDOVER_AFTER_DISCONNECTED_MS,
  HANDOVER_TIMEOUT_MS,
  WebRtcConnection,
} from '../../src/viewer/webrtc-connection.js';

class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = 'connecting';
  bufferedAmount = 0;
  readonly sent: string[] = [];
  constructor(readonly label: string) {
    super();
  }
  send(data: string): void {
    this.sent.push(data);
  }
  open(): void {
    this.readyState = 'open';
    this.dispatchEvent(new Event('open'));
  }
  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.dispatchEvent(new Event('close'));
  }
}

class FakeStream {
  constructor(readonly tracks: unknown[]) {}
}

class FakePc extends EventTarget {
  static all: FakePc[] = [];
  iceConnectionState: RTCIceConnectionState = 'new';
  iceGatheringState: RTCIceGatheringState = 'complete';
  localDescription: { type: string; sdp: string } | null = null;
  remoteSdp: string | undefined;
  closed = false;
  /** What getStats() reports received on its candidate pair; undefined: no pair yet. */
  received: number | undefined;
  readonly channels = new Map<string, FakeChannel>();
  constructor(readonly config: RTCConfiguration) {
    super();
    FakePc.all.push(this);
  }
  addTransceiver(): object {
    return {};
  }
  createDataChannel(label: string): FakeChannel {
    const c = new FakeChannel(label);
    this.channels.set(label, c);
    return c;
  }
  createOffer(): Promise<{ type: string; sdp: string }> {
    return Promise.resolve({ type: 'offer', sdp: `v=0 offer ${FakePc.all.indexOf(this) + 1}` });
  }
  setLocalDescription(d: { type: string; sdp: string }): Promise<void> {
    this.localDescription = d;
    return Promise.resolve();
  }
  setRemoteDescription(d: { sdp: string }): Promise<void> {
    this.remoteSdp = d.sdp;
    return Promise.resolve();
  }
  getStats(): Promise<Map<string, unknown>> {
    const stats = new Map<string, unknown>();
    if (this.received !== undefined) {
      stats.set('pair', { type: 'candidate-pair', state: 'succeeded', bytesReceived: this.received });
    }
    return Promise.resolve(stats);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.iceConnectionState = 'closed';
    for (const c of this.channels.values()) c.close();
  }
  /** Plays ICE (the browser fires the event; a closed connection fires nothing). */
  ice(state: RTCIceConnectionState): void {
    if (this.closed) return;
    this.iceConnectionState = state;
    this.dispatchEvent(new Event('iceconnectionstatechange'));
  }
  /** The helper's video arrives (as it does once the answer is applied). */
  video(): FakeStream {
    const stream = new FakeStream([{ kind: 'video' }]);
    const ev = Object.assign(new Event('track'), {
      track: { kind: 'video' },
      receiver: {},
      streams: [stream],
    });
    this.dispatchEvent(ev);
    return stream;
  }
  /** ICE connected and every channel open: a peer connection that works. */
  up(): void {
    this.ice('connected');
    for (const c of this.channels.values()) c.open();
  }
}

function setup() {
  const states: [ConnectionState, string | undefined][] = [];
  const streams: unknown[] = [];
  let desktops = 0;
  const api = {
    iceConfig: vi.fn(() => Promise.resolve({ iceServers: [] })),
    startDesktop: vi.fn(() =>
      Promise.resolve({ sessionId: `desk-${++desktops}`, answer: `v=0 answer ${desktops}` }),
    ),
    addPeer: vi.fn((_device: string, desktop: string) =>
      Promise.resolve({ sessionId: desktop, answer: 'v=0 moved answer' }),
    ),
    stopDesktop: vi.fn((_device: string, sessionId: string) => Promise.resolve({ sessionId, stopped: true })),
  };
  const events: ConnectionEvents = {
    onState: (s, d) => states.push([s, d]),
    onStream: (s) => streams.push(s),
    onHelperMessage: () => {},
  };
  const conn = new WebRtcConnection(api as unknown as ApiClient, { deviceId: 'dev-1' }, events);
  const lastState = (): ConnectionState | undefined => states.at(-1)?.[0];
  const inputOn = (pc: FakePc): string[] => pc.channels.get('input')!.sent;
  return { api, conn, states, streams, lastState, inputOn };
}

/** Starts a connection and brings its first peer connection up. */
async function connected(s: ReturnType<typeof setup>): Promise<FakePc> {
  await s.conn.start();
  const pc = FakePc.all[0]!;
  pc.video();
  pc.up();
  expect(s.lastState()).toBe('connected');
  return pc;
}

const key = { type: 'key', code: 'KeyA', down: true } as const;

beforeEach(() => {
  vi.useFakeTimers();
  FakePc.all = [];
  vi.stubGlobal('RTCPeerConnection', FakePc);
  vi.stubGlobal('RTCRtpReceiver', {});
  vi.stubGlobal('MediaStream', FakeStream);
  vi.spyOn(console, 'info').mockImplementation(() => {});
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('WebRtcConnection on a network change', () => {
  it('waits HANDOVER_AFTER_DISCONNECTED_MS on disconnected, then moves; switches only when the new peer connects', async () => {
    const s = setup();
    const old = await connected(s);
    old.ice('disconnected');
    await vi.advanceTimersByTimeAsync(HANDOVER_AFTER_DISCONNECTED_MS - 1);
    expect(s.api.addPeer).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(s.api.addPeer).toHaveBeenCalledWith('dev-1', 'desk-1', 'v=0 offer 2');
    const next = FakePc.all[1]!;
    expect(next.remoteSdp).toBe('v=0 moved answer');
    expect(s.lastState()).toBe('reconnecting');
    expect(s.states.at(-1)?.[1]).toMatch(/network changed/);

    // Answered, its video already there, but not connected: nothing switches yet.
    const stream = next.video();
    expect(s.streams).toHaveLength(1);
    s.conn.sendInput(key);
    expect(s.inputOn(next)).toEqual([]);
    expect(old.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(HANDOVER_TIMEOUT_MS - 2000);
    expect(old.closed).toBe(false);

    next.up();
    expect(old.closed).toBe(true);
    expect(s.streams.at(-1)).toBe(stream);
    expect(s.lastState()).toBe('connected');
    s.conn.sendInput(key);
    expect(s.inputOn(next).map((m) => JSON.parse(m) as unknown)).toEqual([key]);
    // The desktop was moved, not stopped, and nothing else was asked of the API.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.api.stopDesktop).not.toHaveBeenCalled();
    expect(s.api.startDesktop).toHaveBeenCalledTimes(1);
    expect(s.api.addPeer).toHaveBeenCalledTimes(1);
    expect(next.closed).toBe(false);
  });

  it('moves when nothing is received for SILENCE_MS while ICE still says connected', async () => {
    const s = setup();
    const old = await connected(s);
    old.received = 1000;
    // Traffic keeps coming: no move, however long.
    for (let i = 0; i < 30; i++) {
      old.received += 100;
      await vi.advanceTimersByTimeAsync(SILENCE_POLL_MS);
    }
    expect(s.api.addPeer).not.toHaveBeenCalled();
    // The local address vanished: the count stands still, ICE stays `connected`.
    await vi.advanceTimersByTimeAsync(SILENCE_MS - SILENCE_POLL_MS);
    expect(s.api.addPeer).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(SILENCE_POLL_MS);
    expect(s.api.addPeer).toHaveBeenCalledTimes(1);
    expect(s.states.at(-1)?.[1]).toMatch(/nothing received/);
    FakePc.all[1]!.up();
    expect(old.closed).toBe(true);
    expect(s.lastState()).toBe('connected');
  });

  it('never moves a peer connection that never connected: its disconnected is a drop after DISCONNECTED_GRACE_MS', async () => {
    const s = setup();
    await s.conn.start();
    const pc = FakePc.all[0]!;
    pc.ice('checking');
    pc.ice('disconnected');
    await vi.advanceTimersByTimeAsync(DISCONNECTED_GRACE_MS - 1);
    expect(pc.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(pc.closed).toBe(true);
    expect(s.api.addPeer).not.toHaveBeenCalled();
    expect(s.lastState()).toBe('reconnecting');
  });

  it('lets the moved-to connection move again when its own network changes', async () => {
    const s = setup();
    const old = await connected(s);
    old.ice('failed');
    await vi.advanceTimersByTimeAsync(0);
    const next = FakePc.all[1]!;
    next.up();
    next.ice('disconnected');
    await vi.advanceTimersByTimeAsync(HANDOVER_AFTER_DISCONNECTED_MS);
    expect(s.api.addPeer).toHaveBeenCalledTimes(2);
    expect(s.api.addPeer).toHaveBeenLastCalledWith('dev-1', 'desk-1', expect.any(String));
    FakePc.all[2]!.up();
    expect(next.closed).toBe(true);
    expect(s.api.stopDesktop).not.toHaveBeenCalled();
  });

  it('moves at once when ICE fails', async () => {
    const s = setup();
    const old = await connected(s);
    old.ice('failed');
    await vi.advanceTimersByTimeAsync(0);
    expect(s.api.addPeer).toHaveBeenCalledTimes(1);
  });

  it('does not move when disconnected heals by itself', async () => {
    const s = setup();
    const old = await connected(s);
    old.ice('disconnected');
    await vi.advanceTimersByTimeAsync(HANDOVER_AFTER_DISCONNECTED_MS - 100);
    old.ice('connected');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(s.api.addPeer).not.toHaveBeenCalled();
    expect(FakePc.all).toHaveLength(1);
  });

  it('keeps the old peer if it heals during the move, and drops the new one without stopping the desktop', async () => {
    const s = setup();
    const old = await connected(s);
    old.ice('failed');
    await vi.advanceTimersByTimeAsync(0);
    const next = FakePc.all[1]!;
    old.ice('connected');
    expect(next.closed).toBe(true);
    expect(s.lastState()).toBe('connected');
    s.conn.sendInput(key);
    expect(s.inputOn(old)).toHaveLength(1);
    expect(s.api.stopDesktop).not.toHaveBeenCalled();
  });

  it('falls back to the reconnect path when the move is refused, without trying another move', async () => {
    const s = setup();
    s.api.addPeer.mockRejectedValueOnce(new ApiError(404, 'no_such_desktop', 'no desktop'));
    const old = await connected(s);
    old.ice('failed');
    await vi.advanceTimersByTimeAsync(0);
    expect(old.closed).toBe(true);
    expect(FakePc.all[1]!.closed).toBe(true);
    // The old desktop is stopped and a new one started after the first retry delay.
    expect(s.api.stopDesktop).toHaveBeenCalledWith('dev-1', 'desk-1');
    expect(s.lastState()).toBe('reconnecting');
    expect(s.states.at(-1)?.[1]).toMatch(/could not move.*attempt 1 of 5/);
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.api.startDesktop).toHaveBeenCalledTimes(2);
    expect(s.api.addPeer).toHaveBeenCalledTimes(1);
    FakePc.all[2]!.up();
    expect(s.lastState()).toBe('connected');
  });

  it('falls back when the new peer does not connect within HANDOVER_TIMEOUT_MS', async () => {
    const s = setup();
    const old = await connected(s);
    old.ice('disconnected');
    await vi.advanceTimersByTimeAsync(HANDOVER_AFTER_DISCONNECTED_MS);
    const next = FakePc.all[1]!;
    await vi.advanceTimersByTimeAsync(HANDOVER_TIMEOUT_MS - 1);
    expect(next.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(next.closed).toBe(true);
    expect(old.closed).toBe(true);
    expect(s.api.stopDesktop).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.api.startDesktop).toHaveBeenCalledTimes(2);
    // The retried connection fails before it ever connected: the budget goes on, no move is tried.
    FakePc.all[2]!.ice('failed');
    await vi.advanceTimersByTimeAsync(2000);
    expect(s.api.addPeer).toHaveBeenCalledTimes(1);
    expect(s.api.startDesktop).toHaveBeenCalledTimes(3);
  });

  it('falls back when the new peer fails before connecting; a later drop of the new connection may move again', async () => {
    const s = setup();
    const old = await connected(s);
    old.ice('failed');
    await vi.advanceTimersByTimeAsync(0);
    FakePc.all[1]!.ice('failed');
    expect(old.closed).toBe(true);
    expect(s.api.stopDesktop).toHaveBeenCalledWith('dev-1', 'desk-1');
    await vi.advanceTimersByTimeAsync(1000);
    const fresh = FakePc.all[2]!;
    fresh.up();
    fresh.ice('failed');
    await vi.advanceTimersByTimeAsync(0);
    expect(s.api.addPeer).toHaveBeenCalledTimes(2);
    expect(s.api.addPeer).toHaveBeenLastCalledWith('dev-1', 'desk-2', expect.any(String));
  });

  it('stops moving after a 409 agent_outdated: the next drop reconnects at once', async () => {
    const s = setup();
    s.api.addPeer.mockRejectedValueOnce(new ApiError(409, 'agent_outdated', 'update porthole'));
    const old = await connected(s);
    old.ice('failed');
    await vi.advanceTimersByTimeAsync(1000);
    const fresh = FakePc.all[2]!;
    fresh.up();
    fresh.ice('failed');
    await vi.advanceTimersByTimeAsync(0);
    expect(s.api.addPeer).toHaveBeenCalledTimes(1);
    expect(s.api.stopDesktop).toHaveBeenLastCalledWith('dev-1', 'desk-2');
    expect(s.lastState()).toBe('reconnecting');
  });

  it('stop() during a move closes both peer connections and stops the desktop once', async () => {
    const s = setup();
    const old = await connected(s);
    old.ice('failed');
    await vi.advanceTimersByTimeAsync(0);
    await s.conn.stop();
    expect(old.closed).toBe(true);
    expect(FakePc.all[1]!.closed).toBe(true);
    expect(s.api.stopDesktop).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(HANDOVER_TIMEOUT_MS * 2);
    expect(s.api.startDesktop).toHaveBeenCalledTimes(1);
    expect(s.lastState()).toBe('closed');
  });
});

describe('SilenceWatch', () => {
  const watch = (sample: () => Promise<number | undefined>) => {
    const silent: string[] = [];
    const w = new SilenceWatch(sample, (why) => silent.push(why));
    w.start();
    return silent;
  };

  it('never judges a connection whose stats never had a count', async () => {
    const silent = watch(() => Promise.resolve(undefined));
    await vi.advanceTimersByTimeAsync(SILENCE_MS * 10);
    expect(silent).toEqual([]);
  });

  it('counts stats that vanish after a count (the pairs were dropped) as silence', async () => {
    let count: number | undefined = 1;
    const silent = watch(() => Promise.resolve(count));
    await vi.advanceTimersByTimeAsync(SILENCE_POLL_MS * 2);
    count = undefined;
    await vi.advanceTimersByTimeAsync(SILENCE_MS + SILENCE_POLL_MS);
    expect(silent).toHaveLength(1);
    expect(silent[0]).toMatch(
      new RegExp(`nothing received for [${SILENCE_MS / 1000}${SILENCE_MS / 1000 + 1}] s`),
    );
  });

  it('counts a getStats() that stops answering as silence', async () => {
    let calls = 0;
    const silent = watch(() => (++calls === 1 ? Promise.resolve(5) : new Promise(() => {})));
    await vi.advanceTimersByTimeAsync(SILENCE_MS + SILENCE_POLL_MS * 2);
    expect(silent).toHaveLength(1);
    expect(calls).toBe(2);
  });

  it('stays quiet after dispose', async () => {
    const silent: string[] = [];
    const w = new SilenceWatch(
      () => Promise.resolve(7),
      (why) => silent.push(why),
    );
    w.start();
    await vi.advanceTimersByTimeAsync(SILENCE_POLL_MS * 2);
    w.dispose();
    await vi.advanceTimersByTimeAsync(SILENCE_MS * 3);
    expect(silent).toEqual([]);
  });
});

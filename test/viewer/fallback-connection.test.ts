import { describe, expect, it } from 'vitest';
import type {
  ConnectionEvents,
  ConnectionState,
  DesktopConnection,
} from '../../src/viewer/desktop-connection.js';
import { FallbackConnection, ICE_FALLBACK_MS } from '../../src/viewer/fallback-connection.js';

/** A connection whose states the test drives, recording what it was asked to do. */
class ScriptedConnection implements DesktopConnection {
  state: ConnectionState = 'connecting';
  started = 0;
  stopped = 0;
  constructor(
    readonly kind: string,
    readonly events: ConnectionEvents,
    private readonly starting: (self: ScriptedConnection) => Promise<void> = () => Promise.resolve(),
  ) {}
  start(): Promise<void> {
    this.started++;
    return this.starting(this);
  }
  stop(): Promise<void> {
    this.stopped++;
    this.say('closed');
    return Promise.resolve();
  }
  say(state: ConnectionState, detail?: string): void {
    this.state = state;
    this.events.onState(state, detail);
  }
  sendInput(): void {}
  sendControl(): void {}
  sendChat(): boolean {
    return false;
  }
  stats(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
}

function setup(hasWebRtc = true, webrtcStart?: (self: ScriptedConnection) => Promise<void>) {
  const made: ScriptedConnection[] = [];
  const states: string[] = [];
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const conn = new FallbackConnection(
    {
      hasWebRtc,
      webrtc: (e) => {
        const c = new ScriptedConnection('webrtc', e, webrtcStart);
        made.push(c);
        return c;
      },
      relay: (e) => {
        const c = new ScriptedConnection('relay', e);
        made.push(c);
        return c;
      },
      setTimer: (fn, ms) => {
        const t = { fn, ms, cleared: false };
        timers.push(t);
        return t;
      },
      clearTimer: (t) => ((t as { cleared: boolean }).cleared = true),
    },
    {
      onState: (s, d) => states.push(d ? `${s}: ${d}` : s),
      onStream: () => {},
      onHelperMessage: () => {},
    },
  );
  return { conn, made, states, timers };
}

describe('choosing between WebRTC and the WebSocket relay', () => {
  it('goes straight to the relay when the browser has no RTCPeerConnection', async () => {
    const { conn, made, timers } = setup(false);
    await conn.start();
    expect(made.map((c) => c.kind)).toEqual(['relay']);
    expect(conn.isRelayed).toBe(true);
    expect(timers).toHaveLength(0);
  });

  it('switches to the relay when WebRTC is not connected by the documented timeout', async () => {
    const { conn, made, states, timers } = setup();
    await conn.start();
    expect(timers.map((t) => t.ms)).toEqual([ICE_FALLBACK_MS]);
    expect(ICE_FALLBACK_MS).toBe(10_000);
    timers[0]?.fn();
    expect(made.map((c) => c.kind)).toEqual(['webrtc', 'relay']);
    expect(made[0]?.stopped).toBe(1);
    expect(made[1]?.started).toBe(1);
    // The abandoned WebRTC attempt's "closed" is not the desktop's.
    expect(states).toEqual([]);
    made[1]?.say('connected', 'relayed over WebSocket');
    expect(states).toEqual(['connected: relayed over WebSocket']);
  });

  it('switches at once when ICE fails before the timeout (the WebRTC side starts reconnecting)', async () => {
    const { conn, made, states, timers } = setup();
    await conn.start();
    made[0]?.say('reconnecting', 'ICE failed');
    expect(made.map((c) => c.kind)).toEqual(['webrtc', 'relay']);
    expect(timers[0]?.cleared).toBe(true);
    expect(states).toEqual([]);
  });

  it('stays on WebRTC once it connected, even when it drops later', async () => {
    const { conn, made, states, timers } = setup();
    await conn.start();
    made[0]?.say('connected');
    expect(timers[0]?.cleared).toBe(true);
    made[0]?.say('reconnecting', 'connection lost');
    expect(made.map((c) => c.kind)).toEqual(['webrtc']);
    expect(states).toEqual(['connected', 'reconnecting: connection lost']);
  });

  it('does not switch after being stopped', async () => {
    const { conn, made, timers } = setup();
    await conn.start();
    await conn.stop();
    timers[0]?.fn();
    expect(made.map((c) => c.kind)).toEqual(['webrtc']);
  });

  it('starts the ICE clock at the answer: a start waiting longer for consent does not switch', async () => {
    let answer!: () => void;
    const { conn, made, timers } = setup(true, () => new Promise<void>((resolve) => (answer = resolve)));
    const started = conn.start();
    // The request waits for the person at the machine (the API holds it up to minutes): no clock yet.
    await Promise.resolve();
    expect(timers).toHaveLength(0);
    answer();
    await started;
    expect(timers.map((t) => t.ms)).toEqual([ICE_FALLBACK_MS]);
    expect(made.map((c) => c.kind)).toEqual(['webrtc']);
  });

  it('a refused start (consent denied or timed out) goes to the caller, never to the relay', async () => {
    const { conn, made, timers } = setup(true, () =>
      Promise.reject(new Error('the user at the machine refused the connection')),
    );
    await expect(conn.start()).rejects.toThrow('the user at the machine refused the connection');
    expect(made.map((c) => c.kind)).toEqual(['webrtc']);
    expect(timers).toHaveLength(0);
  });

  it("a busy agent's wait-and-retry before any answer is not an ICE failure", async () => {
    const { conn, made, states } = setup(true, (self) => {
      self.say('reconnecting', 'the machine is busy; retrying in 5 s');
      return Promise.resolve();
    });
    await conn.start();
    expect(made.map((c) => c.kind)).toEqual(['webrtc']);
    expect(states).toEqual(['reconnecting: the machine is busy; retrying in 5 s']);
  });
});

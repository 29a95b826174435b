/** A desktop session's sound: listened to while connected and wanted, per the viewer's `audio` messages. */
import { describe, expect, it } from 'vitest';
import type { AudioFeed, OpusPacket } from '../../../src/helper/audio/audio-hub.js';
import { createDesktopSession } from '../../../src/helper/desktop/desktop-session.js';
import type { VideoSource } from '../../../src/helper/desktop/video-source.js';
import { createFakeInputInjector } from '../../../src/helper/input/fake-input-injector.js';
import { silentLogger } from '../../../src/log/logger.js';
import { createFakeDesktopPeer } from '../../fixtures/fake-desktop-peer.js';

const source: VideoSource = {
  displays: () => [{ index: 0, name: 'a', x: 0, y: 0, width: 800, height: 600, primary: true }],
  currentDisplay: 0,
  onAccessUnit: () => () => {},
  requestKeyframe: () => {},
  setDisplay: () => {},
  setRate: () => {},
  close: () => {},
};

/** A feed the test plays packets into; `listeners` is how many sessions listen now. */
function fakeFeed() {
  const subs = new Set<{ onPacket(p: OpusPacket): void; onFailed?(r: string): void }>();
  const feed: AudioFeed & { readonly listeners: number; play(p: OpusPacket): void; fail(r: string): void } = {
    subscribe(onPacket, onFailed) {
      const s = { onPacket, ...(onFailed ? { onFailed } : {}) };
      subs.add(s);
      return () => subs.delete(s);
    },
    get listeners() {
      return subs.size;
    },
    play: (p) => subs.forEach((s) => s.onPacket(p)),
    fail: (r) => subs.forEach((s) => s.onFailed?.(r)),
  };
  return feed;
}

const packet = (t: number): OpusPacket => ({ data: Buffer.from([t % 256]), timestampUs: t });

function setup(hasAudio = true) {
  const peer = createFakeDesktopPeer({ audio: hasAudio });
  const audio = fakeFeed();
  const session = createDesktopSession({
    peer,
    source,
    injector: createFakeInputInjector(),
    log: silentLogger,
    audio,
  });
  return { peer, audio, session };
}

describe('desktop session: audio', () => {
  it('listens once connected, passes packets on with their capture time, and stops when the peer drops', async () => {
    const { peer, audio, session } = setup();
    expect(audio.listeners).toBe(0);
    peer.setState('connected');
    expect(audio.listeners).toBe(1);
    audio.play(packet(20_000));
    expect(peer.sentAudio).toEqual([{ packet: Buffer.from([32]), timestampUs: 20_000 }]);
    peer.setState('disconnected');
    expect(audio.listeners).toBe(0);
    await session.close();
  });

  it('`audio off` stops this viewer’s sound and `audio on` brings it back', async () => {
    const { peer, audio, session } = setup();
    peer.setState('connected');
    peer.control({ type: 'audio', state: 'off' });
    expect(audio.listeners).toBe(0);
    audio.play(packet(1));
    expect(peer.sentAudio).toEqual([]);
    peer.control({ type: 'audio', state: 'on' });
    expect(audio.listeners).toBe(1);
    await session.close();
    expect(audio.listeners).toBe(0);
  });

  it('answers `audio on` with unsupported when the desktop carries no sound (policy off or not offered)', async () => {
    const { peer, audio, session } = setup(false);
    peer.setState('connected');
    expect(audio.listeners).toBe(0);
    peer.control({ type: 'audio', state: 'on' });
    expect(audio.listeners).toBe(0);
    expect(peer.sentControl).toContainEqual(
      expect.objectContaining({ type: 'error', code: 'unsupported', about: 'audio' }),
    );
    await session.close();
  });

  it('tells the viewer when the session’s sound cannot be captured', async () => {
    const { peer, audio, session } = setup();
    peer.setState('connected');
    audio.fail('no PulseAudio server');
    expect(peer.sentControl).toContainEqual({
      type: 'error',
      code: 'failed',
      message: 'no sound from this session: no PulseAudio server',
      about: 'audio',
    });
    await session.close();
  });
});

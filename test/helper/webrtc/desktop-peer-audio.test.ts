/**
 * The desktop peer's audio: an offer with a recvonly Opus section is answered with a sendonly Opus
 * track on the viewer's mid and payload type, whose RTP timestamps follow the capture clock at 48 kHz;
 * with audio off (the service's policy) or without Opus, the section is answered inactive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDesktopPeer } from '../../../src/helper/webrtc/desktop-peer.js';
import { silentLogger } from '../../../src/log/logger.js';
import { connectTestOfferer, createTestOfferer } from '../../fixtures/webrtc-offerer.js';
import { waitFor } from '../../fixtures/wait-for.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** The lines of the answer's m=audio section. */
const audioSection = (sdp: string): string[] => {
  const at = sdp.indexOf('m=audio ');
  if (at < 0) return [];
  const rest = sdp.slice(at);
  const end = rest.indexOf('\nm=', 1);
  return (end < 0 ? rest : rest.slice(0, end)).split(/\r?\n/).filter(Boolean);
};

describe('createDesktopPeer: audio', () => {
  it('answers the viewer’s Opus section with a sendonly stereo Opus track on its payload type', async () => {
    const viewer = await createTestOfferer({ opusPayloadType: 109 });
    cleanup.push(() => viewer.close());
    const { answer, peer } = await createDesktopPeer({
      offer: viewer.offer,
      iceServers: [],
      log: silentLogger,
    });
    cleanup.push(() => peer.close());
    const lines = audioSection(answer);
    expect(lines[0]).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 109$/);
    expect(lines).toContain('a=mid:1');
    expect(lines).toContain('a=sendonly');
    expect(lines).toContain('a=rtpmap:109 opus/48000/2');
    expect(lines.find((l) => l.startsWith('a=fmtp:109'))).toMatch(/stereo=1/);
    expect(peer.hasAudio).toBe(true);
  });

  it('answers it inactive when audio is off by policy, and sends nothing', async () => {
    const viewer = await createTestOfferer({ opusPayloadType: 111 });
    cleanup.push(() => viewer.close());
    const { answer, peer } = await createDesktopPeer({
      offer: viewer.offer,
      iceServers: [],
      log: silentLogger,
      audio: false,
    });
    cleanup.push(() => peer.close());
    expect(audioSection(answer)).toContain('a=inactive');
    expect(peer.hasAudio).toBe(false);
    expect(peer.sendAudio(Buffer.from([1, 2, 3]), 0)).toBe(false);
  });

  it('an offer without audio gets an answer without audio', async () => {
    const viewer = await createTestOfferer();
    cleanup.push(() => viewer.close());
    const { answer, peer } = await createDesktopPeer({
      offer: viewer.offer,
      iceServers: [],
      log: silentLogger,
    });
    cleanup.push(() => peer.close());
    expect(audioSection(answer)).toEqual([]);
    expect(peer.hasAudio).toBe(false);
  });

  it('sends each Opus packet as one RTP packet, timestamped from the capture clock at 48 kHz', async () => {
    const { viewer, peer } = await connectTestOfferer(
      async (offer) => {
        const made = await createDesktopPeer({ offer, iceServers: [], log: silentLogger });
        return { ...made, dispose: () => made.peer.close() };
      },
      { opusPayloadType: 111 },
    );
    cleanup.push(() => viewer.close());
    cleanup.push(() => peer.close());
    await waitFor(() => peer.state === 'connected', { what: 'helper connected' });
    const got: Buffer[] = [];
    viewer.onAudioRtp((p) => got.push(p));
    // 20 ms apart, then a gap of 1 s of silence that was not sent.
    const stamps = [1_000_000, 1_020_000, 1_040_000, 2_040_000];
    await waitFor(
      () => {
        if (got.length > 0) return true;
        peer.sendAudio(Buffer.from([0xfc, 0xff, 0xfe]), 0);
        return false;
      },
      { what: 'the audio track to open', intervalMs: 20 },
    );
    got.length = 0;
    for (const t of stamps) expect(peer.sendAudio(Buffer.from([0xfc, 1, 2, 3]), t)).toBe(true);
    await waitFor(() => got.length >= stamps.length, { what: 'four RTP packets' });
    const pts = got.map((p) => p[1]! & 0x7f);
    expect(pts).toEqual([111, 111, 111, 111]);
    const ts = got.map((p) => p.readUInt32BE(4));
    const deltas = ts.slice(1).map((t, i) => (t - ts[i]! + 2 ** 32) % 2 ** 32);
    expect(deltas).toEqual([960, 960, 48_000]);
    // The payload goes as it is: a 12-byte RTP header and the Opus packet.
    expect(got[0]!.subarray(12)).toEqual(Buffer.from([0xfc, 1, 2, 3]));
  });
});

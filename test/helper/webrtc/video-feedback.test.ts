import { describe, expect, it } from 'vitest';
import { createVideoFeedback, type VideoReceiverStats } from '../../../src/helper/webrtc/video-feedback.js';
import { buildFir, buildPli, buildReceiverReport } from '../../fixtures/webrtc-offerer.js';

const SSRC = 0x1234_5678;

function setup() {
  let t = 0;
  const requests: string[] = [];
  const stats: VideoReceiverStats[] = [];
  const feedback = createVideoFeedback({
    ssrc: SSRC,
    clockRate: 90_000,
    keyframeMinIntervalMs: 250,
    onKeyframeRequest: (r) => requests.push(r),
    onStats: (s) => stats.push(s),
    now: () => t,
  });
  return { feedback, requests, stats, advance: (ms: number) => (t += ms) };
}

describe('createVideoFeedback', () => {
  it('coalesces keyframe requests that come faster than the interval', () => {
    const { feedback, requests, advance } = setup();
    feedback.handle(buildPli(1, SSRC));
    advance(200);
    feedback.handle(buildPli(1, SSRC));
    feedback.handle(buildFir(1, SSRC, 1));
    expect(requests).toEqual(['pli']);
    advance(60);
    feedback.handle(buildFir(1, SSRC, 2));
    expect(requests).toEqual(['pli', 'fir']);
  });

  it('ignores requests and reports about another SSRC', () => {
    const { feedback, requests, stats } = setup();
    feedback.handle(buildPli(1, 999));
    const block = {
      ssrc: 999,
      fractionLost: 0,
      cumulativeLost: 0,
      highestSequence: 1,
      jitter: 0,
      lastSr: 0,
      delaySinceLastSr: 0,
    };
    feedback.handle(buildReceiverReport(1, [block]));
    expect(requests).toEqual([]);
    expect(stats).toEqual([]);
    expect(feedback.stats).toBeUndefined();
  });

  it('keeps the latest report about our SSRC as statistics', () => {
    const { feedback, stats } = setup();
    const block = {
      ssrc: SSRC,
      fractionLost: 0.125,
      cumulativeLost: 40,
      highestSequence: 9,
      jitter: 180,
      lastSr: 0,
      delaySinceLastSr: 0,
    };
    feedback.handle(buildReceiverReport(1, [block]));
    expect(stats).toHaveLength(1);
    expect(feedback.stats).toMatchObject({
      fractionLost: 0.125,
      cumulativeLost: 40,
      jitterMs: 2,
      rttMs: undefined,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { formatStats, sampleFromStats, statsView, type StatsEntry } from '../../src/viewer/stats.js';

const video = (at: number): StatsEntry => ({
  id: 'V1',
  type: 'inbound-rtp',
  kind: 'video',
  timestamp: at,
  framesDecoded: at / 33,
  bytesReceived: at * 100,
});
const audio = (at: number, bytes: number, delay: number, emitted: number): StatsEntry => ({
  id: 'A1',
  type: 'inbound-rtp',
  kind: 'audio',
  timestamp: at,
  bytesReceived: bytes,
  jitterBufferDelay: delay,
  jitterBufferEmittedCount: emitted,
});

describe('stats: audio', () => {
  it('shows the audio bitrate and the jitter buffer delay of the samples emitted over the interval', () => {
    const a = sampleFromStats([video(10_000), audio(10_000, 100_000, 480, 9_600)])!;
    // 2 s later: 24 000 bytes more (96 kbit/s), 96 000 samples emitted having waited 40 ms each.
    const b = sampleFromStats([video(12_000), audio(12_000, 124_000, 480 + 96_000 * 0.04, 105_600)])!;
    const v = statsView(a, b);
    expect(v.audio?.bitrateKbps).toBe(96);
    expect(v.audio?.jitterBufferMs).toBeCloseTo(40, 6);
    expect(formatStats(v).slice(-2)).toEqual(['audio 96 kbit/s', 'audio buffer 40 ms']);
  });

  it('uses the whole call’s average for the first sample, and a dash when nothing was emitted', () => {
    const first = statsView(undefined, sampleFromStats([video(1000), audio(1000, 5000, 500, 10_000)])!);
    expect(first.audio).toEqual({ bitrateKbps: undefined, jitterBufferMs: 50 });
    const silent = statsView(undefined, sampleFromStats([video(1000), audio(1000, 0, 0, 0)])!);
    expect(formatStats(silent).slice(-2)).toEqual(['audio –', 'audio buffer –']);
  });

  it('adds no audio lines to a desktop without sound', () => {
    const v = statsView(undefined, sampleFromStats([video(1000)])!);
    expect(v.audio).toBeUndefined();
    expect(formatStats(v).some((l) => l.startsWith('audio'))).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { formatStats, sampleFromStats, statsView, type StatsEntry } from '../../src/viewer/stats.js';

function report(
  at: number,
  framesDecoded: number,
  bytesReceived: number,
  extra: Partial<StatsEntry> = {},
): StatsEntry[] {
  return [
    { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP2' },
    { id: 'CP1', type: 'candidate-pair', nominated: false, state: 'failed', currentRoundTripTime: 9 },
    { id: 'CP2', type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.042 },
    { id: 'A1', type: 'inbound-rtp', kind: 'audio', framesDecoded: 999, bytesReceived: 999, timestamp: at },
    {
      id: 'V1',
      type: 'inbound-rtp',
      kind: 'video',
      timestamp: at,
      framesDecoded,
      bytesReceived,
      framesDropped: 3,
      packetsLost: 7,
      frameWidth: 1920,
      frameHeight: 1080,
      framesPerSecond: 29,
      ...extra,
    },
  ];
}

describe('stats', () => {
  it('computes fps and bitrate from the deltas between two samples', () => {
    const a = sampleFromStats(report(10_000, 100, 1_000_000))!;
    const b = sampleFromStats(report(12_000, 160, 1_500_000))!;
    const v = statsView(a, b);
    expect(v.fps).toBe(30);
    expect(v.bitrateKbps).toBe(2000);
    expect(v.rttMs).toBe(42);
    expect(v.framesDropped).toBe(3);
    expect(v.packetsLost).toBe(7);
    expect(v.resolution).toBe('1920×1080');
  });

  it("uses the browser's framesPerSecond and no bitrate for the first sample", () => {
    const v = statsView(undefined, sampleFromStats(report(1000, 10, 5000))!);
    expect(v.fps).toBe(29);
    expect(v.bitrateKbps).toBeUndefined();
  });

  it('ignores a previous sample whose counters are ahead (a new peer connection after a reconnect)', () => {
    const before = sampleFromStats(report(50_000, 9000, 90_000_000))!;
    const after = sampleFromStats(report(51_000, 20, 40_000))!;
    expect(statsView(before, after).bitrateKbps).toBeUndefined();
    expect(statsView(before, after).fps).toBe(29);
  });

  it('finds the round-trip time on the nominated pair when no transport names one', () => {
    const entries = report(1000, 1, 1).filter((e) => e.type !== 'transport');
    expect(sampleFromStats(entries)?.rttSeconds).toBe(0.042);
  });

  it('has no sample without a video inbound-rtp entry', () => {
    expect(sampleFromStats(report(1, 1, 1).filter((e) => e.id !== 'V1'))).toBeUndefined();
  });

  it('formats figures for the overlay, with a dash for what is unknown', () => {
    expect(
      formatStats({
        fps: 59.6,
        bitrateKbps: 4500,
        rttMs: 12.4,
        framesDropped: 1,
        packetsLost: 0,
        resolution: '1280×720',
      }),
    ).toEqual(['fps 60', 'bitrate 4.5 Mbit/s', 'rtt 12 ms', 'dropped 1', 'lost 0', 'size 1280×720']);
    expect(
      formatStats({
        fps: undefined,
        bitrateKbps: 800,
        rttMs: undefined,
        framesDropped: 0,
        packetsLost: 0,
        resolution: undefined,
      }),
    ).toEqual(['fps –', 'bitrate 800 kbit/s', 'rtt –', 'dropped 0', 'lost 0', 'size –']);
  });
});

import { describe, expect, it } from 'vitest';
import { summarize } from '../../../bench/e2e/measure.js';
import {
  longestFreezeMs,
  netTargets,
  recoveryMs,
  withinRate,
  type NetResult,
} from '../../../bench/net/results.js';

function row(o: Partial<NetResult> & Pick<NetResult, 'profile' | 'viewer'>): NetResult {
  return {
    connectMs: 500,
    latency: summarize([50]),
    fps: 30,
    freezeMs: 100,
    recoveryMs: 300,
    offeredBps: 500_000,
    deliveredBytesPerS: 60_000,
    tbfDropsPerS: 0,
    ...o,
  };
}

describe('bench:net measures', () => {
  it('takes the longest gap between displayed frames, the phase ends included', () => {
    expect(longestFreezeMs([1010, 1020, 1400, 1410], 1000, 1500)).toBe(380);
    // Nothing shown after 1410: the picture stood still until the phase ended.
    expect(longestFreezeMs([1010, 1020], 1000, 2000)).toBe(980);
    expect(longestFreezeMs([], 1000, 1500)).toBe(500);
    // Frames outside the phase do not count.
    expect(longestFreezeMs([900, 1600], 1000, 1500)).toBe(500);
  });

  it('counts recovery from the outage end to the first frame painted after it', () => {
    // shownAt − latency = painted: 1900 (backlog from before the end at 2000), then 2050.
    expect(recoveryMs([2100, 2300], [200, 250], 2000)).toBe(300);
    expect(recoveryMs([2100], [200], 2000)).toBeNaN();
  });

  it('judges the issue’s targets from the rows', () => {
    const rows = [
      row({ profile: '4g', viewer: 'porthole', latency: summarize([40, 90]), freezeMs: 300 }),
      row({ profile: '4g', viewer: 'noVNC', latency: summarize([100, 200]) }),
      row({ profile: 'thin', viewer: 'porthole', fps: 12, latency: summarize([100, 380]), recoveryMs: 1200 }),
      row({ profile: 'thin', viewer: 'noVNC', fps: 4, latency: summarize([900]) }),
    ];
    const verdicts = Object.fromEntries(netTargets(rows).map((t) => [`${t.profile} ${t.what}`, t.met]));
    expect(verdicts).toEqual({
      '4g latency p95, porthole vs noVNC': true,
      '4g porthole longest freeze (no outage)': true,
      'thin porthole scrolling text usable': true,
      'thin noVNC scrolling text not usable': true,
      '4g porthole recovery after a 2 s outage': true,
      'thin porthole recovery after a 2 s outage': false,
    });
  });

  it('calls a stream within the link when its offered load is at most the profile’s rate', () => {
    expect(withinRate(row({ profile: 'thin', viewer: 'porthole', offeredBps: 990_000 }))).toBe(true);
    expect(withinRate(row({ profile: 'thin', viewer: 'porthole', offeredBps: 1_200_000 }))).toBe(false);
    expect(withinRate(row({ profile: 'lan', viewer: 'porthole' }))).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { parseNetOptions } from '../../../bench/net/options.js';
import { PROFILE_NAMES } from '../../../bench/net/profiles.js';
import { netTable, NET_VIEWERS, parseNetViewer, type NetResult } from '../../../bench/net/results.js';
import { summarize } from '../../../bench/e2e/measure.js';

describe('bench:net options', () => {
  it('measures every profile and viewer, the relay included, when nothing narrows it', () => {
    expect(parseNetOptions([])).toEqual({
      profiles: [...PROFILE_NAMES],
      viewers: ['porthole', 'porthole (relay)', 'noVNC'],
      phaseS: 10,
      trial: false,
    });
  });

  it('narrows to the given profiles and viewers (flags before variables) and calls that a trial', () => {
    expect(parseNetOptions(['--profiles', 'thin,bad', '--viewers', 'relay, porthole'])).toEqual({
      profiles: ['thin', 'bad'],
      viewers: ['porthole (relay)', 'porthole'],
      phaseS: 10,
      trial: true,
    });
    expect(parseNetOptions(['--viewers=noVNC'], { NET_VIEWERS: 'porthole', NET_PHASE_S: '4' })).toMatchObject(
      {
        viewers: ['noVNC'],
        phaseS: 4,
        trial: true,
      },
    );
    expect(parseNetOptions([], { NET_PROFILES: 'lan' }).profiles).toEqual(['lan']);
  });

  it('refuses an unknown profile, viewer, flag or phase instead of skipping it', () => {
    expect(() => parseNetOptions(['--profiles', 'lan,dialup'])).toThrow(/no profile 'dialup'/);
    expect(() => parseNetOptions(['--viewers', 'vnc'])).toThrow(/no viewer 'vnc'/);
    expect(() => parseNetOptions(['--profile', 'lan'])).toThrow();
    expect(() => parseNetOptions(['--phase-s', '0'])).toThrow(/phase-s/);
    expect(() => parseNetOptions(['--viewers', ','])).toThrow(/nothing to measure/);
  });

  it('names each viewer by its table name or `relay`, case ignored', () => {
    for (const v of NET_VIEWERS) expect(parseNetViewer(v.toUpperCase())).toBe(v);
    expect(parseNetViewer('Relay')).toBe('porthole (relay)');
    expect(parseNetViewer('webrtc')).toBeUndefined();
  });

  it('shows the relay queue’s drops for the relay row only', () => {
    const base = {
      profile: 'lan' as const,
      connectMs: 500,
      latency: summarize([50]),
      fps: 30,
      freezeMs: 100,
      recoveryMs: 300,
      offeredBps: 500_000,
      deliveredBytesPerS: 60_000,
      tbfDropsPerS: 0,
    };
    const rows: NetResult[] = [
      { ...base, viewer: 'porthole' },
      { ...base, viewer: 'porthole (relay)', relayDroppedFrames: 12, relayFrames: 300 },
    ];
    const [, , direct, relay] = netTable(rows).split('\n');
    expect(direct?.endsWith('| (no limit) |  |')).toBe(true);
    expect(relay).toContain('| porthole (relay) |');
    expect(relay?.endsWith('| 12 of 300 frames |')).toBe(true);
  });
});

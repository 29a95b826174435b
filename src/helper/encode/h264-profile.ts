/**
 * The profile-level-id a viewer offers in SDP (e.g. `42e01f`) and the level a picture size needs.
 */

export interface H264Profile {
  /** profile_idc: 66 baseline, 77 main, 100 high. */
  profileIdc: number;
  constraints: number;
  levelIdc: number;
}

export const DEFAULT_PROFILE_LEVEL_ID = '42e01f';

export function parseProfileLevelId(id: string = DEFAULT_PROFILE_LEVEL_ID): H264Profile {
  if (!/^[0-9a-fA-F]{6}$/.test(id)) throw new RangeError(`profile-level-id "${id}" is not 6 hex digits`);
  const n = Number.parseInt(id, 16);
  return { profileIdc: n >> 16, constraints: (n >> 8) & 0xff, levelIdc: n & 0xff };
}

/** The name libx264/ffmpeg use for a profile_idc. */
export function profileName(profileIdc: number): 'baseline' | 'main' | 'high' {
  if (profileIdc === 66) return 'baseline';
  if (profileIdc === 77) return 'main';
  return 'high';
}

/** Levels with their limits (H.264 Table A-1): max frame size and max macroblocks per second. */
const LEVELS: [level: number, maxFs: number, maxMbps: number][] = [
  [30, 1620, 40500],
  [31, 3600, 108000],
  [32, 5120, 216000],
  [40, 8192, 245760],
  [42, 8704, 522240],
  [50, 22080, 589824],
  [51, 36864, 983040],
  [52, 36864, 2073600],
];

/**
 * The offered level, raised to the lowest level whose limits hold width×height at fps. A stream above
 * its declared level may be refused by strict (hardware) decoders, and browsers accept a higher level
 * than the SDP's in practice, so the honest level is sent.
 */
export function levelFor(width: number, height: number, fps: number, offeredLevelIdc: number): number {
  const mbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const needed = LEVELS.find(([, maxFs, maxMbps]) => mbs <= maxFs && mbs * fps <= maxMbps)?.[0] ?? 52;
  return Math.max(needed, offeredLevelIdc);
}

/** "3.1" from 31. */
export function levelName(levelIdc: number): string {
  return `${Math.floor(levelIdc / 10)}.${levelIdc % 10}`;
}

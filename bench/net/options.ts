/**
 * What `npm run bench:net` measures: `-- --profiles lan,bad --viewers porthole,relay,noVNC --phase-s 10`
 * (or NET_PROFILES, NET_VIEWERS, NET_PHASE_S). Any of them narrows the run to a trial, which prints its
 * table and writes nothing (neither design/BENCHMARKS.md nor the chart). Unknown names are an error,
 * not silently skipped.
 */
import { parseArgs } from 'node:util';
import { isProfileName, PROFILE_NAMES, type ProfileName } from './profiles.js';
import { NET_VIEWERS, parseNetViewer, type NetViewer } from './results.js';

export interface NetOptions {
  profiles: ProfileName[];
  viewers: NetViewer[];
  phaseS: number;
  /** Narrowed by a flag or variable: print only. */
  trial: boolean;
}

export const DEFAULT_PHASE_S = 10;

export function parseNetOptions(flags: readonly string[], env: NodeJS.ProcessEnv = {}): NetOptions {
  const { values } = parseArgs({
    args: [...flags],
    options: {
      profiles: { type: 'string' },
      viewers: { type: 'string' },
      'phase-s': { type: 'string' },
    },
    strict: true,
  });
  const profilesText = values.profiles ?? env.NET_PROFILES;
  const viewersText = values.viewers ?? env.NET_VIEWERS;
  const phaseText = values['phase-s'] ?? env.NET_PHASE_S;
  const list = (text: string): string[] =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const profiles = profilesText === undefined ? [...PROFILE_NAMES] : list(profilesText).map(profile);
  const viewers = viewersText === undefined ? [...NET_VIEWERS] : list(viewersText).map(viewer);
  const phaseS = phaseText === undefined ? DEFAULT_PHASE_S : Number(phaseText);
  if (!(phaseS > 0 && phaseS <= 600))
    throw new Error(`bench:net: --phase-s must be 1–600 s, got '${phaseText}'`);
  if (profiles.length === 0 || viewers.length === 0) throw new Error('bench:net: nothing to measure');
  return {
    profiles,
    viewers,
    phaseS,
    trial: profilesText !== undefined || viewersText !== undefined || phaseText !== undefined,
  };
}

function profile(name: string): ProfileName {
  if (isProfileName(name)) return name;
  throw new Error(`bench:net: no profile '${name}' (profiles: ${PROFILE_NAMES.join(', ')})`);
}

function viewer(name: string): NetViewer {
  const v = parseNetViewer(name);
  if (v) return v;
  throw new Error(`bench:net: no viewer '${name}' (viewers: porthole, relay, noVNC)`);
}

/**
 * porthole's data folder on Windows, %ProgramData%\porthole (the service's and helpers' logs; by
 * convention its config and device token). ProgramData lets every user create folders and files in it
 * and read what it holds ("Users: create folders / append data", "CREATOR OWNER: full control" on what
 * they create), and a new folder inherits that: a standard user could read the logs, or create the
 * folder first, own it, and plant files the SYSTEM service then trusts or follows.
 *
 * So at `porthole service install` and at every service start the folder is:
 * - created, when missing, with DATA_DIR_SDDL: a protected DACL (nothing inherited from ProgramData)
 *   giving SYSTEM and Administrators full control, inherited by everything inside;
 * - refused when it is a link or junction, not a folder, or owned by anyone but SYSTEM,
 *   Administrators or the account running porthole (its owner could rewrite its DACL at will);
 * - otherwise given DATA_DIR_SDDL's DACL when its DACL grants anything to anyone else, inherits, or
 *   lacks full control for SYSTEM or Administrators (Windows then applies it to what is inside).
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { PortholeError } from '../../errors/porthole-error.js';
import { errorMessage } from '../../errors/error-text.js';
import type { Logger } from '../../log/logger.js';
import {
  createDirectoryWithSddl,
  fileSecuritySddl,
  setProtectedFileDacl,
} from '../../native/win32/file-security.js';
import { ownUserSid } from '../../native/win32/token.js';

/** Protected; SYSTEM and Administrators: full control, on the folder, its subfolders and its files. */
export const DATA_DIR_SDDL = 'D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)';

const LOCAL_SYSTEM = 'S-1-5-18';
const ADMINISTRATORS = 'S-1-5-32-544';
/** SDDL's aliases for the two SIDs this file compares (ConvertSecurityDescriptorToStringSecurityDescriptorW writes them so). */
const ALIASES: Readonly<Record<string, string>> = { SY: LOCAL_SYSTEM, BA: ADMINISTRATORS };
/** FILE_ALL_ACCESS, as SDDL writes it (FA) or as a number; GA (GENERIC_ALL) maps to it on files. */
const FULL_CONTROL = new Set(['FA', 'GA', '0x1f01ff', '0x10000000']);

/** `%ProgramData%\porthole`. */
export function portholeDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.ProgramData ?? env.PROGRAMDATA ?? env.ALLUSERSPROFILE ?? 'C:\\ProgramData';
  return join(base, 'porthole');
}

export interface Ace {
  type: string;
  flags: string[];
  rights: string;
  sid: string;
}

/** An SDDL string's owner and DACL (control flags and entries); anything else in it is ignored. */
export function parseSddl(sddl: string): { owner?: string; daclFlags: string; aces: Ace[] } {
  const owner = /O:([A-Z]{2}|S-1-[0-9-]+)/.exec(sddl)?.[1];
  const dacl = /D:([A-Z]*)((?:\([^)]*\))*)/.exec(sddl);
  const aces = [...(dacl?.[2] ?? '').matchAll(/\(([^)]*)\)/g)].map((m) => {
    const [type = '', flags = '', rights = '', , , sid = ''] = (m[1] ?? '').split(';');
    return {
      type,
      flags: flags.match(/../g) ?? [],
      rights: rights.toLowerCase().startsWith('0x') ? rights.toLowerCase() : rights,
      sid: ALIASES[sid] ?? sid,
    };
  });
  return {
    owner: owner === undefined ? undefined : (ALIASES[owner] ?? owner),
    daclFlags: dacl?.[1] ?? '',
    aces,
  };
}

export type DataDirVerdict = { verdict: 'ok' } | { verdict: 'fix' | 'refuse'; why: string };

/**
 * What to do with an existing folder whose owner and DACL read back as `sddl`. `ownSid` is the account
 * running porthole (LocalSystem for the service; the administrator for `service install`).
 */
export function judgeDataDir(sddl: string, ownSid: string): DataDirVerdict {
  const { owner, daclFlags, aces } = parseSddl(sddl);
  const trusted = new Set([LOCAL_SYSTEM, ADMINISTRATORS, ownSid]);
  if (owner === undefined) return { verdict: 'refuse', why: 'its owner cannot be read' };
  if (!trusted.has(owner)) {
    return {
      verdict: 'refuse',
      why: `it is owned by ${owner}, not by SYSTEM, Administrators or ${ownSid}, and its owner can change its DACL`,
    };
  }
  if (!daclFlags.includes('P')) return { verdict: 'fix', why: 'its DACL inherits from its parent' };
  const other = aces.find((a) => a.type !== 'A' || (a.sid !== LOCAL_SYSTEM && a.sid !== ADMINISTRATORS));
  if (other)
    return { verdict: 'fix', why: `its DACL has an entry (${other.type};${other.rights}) for ${other.sid}` };
  for (const [sid, name] of [
    [LOCAL_SYSTEM, 'SYSTEM'],
    [ADMINISTRATORS, 'Administrators'],
  ] as const) {
    const full = aces.some(
      (a) =>
        a.sid === sid &&
        FULL_CONTROL.has(a.rights) &&
        !a.flags.includes('IO') &&
        a.flags.includes('OI') &&
        a.flags.includes('CI'),
    );
    if (!full) return { verdict: 'fix', why: `${name} lacks full control over the folder and what it holds` };
  }
  return { verdict: 'ok' };
}

/** The folder could not be made safe (code `unsafe_data_dir`); the message says why and what to do. */
export class DataDirError extends PortholeError<'unsafe_data_dir'> {
  override name = 'DataDirError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unsafe_data_dir', message, options);
  }
}

/** The calls behind secureDataDir (the Win32 ones in production, a fake on Linux). */
export interface DataDirApi {
  /** What is at `path`, without following a link or junction. */
  kind(path: string): 'missing' | 'directory' | 'link' | 'other';
  /** CreateDirectoryW with `sddl`; false when something appeared there first. */
  create(path: string, sddl: string): boolean;
  /** Owner and DACL as SDDL. */
  read(path: string): string;
  /** Replaces the DACL with `sddl`'s, protected. */
  setDacl(path: string, sddl: string): void;
  /** The SID of the account running this process. */
  ownSid(): string;
}

export type DataDirOutcome = 'created' | 'fixed' | 'ok';

/**
 * Creates or checks (and if need be fixes) the data folder; throws DataDirError when it cannot be
 * trusted. Its parent must exist (ProgramData does).
 */
export function secureDataDir(
  dir: string,
  api: DataDirApi,
  log?: Pick<Logger, 'info' | 'warn'>,
): DataDirOutcome {
  const refuse = (why: string, cause?: unknown): never => {
    throw new DataDirError(
      `${dir} cannot be trusted: ${why}. Remove it (or take ownership as an administrator: ` +
        `takeown /f "${dir}" /a /r) and run porthole service install again`,
      cause === undefined ? undefined : { cause },
    );
  };
  let kind = api.kind(dir);
  if (kind === 'missing') {
    if (api.create(dir, DATA_DIR_SDDL)) {
      log?.info({ dir }, 'data folder created for SYSTEM and Administrators only');
      return 'created';
    }
    kind = api.kind(dir);
  }
  if (kind === 'link') return refuse('it is a link or junction');
  if (kind !== 'directory') return refuse('it is not a folder');
  let sddl: string;
  try {
    sddl = api.read(dir);
  } catch (err) {
    return refuse(`its security cannot be read (${errorMessage(err)})`, err);
  }
  const ownSid = api.ownSid();
  const verdict = judgeDataDir(sddl, ownSid);
  if (verdict.verdict === 'ok') return 'ok';
  if (verdict.verdict === 'refuse') return refuse(verdict.why);
  try {
    api.setDacl(dir, DATA_DIR_SDDL);
  } catch (err) {
    return refuse(`its DACL cannot be replaced (${errorMessage(err)}), and ${verdict.why}`, err);
  }
  log?.info(
    { dir, why: verdict.why, was: sddl },
    'data folder DACL replaced: SYSTEM and Administrators only',
  );
  const after = api.read(dir);
  const still = judgeDataDir(after, ownSid);
  // Windows stores what was set. Wine does not (it maps a DACL onto the Unix mode bits): say so.
  if (still.verdict !== 'ok')
    log?.warn(
      { dir, sddl: after, why: 'why' in still ? still.why : '' },
      'data folder DACL does not read back as set',
    );
  return 'fixed';
}

/** The real calls. */
export const win32DataDirApi: DataDirApi = {
  kind(path) {
    try {
      const st = lstatSync(path);
      // Node reports junctions and symbolic links alike as links on Windows.
      if (st.isSymbolicLink()) return 'link';
      return st.isDirectory() ? 'directory' : 'other';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
  },
  create: createDirectoryWithSddl,
  read: fileSecuritySddl,
  setDacl: setProtectedFileDacl,
  ownSid: ownUserSid,
};

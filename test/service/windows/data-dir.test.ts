/**
 * %ProgramData%\porthole: the decisions about an existing folder (from its owner and DACL as SDDL),
 * and the create / check / repair / refuse paths against a fake file system. The Win32 calls run
 * under Wine (test/win32/data-dir.test.ts); that a standard user is kept out is a VM step.
 */
import { describe, expect, it } from 'vitest';
import {
  DATA_DIR_SDDL,
  judgeDataDir,
  parseSddl,
  portholeDataDir,
  secureDataDir,
  type DataDirApi,
} from '../../../src/service/windows/data-dir.js';

const SYSTEM = 'S-1-5-18';
const ADMIN_USER = 'S-1-5-21-1-2-3-500';
const STANDARD_USER = 'S-1-5-21-1-2-3-1001';
/** What Windows reads back from a folder created with DATA_DIR_SDDL by an elevated administrator. */
const SECURED = 'O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)';
/** A folder made by mkdir under ProgramData: its entries inherited, Users may create and read. */
const INHERITED =
  'O:BAD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)';

describe('the data folder', () => {
  it('lives in %ProgramData%\\porthole', () => {
    expect(portholeDataDir({ ProgramData: 'D:\\PD' })).toMatch(/^D:\\PD[\\/]porthole$/);
  });

  it('parses owner and DACL entries, with SDDL aliases turned into SIDs', () => {
    expect(parseSddl(SECURED)).toEqual({
      owner: 'S-1-5-32-544',
      daclFlags: 'PAI',
      aces: [
        { type: 'A', flags: ['OI', 'CI'], rights: 'FA', sid: SYSTEM },
        { type: 'A', flags: ['OI', 'CI'], rights: 'FA', sid: 'S-1-5-32-544' },
      ],
    });
    expect(parseSddl(`O:${STANDARD_USER}D:(A;;0x1F01FF;;;${STANDARD_USER})`).aces[0]).toEqual({
      type: 'A',
      flags: [],
      rights: '0x1f01ff',
      sid: STANDARD_USER,
    });
  });
});

describe('judgeDataDir', () => {
  it('accepts the protected SYSTEM + Administrators DACL, however it is spelled', () => {
    expect(judgeDataDir(SECURED, SYSTEM)).toEqual({ verdict: 'ok' });
    expect(judgeDataDir(DATA_DIR_SDDL.replace('D:', 'O:SYD:'), SYSTEM)).toEqual({ verdict: 'ok' });
    expect(
      judgeDataDir('O:S-1-5-18D:P(A;OICI;0x1f01ff;;;S-1-5-18)(A;OICI;GA;;;S-1-5-32-544)', SYSTEM),
    ).toEqual({ verdict: 'ok' });
  });

  it('repairs a DACL that inherits from ProgramData (Users may create and read there)', () => {
    expect(judgeDataDir(INHERITED, SYSTEM)).toEqual({
      verdict: 'fix',
      why: 'its DACL inherits from its parent',
    });
  });

  it('repairs a protected DACL with anyone else in it, or without full control for SYSTEM or Administrators', () => {
    expect(judgeDataDir('O:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FR;;;BU)', SYSTEM)).toEqual({
      verdict: 'fix',
      why: 'its DACL has an entry (A;FR) for BU',
    });
    expect(judgeDataDir('O:SYD:P(A;OICI;FA;;;SY)(D;OICI;FA;;;WD)(A;OICI;FA;;;BA)', SYSTEM).verdict).toBe(
      'fix',
    );
    expect(judgeDataDir('O:SYD:P(A;OICI;FA;;;SY)(A;OICI;FR;;;BA)', SYSTEM)).toEqual({
      verdict: 'fix',
      why: 'Administrators lacks full control over the folder and what it holds',
    });
    // Full control on the folder only: what is created inside would not get it.
    expect(judgeDataDir('O:SYD:P(A;;FA;;;SY)(A;OICI;FA;;;BA)', SYSTEM)).toEqual({
      verdict: 'fix',
      why: 'SYSTEM lacks full control over the folder and what it holds',
    });
    expect(judgeDataDir('O:SYD:P(A;OICIIO;FA;;;SY)(A;OICI;FA;;;BA)', SYSTEM).verdict).toBe('fix');
  });

  it('refuses a folder owned by a standard user (who could rewrite its DACL at will)', () => {
    expect(judgeDataDir(`O:${STANDARD_USER}D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)`, SYSTEM)).toEqual({
      verdict: 'refuse',
      why: `it is owned by ${STANDARD_USER}, not by SYSTEM, Administrators or ${SYSTEM}, and its owner can change its DACL`,
    });
    expect(judgeDataDir('D:P(A;OICI;FA;;;SY)', SYSTEM)).toEqual({
      verdict: 'refuse',
      why: 'its owner cannot be read',
    });
  });

  it('trusts an owner that is the account running porthole (an administrator installing it)', () => {
    expect(judgeDataDir(`O:${ADMIN_USER}${INHERITED.slice(4)}`, ADMIN_USER).verdict).toBe('fix');
  });
});

/** A fake file system holding one path's kind and SDDL, recording what was done to it. */
function fakeFs(start: { kind: ReturnType<DataDirApi['kind']>; sddl?: string; keepsDacl?: boolean }) {
  const state = { ...start, calls: [] as string[] };
  const api: DataDirApi = {
    kind: () => state.kind,
    create: (_path, sddl) => {
      state.calls.push(`create ${sddl}`);
      if (state.kind !== 'missing') return false;
      state.kind = 'directory';
      state.sddl = `O:BA${sddl}`;
      return true;
    },
    read: () => {
      if (state.sddl === undefined) throw new Error('GetNamedSecurityInfoW failed: 5 ERROR_ACCESS_DENIED');
      return state.sddl;
    },
    setDacl: (_path, sddl) => {
      state.calls.push(`setDacl ${sddl}`);
      // Windows stores the DACL; Wine maps it onto the mode bits and reads back what it had.
      if (state.keepsDacl !== false) state.sddl = `${/^O:[^D]*/.exec(state.sddl ?? '')?.[0] ?? ''}${sddl}`;
    },
    ownSid: () => SYSTEM,
  };
  return { api, state };
}

describe('secureDataDir', () => {
  const dir = 'C:\\ProgramData\\porthole';

  it('creates a missing folder with the protected DACL, in one call', () => {
    const { api, state } = fakeFs({ kind: 'missing' });
    expect(secureDataDir(dir, api)).toBe('created');
    expect(state.calls).toEqual([`create ${DATA_DIR_SDDL}`]);
  });

  it('leaves a folder that is already right alone', () => {
    const { api, state } = fakeFs({ kind: 'directory', sddl: SECURED });
    expect(secureDataDir(dir, api)).toBe('ok');
    expect(state.calls).toEqual([]);
  });

  it('replaces an inherited DACL, and logs what it was', () => {
    const { api, state } = fakeFs({ kind: 'directory', sddl: INHERITED });
    const lines: { obj: object; msg?: string }[] = [];
    expect(secureDataDir(dir, api, { info: (obj, msg) => lines.push({ obj, msg }), warn: () => {} })).toBe(
      'fixed',
    );
    expect(state.calls).toEqual([`setDacl ${DATA_DIR_SDDL}`]);
    expect(lines).toEqual([
      {
        obj: { dir, why: 'its DACL inherits from its parent', was: INHERITED },
        msg: 'data folder DACL replaced: SYSTEM and Administrators only',
      },
    ]);
  });

  it('says so when the DACL does not read back as set (Wine), without failing', () => {
    const { api } = fakeFs({ kind: 'directory', sddl: INHERITED, keepsDacl: false });
    const warned: string[] = [];
    expect(secureDataDir(dir, api, { info: () => {}, warn: (_o, m) => void warned.push(m ?? '') })).toBe(
      'fixed',
    );
    expect(warned).toEqual(['data folder DACL does not read back as set']);
  });

  it('refuses a folder a standard user made (and owns), a link or junction, and a file', () => {
    const owned = fakeFs({ kind: 'directory', sddl: `O:${STANDARD_USER}D:(A;OICI;FA;;;${STANDARD_USER})` });
    expect(() => secureDataDir(dir, owned.api)).toThrow(
      expect.objectContaining({
        name: 'DataDirError',
        code: 'unsafe_data_dir',
        message: expect.stringMatching(
          /^C:\\ProgramData\\porthole cannot be trusted: it is owned by S-1-5-21-1-2-3-1001.*takeown \/f "C:\\ProgramData\\porthole" \/a \/r/,
        ),
      }),
    );
    expect(owned.state.calls).toEqual([]);
    expect(() => secureDataDir(dir, fakeFs({ kind: 'link' }).api)).toThrow(/it is a link or junction/);
    expect(() => secureDataDir(dir, fakeFs({ kind: 'other' }).api)).toThrow(/it is not a folder/);
  });

  it('checks what appeared in its place when the create found something there first', () => {
    const raced = fakeFs({ kind: 'missing' });
    raced.api.create = () => {
      raced.state.kind = 'directory';
      raced.state.sddl = `O:${STANDARD_USER}D:(A;OICI;FA;;;${STANDARD_USER})`;
      return false;
    };
    expect(() => secureDataDir(dir, raced.api)).toThrow(/owned by S-1-5-21-1-2-3-1001/);
  });

  it('refuses a folder whose security it cannot read or replace', () => {
    expect(() => secureDataDir(dir, fakeFs({ kind: 'directory' }).api)).toThrow(
      /its security cannot be read \(GetNamedSecurityInfoW failed: 5 ERROR_ACCESS_DENIED\)/,
    );
    const stuck = fakeFs({ kind: 'directory', sddl: INHERITED });
    stuck.api.setDacl = () => {
      throw new Error('SetNamedSecurityInfoW failed: 5 ERROR_ACCESS_DENIED');
    };
    expect(() => secureDataDir(dir, stuck.api)).toThrow(
      /its DACL cannot be replaced \(SetNamedSecurityInfoW failed: 5/,
    );
  });
});

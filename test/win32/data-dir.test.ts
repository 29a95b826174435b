/**
 * %ProgramData%\porthole's security calls under Wine, on a folder of the test's own. Wine derives a
 * folder's DACL from the Unix mode bits and keeps nothing else: what is set does not read back as set,
 * so a second check "repairs" again. Nor can Wine make a junction or a symbolic link (Node's symlink
 * fails there), so the refusal of a link is tested on Linux only. That the DACL reads back and keeps a
 * standard user out is a step of the VM script.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  createDirectoryWithSddl,
  fileSecuritySddl,
  setProtectedFileDacl,
} from '../../src/native/win32/file-security.js';
import { ownUserSid } from '../../src/native/win32/token.js';
import {
  DATA_DIR_SDDL,
  parseSddl,
  portholeDataDir,
  secureDataDir,
  win32DataDirApi,
} from '../../src/service/windows/data-dir.js';

const work = mkdtempSync(join(tmpdir(), 'porthole-datadir-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the data folder (Wine)', () => {
  test('is %ProgramData%\\porthole', () => {
    expect(portholeDataDir()).toMatch(/^C:\\ProgramData\\porthole$/i);
  });

  test('is created by CreateDirectoryW with the SDDL security descriptor; an existing path is left alone', () => {
    const dir = join(work, 'created');
    expect(createDirectoryWithSddl(dir, DATA_DIR_SDDL)).toBe(true);
    expect(createDirectoryWithSddl(dir, DATA_DIR_SDDL)).toBe(false);
    // Owner and DACL read back through GetNamedSecurityInfoW; Wine's DACL is its own picture.
    const read = parseSddl(fileSecuritySddl(dir));
    expect(read.owner).toBe(ownUserSid());
    expect(read.aces.length).toBeGreaterThan(0);
  });

  test('secureDataDir: created, then (Wine keeping no DACL) repaired with a warning, never refused', () => {
    const dir = join(work, 'data');
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (_o: object, m?: string) => void warnings.push(m ?? '') };
    expect(secureDataDir(dir, win32DataDirApi, log)).toBe('created');
    expect(secureDataDir(dir, win32DataDirApi, log)).toBe('fixed');
    expect(warnings).toEqual(['data folder DACL does not read back as set']);
    // SetNamedSecurityInfoW(DACL | PROTECTED_DACL) itself succeeds.
    setProtectedFileDacl(dir, DATA_DIR_SDDL);
    expect(() => setProtectedFileDacl(dir, 'O:SY')).toThrow(/SDDL without a DACL/);
  });

  test('refuses a file in its place', () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    expect(() => secureDataDir(file, win32DataDirApi)).toThrow(/cannot be trusted: it is not a folder/);
  });
});

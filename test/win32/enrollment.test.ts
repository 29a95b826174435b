/**
 * `porthole service enroll`'s Windows file handling under Wine: the token and the config written
 * through temp files given a protected SYSTEM + Administrators DACL (SetNamedSecurityInfoW) while
 * empty, then renamed into place; the default paths under %ProgramData%; the data folder secured
 * only when the files go there. Wine keeps no DACL (see data-dir.test.ts), so this proves the calls
 * and the files, not who can read them: that is a step of scripts/windows-vm-check.ps1.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { writeEnrollment } from '../../src/service/enrollment-files.js';
import { defaultConfigPath, defaultTokenPath } from '../../src/service/install-paths.js';
import { loadServiceConfig } from '../../src/service/config.js';
import {
  ENROLLMENT_FILE_SDDL,
  protectEnrollmentFile,
  secureEnrollmentFolder,
} from '../../src/service/windows/enrollment-security.js';
import { portholeDataDir } from '../../src/service/windows/data-dir.js';

const work = mkdtempSync(join(tmpdir(), 'porthole-enroll-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('enrollment files on Windows (Wine)', () => {
  test('default paths are in the data folder', () => {
    expect(defaultConfigPath().toLowerCase()).toBe(join(portholeDataDir(), 'porthole.json').toLowerCase());
    expect(defaultTokenPath().toLowerCase()).toBe(join(portholeDataDir(), 'device-token').toLowerCase());
  });

  test('writes token and config through protected temp files, leaving no temp file behind', () => {
    const protectedPaths: string[] = [];
    const token = 'W'.repeat(43);
    writeEnrollment({
      configPath: join(work, 'porthole.json'),
      tokenPath: join(work, 'device-token'),
      config: { logLevel: 'warn' },
      agentUrl: 'ws://127.0.0.1:8443/api/agent',
      deviceId: 'dev-winewinewi',
      token,
      protect: (path) => {
        protectedPaths.push(path);
        protectEnrollmentFile(path);
      },
    });
    expect(protectedPaths).toHaveLength(2);
    expect(protectedPaths.every((p) => p.includes('.tmp-'))).toBe(true);
    expect(readdirSync(work).sort()).toEqual(['device-token', 'porthole.json']);
    expect(readFileSync(join(work, 'device-token'), 'utf8')).toBe(`${token}\n`);
    const loaded = loadServiceConfig({ file: join(work, 'porthole.json'), env: {}, flags: {} });
    expect(loaded.api).toEqual({ url: 'ws://127.0.0.1:8443/api/agent', deviceId: 'dev-winewinewi', token });
    expect(loaded.logLevel).toBe('warn');
    expect(ENROLLMENT_FILE_SDDL).toBe('D:P(A;;FA;;;SY)(A;;FA;;;BA)');
  });

  test('secures %ProgramData%\\porthole when the files go there, and leaves other folders alone', () => {
    expect(secureEnrollmentFolder(work)).toBe('elsewhere');
    expect(['created', 'fixed', 'ok']).toContain(secureEnrollmentFolder(portholeDataDir()));
  });
});

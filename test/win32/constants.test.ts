import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { sameValue, win32Constants, win32Guids } from './win32-constants.js';

// abi-probe.exe (test/win32/native/abi-probe.c + abi-constants.h, built with mingw-w64 by
// scripts/test-win32.sh) prints what the Windows headers say each constant is. A wrong value here is
// the class of bug Wine cannot show: DESKTOP_JOURNALPLAYBACK written as 0x10 ran green under Wine.
const probed = JSON.parse(execFileSync('abi-probe.exe', ['constants'], { encoding: 'utf8' })) as {
  constants: Record<string, string>;
  guids: Record<string, string>;
};
const constants = win32Constants();
const guids = win32Guids();

describe('Win32 constants against the Windows SDK headers (mingw-w64)', () => {
  test('the probe prints every constant porthole defines, and no other', () => {
    expect(Object.keys(probed.constants).sort()).toEqual(
      [...new Set(constants.map((c) => c.sdkName))].sort(),
    );
    expect(Object.keys(probed.guids).sort()).toEqual(guids.map((g) => g.sdkName).sort());
  });

  test.each(constants.map((c) => [c.where, c] as const))('%s equals the header', (_where, c) => {
    const header = probed.constants[c.sdkName];
    expect(header, `${c.sdkName} is not printed by the probe`).toBeDefined();
    expect(
      { where: c.where, sdkName: c.sdkName, ours: c.value.toString(), matches: sameValue(c.value, header!) },
      `header value: ${header}`,
    ).toEqual({ where: c.where, sdkName: c.sdkName, ours: c.value.toString(), matches: true });
  });

  test.each(guids.map((g) => [g.where, g] as const))('%s equals the header', (_where, g) => {
    expect(g.guid).toBe(probed.guids[g.sdkName]);
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import koffi from 'koffi';
import { describe, expect, test } from 'vitest';
import { WIN32_STRUCTS, WIN32_VTABLES } from '../../src/native/win32/abi.js';

// abi-probe.exe is test/win32/native/abi-probe.c built with mingw-w64 by scripts/test-win32.sh.
const probe = 'abi-probe.exe';

interface ProbedStruct {
  size: number;
  fields: Record<string, number>;
}

describe('Win32 struct layouts', () => {
  const probed = JSON.parse(execFileSync(probe, { encoding: 'utf8' })) as Record<string, ProbedStruct>;

  test('the probe exists and reports every struct porthole declares, and no other', () => {
    expect(existsSync(probe)).toBe(true);
    expect(Object.keys(probed).sort()).toEqual(Object.keys(WIN32_STRUCTS).sort());
  });

  test.each(Object.keys(WIN32_STRUCTS))('%s: koffi sizeof and every offsetof equal the headers', (name) => {
    const type = WIN32_STRUCTS[name]!;
    const c = probed[name]!;
    const members = Object.keys(koffi.type(type).members ?? {});
    expect(members.sort()).toEqual(Object.keys(c.fields).sort());
    expect(koffi.sizeof(type)).toBe(c.size);
    for (const [field, offset] of Object.entries(c.fields)) {
      expect({ field, offset: koffi.offsetof(type, field) }).toEqual({ field, offset });
    }
  });
});

describe('COM vtable slots', () => {
  const probed = JSON.parse(execFileSync(probe, ['vtables'], { encoding: 'utf8' })) as Record<
    string,
    Record<string, number>
  >;

  test('the probe reports every interface porthole calls, and no other', () => {
    expect(Object.keys(probed).sort()).toEqual(Object.keys(WIN32_VTABLES).sort());
  });

  test.each(Object.keys(WIN32_VTABLES))(
    '%s: each method porthole calls is in the slot the headers give',
    (name) => {
      expect(WIN32_VTABLES[name]).toEqual(probed[name]);
    },
  );
});

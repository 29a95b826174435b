/**
 * The Linux half of the Win32 constants check (the values themselves are compared with the Windows
 * headers under Wine, test/win32/constants.test.ts): the probe lists exactly the constants porthole
 * defines, every module of src/native/win32 is looked at, and no Win32 constant hides elsewhere in src.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  NOT_SDK_CONSTANTS,
  sameValue,
  WIN32_MODULES,
  win32Constants,
  win32Guids,
} from '../../win32/win32-constants.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
/**
 * The body of print_constants() in the probe: one C(NAME) per constant, one G(NAME) per GUID (GS(NAME)
 * for the codec-API GUIDs C knows only as STATIC_ initialisers).
 */
const probeBody = ((text) => text.slice(text.indexOf('static int print_constants(void)')))(
  readFileSync(path.join(ROOT, 'test/win32/native/abi-constants.h'), 'utf8'),
);
const probeNames = (macro: 'C' | 'G' | 'GS'): string[] =>
  [...probeBody.matchAll(new RegExp(`\\b${macro}\\(([A-Za-z_][A-Za-z0-9_]*)\\)`, 'g'))].map((m) => m[1]!);

/** Every .ts file under src/, relative to the root. */
function sourceFiles(dir = path.join(ROOT, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.relative(ROOT, path.join(dir, e.name))]
        : [],
  );
}

/** Prefixes of the Windows SDK's constant names: a const named so belongs in src/native/win32. */
const SDK_PREFIX = new RegExp(
  '^(?:(?:' +
    'ERROR|WAIT|STATUS|DESKTOP|GENERIC|CREATE|JOB_OBJECT|MOUSEEVENTF|KEYEVENTF|INPUT|SERVICE|SC|PIPE|FILE|' +
    'DXGI|D3D|D3D11|E|S|WTS|TOKEN|SE|STARTF|SW|SM|CF|MAPVK|GMEM|HKEY|RRF|SDDL|EVENTLOG|BI|DIB|XBUTTON|' +
    'WHEEL|HANDLE|MONITORINFOF|CURSOR|UOI|DPI|PROCESS|THREAD|MAXIMUM' +
    ')_[A-Z0-9_]+|INFINITE|DELETE|NO_ERROR|OPEN_EXISTING|OPEN_ALWAYS|STILL_ACTIVE|SRCCOPY|CAPTUREBLT)$',
);

describe('the Win32 constants check', () => {
  test('looks at every module of src/native/win32', () => {
    const files = readdirSync(path.join(ROOT, 'src/native/win32')).filter((f) => f.endsWith('.ts'));
    expect(Object.keys(WIN32_MODULES).sort()).toEqual(files.sort());
  });

  test('the probe (abi-constants.h) prints exactly the constants and IIDs porthole defines', () => {
    const ours = [...new Set(win32Constants().map((c) => c.sdkName))].sort();
    const probed = probeNames('C');
    expect(probed.length, 'a constant is printed twice').toBe(new Set(probed).size);
    expect([...probed].sort()).toEqual(ours);
    expect([...probeNames('G'), ...probeNames('GS')].sort()).toEqual(
      win32Guids()
        .map((g) => g.sdkName)
        .sort(),
    );
  });

  test('finds the constants the issue named, and one SDK name never has two values', () => {
    const names = new Set(win32Constants().map((c) => c.sdkName));
    for (const n of [
      'DESKTOP_JOURNALPLAYBACK',
      'GENERIC_WRITE',
      'CREATE_UNICODE_ENVIRONMENT',
      'JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE',
      'MOUSEEVENTF_ABSOLUTE',
      'KEYEVENTF_SCANCODE',
      'INPUT_KEYBOARD',
      'SERVICE_CONFIG_FAILURE_ACTIONS_FLAG',
      'PIPE_REJECT_REMOTE_CLIENTS',
      'FILE_FLAG_OVERLAPPED',
      'ERROR_NO_DATA',
      'WAIT_FAILED',
      'DXGI_ERROR_ACCESS_LOST',
    ])
      expect(names).toContain(n);
    const values = new Map<string, bigint>();
    for (const c of win32Constants()) {
      const seen = values.get(c.sdkName);
      if (seen !== undefined) expect({ [c.where]: BigInt.asUintN(64, c.value) }).toEqual({ [c.where]: seen });
      values.set(c.sdkName, BigInt.asUintN(64, c.value));
    }
  });

  test('every exception listed is still a numeric export', () => {
    for (const key of Object.keys(NOT_SDK_CONSTANTS)) {
      const [file, name] = key.split(' ') as [string, string];
      expect(typeof WIN32_MODULES[file]?.[name], key).toBe('number');
    }
  });

  test('compares like C: unsigned DWORDs, signed HRESULTs, pointer-sized values modulo 2^64', () => {
    expect(sameValue(0xffff_ffffn, '4294967295')).toBe(true); // INFINITE
    expect(sameValue(-1n, '4294967295')).toBe(false); // a DWORD is not -1
    expect(sameValue(BigInt(0x887a0026 | 0), '-2005270490')).toBe(true); // DXGI_ERROR_ACCESS_LOST
    expect(sameValue(0x887a0026n, '-2005270490')).toBe(false); // an HRESULT read back from koffi is negative
    expect(sameValue(0xffff_ffff_ffff_ffffn, '-1')).toBe(true); // INVALID_HANDLE_VALUE
    expect(sameValue(0x10n, '32')).toBe(false); // DESKTOP_JOURNALRECORD is not JOURNALPLAYBACK
  });

  test('no Win32 constant is defined outside src/native/win32, nor written as a number with its name in a comment', () => {
    const misplaced: string[] = [];
    for (const file of sourceFiles()) {
      if (file.startsWith(path.join('src', 'native', 'win32'))) continue;
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      const win32 = /win32|windows/.test(file);
      for (const [i, line] of text.split('\n').entries()) {
        const def = /^\s*(?:export\s+)?const\s+([A-Z][A-Z0-9_]*)\s*=\s*[-(]?\d/.exec(line);
        if (win32 && def && SDK_PREFIX.test(def[1]!)) misplaced.push(`${file}:${i + 1} ${def[1]}`);
        if (win32 && /\b0x[0-9a-fA-F_]+\b[^\n]*\/\*\s*[A-Z][A-Z0-9_]{3,}\b/.test(line))
          misplaced.push(`${file}:${i + 1} a number with its name in a comment`);
      }
    }
    expect(misplaced).toEqual([]);
  });
});

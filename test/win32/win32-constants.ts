/**
 * Every Win32 constant porthole defines, read from the exports of src/native/win32 and named as the
 * Windows SDK names it, for test/win32/constants.test.ts (values against the mingw-w64 headers, under
 * Wine) and test/native/win32/constants.test.ts (on Linux: the probe lists exactly these names).
 *
 * An export is a constant when it is a number or bigint (`DESKTOP_JOURNALPLAYBACK`), a group of
 * numbers (`MOUSEEVENTF.MOVE` is MOUSEEVENTF_MOVE), a map from a value to its name
 * (`WIN32_ERROR_NAMES`) or an IID. Win32 constants belong in src/native/win32, where this finds them;
 * test/native/win32/constants.test.ts refuses SDK-looking constants anywhere else in src.
 */
import * as abi from '../../src/native/win32/abi.js';
import * as captureStructs from '../../src/native/win32/capture-structs.js';
import * as com from '../../src/native/win32/com.js';
import * as d3d11 from '../../src/native/win32/d3d11.js';
import * as dxgi from '../../src/native/win32/dxgi.js';
import * as eventLog from '../../src/native/win32/event-log.js';
import * as eventWaiter from '../../src/native/win32/event-waiter.js';
import * as fileSecurity from '../../src/native/win32/file-security.js';
import * as gdi32 from '../../src/native/win32/gdi32.js';
import * as inputStructs from '../../src/native/win32/input-structs.js';
import * as kernel32Desktop from '../../src/native/win32/kernel32-desktop.js';
import * as kernel32 from '../../src/native/win32/kernel32.js';
import * as lastError from '../../src/native/win32/last-error.js';
import * as library from '../../src/native/win32/library.js';
import * as mfInterfaces from '../../src/native/win32/mf-interfaces.js';
import * as mfStructs from '../../src/native/win32/mf-structs.js';
import * as mfTypes from '../../src/native/win32/mf-types.js';
import * as mfplat from '../../src/native/win32/mfplat.js';
import * as mmdevapi from '../../src/native/win32/mmdevapi.js';
import * as ntdll from '../../src/native/win32/ntdll.js';
import * as overlapped from '../../src/native/win32/overlapped.js';
import * as pipeClient from '../../src/native/win32/pipe-client.js';
import * as pipeStream from '../../src/native/win32/pipe-stream.js';
import * as registry from '../../src/native/win32/registry.js';
import * as sas from '../../src/native/win32/sas.js';
import * as security from '../../src/native/win32/security.js';
import * as serviceControl from '../../src/native/win32/service-control.js';
import * as token from '../../src/native/win32/token.js';
import * as user32Window from '../../src/native/win32/user32-window.js';
import * as user32 from '../../src/native/win32/user32.js';
import * as userenv from '../../src/native/win32/userenv.js';
import * as win32Error from '../../src/native/win32/win32-error.js';
import * as wtsapi32 from '../../src/native/win32/wtsapi32.js';

/** Every module of src/native/win32, by file name (the Linux test checks that none is missing). */
export const WIN32_MODULES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'abi.ts': abi,
  'capture-structs.ts': captureStructs,
  'com.ts': com,
  'd3d11.ts': d3d11,
  'dxgi.ts': dxgi,
  'event-log.ts': eventLog,
  'event-waiter.ts': eventWaiter,
  'file-security.ts': fileSecurity,
  'gdi32.ts': gdi32,
  'input-structs.ts': inputStructs,
  'kernel32-desktop.ts': kernel32Desktop,
  'kernel32.ts': kernel32,
  'last-error.ts': lastError,
  'library.ts': library,
  'mf-interfaces.ts': mfInterfaces,
  'mf-structs.ts': mfStructs,
  'mf-types.ts': mfTypes,
  'mfplat.ts': mfplat,
  'mmdevapi.ts': mmdevapi,
  'ntdll.ts': ntdll,
  'overlapped.ts': overlapped,
  'pipe-client.ts': pipeClient,
  'pipe-stream.ts': pipeStream,
  'registry.ts': registry,
  'sas.ts': sas,
  'security.ts': security,
  'service-control.ts': serviceControl,
  'token.ts': token,
  'user32-window.ts': user32Window,
  'user32.ts': user32,
  'userenv.ts': userenv,
  'win32-error.ts': win32Error,
  'wtsapi32.ts': wtsapi32,
};

/** Numeric exports that are not one SDK constant, and why they need no line of their own. */
export const NOT_SDK_CONSTANTS: Readonly<Record<string, string>> = {
  'user32.ts INPUT_DESKTOP_ACCESS': 'a mask built from DESKTOP_* and GENERIC_WRITE, each checked here',
  'pipe-stream.ts PIPE_BUFFER_BYTES': "porthole's own read size and pipe buffer size, no SDK value",
};

/** Exports whose name is not the SDK's: the SDK name they stand for. */
const RENAMED: Readonly<Record<string, string>> = {
  // The address koffi reports for INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1).
  INVALID_HANDLE_ADDRESS: 'INVALID_HANDLE_VALUE',
};

/** Groups (`{ KEY: value }`) whose members are not named `${GROUP}_${KEY}` in the SDK. */
const GROUP_MEMBER_NAMES: Readonly<Record<string, (key: string) => string>> = {
  WTS_CONNECTSTATE: (key) => `WTS${key}`, // WTS_CONNECTSTATE_CLASS: WTSActive, WTSConnected…
  WTSInfoClass: (key) => key, // WTS_INFO_CLASS: WTSUserName…
};

/** Maps from a value to a name (`{ 5: 'logon' }`): the SDK name of each entry. */
const VALUE_NAMES: Readonly<Record<string, (name: string) => string>> = {
  WIN32_ERROR_NAMES: (name) => name,
  // WTS_CONSOLE_CONNECT, WTS_REMOTE_DISCONNECT, WTS_SESSION_LOGON, WTS_SESSION_LOCK…
  WTS_SESSION_EVENT: (kind) =>
    /^(console|remote)_(connect|disconnect)$/.test(kind)
      ? `WTS_${kind.toUpperCase()}`
      : `WTS_SESSION_${kind.toUpperCase()}`,
};

export interface ConstantUse {
  /** The name in the Windows SDK headers. */
  sdkName: string;
  value: bigint;
  /** Where porthole defines it: `module.ts EXPORT[.KEY]`. */
  where: string;
}

export interface GuidUse {
  sdkName: string;
  /** Lower-case registry form, e.g. `54ec77fa-1377-44e6-8c32-88fd5f44c84c`. */
  guid: string;
  where: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

const isGuid = (v: unknown): v is com.GuidFields =>
  isPlainObject(v) &&
  typeof v.Data1 === 'number' &&
  typeof v.Data2 === 'number' &&
  typeof v.Data3 === 'number' &&
  Array.isArray(v.Data4) &&
  v.Data4.length === 8;

/** Every Win32 constant of src/native/win32 with its SDK name (one entry per definition). */
export function win32Constants(): ConstantUse[] {
  const out: ConstantUse[] = [];
  for (const [file, mod] of Object.entries(WIN32_MODULES)) {
    for (const [name, value] of Object.entries(mod)) {
      const where = `${file} ${name}`;
      if (typeof value === 'number' || typeof value === 'bigint') {
        if (where in NOT_SDK_CONSTANTS) continue;
        out.push({ sdkName: RENAMED[name] ?? name, value: BigInt(value), where });
      } else if (name in VALUE_NAMES && isPlainObject(value)) {
        for (const [code, text] of Object.entries(value)) {
          out.push({
            sdkName: VALUE_NAMES[name]!(String(text)),
            value: BigInt(code),
            where: `${where}[${code}]`,
          });
        }
      } else if (isPlainObject(value) && !isGuid(value)) {
        const entries = Object.entries(value);
        if (entries.length === 0 || !entries.every(([, v]) => typeof v === 'number')) continue;
        const memberName = GROUP_MEMBER_NAMES[name] ?? ((key: string) => `${name}_${key}`);
        for (const [key, v] of entries) {
          out.push({ sdkName: memberName(key), value: BigInt(v as number), where: `${where}.${key}` });
        }
      }
    }
  }
  return out;
}

/** Every GUID of src/native/win32 (IIDs, Media Foundation's attribute keys, types and codec properties). */
export function win32Guids(): GuidUse[] {
  const out: GuidUse[] = [];
  for (const [file, mod] of Object.entries(WIN32_MODULES)) {
    for (const [name, value] of Object.entries(mod)) {
      if (!isGuid(value)) continue;
      const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
      const d4 = value.Data4.map((b) => hex(b, 2)).join('');
      const guid = `${hex(value.Data1, 8)}-${hex(value.Data2, 4)}-${hex(value.Data3, 4)}-${d4.slice(0, 4)}-${d4.slice(4)}`;
      out.push({ sdkName: name, guid, where: `${file} ${name}` });
    }
  }
  return out;
}

/**
 * What the probe printed for a constant, as the value porthole must use: C's own value of the
 * expression, as a decimal string (pointers as signed integers). Compared modulo 2^64, so that a
 * DWORD written as 0xffff_ffff and a pointer-sized -1n are told apart while an HRESULT's sign is kept.
 */
export function sameValue(ours: bigint, probed: string): boolean {
  return BigInt.asUintN(64, ours) === BigInt.asUintN(64, BigInt(probed));
}

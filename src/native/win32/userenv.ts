/**
 * userenv.dll: the environment block of a token's user (profile paths, USERNAME, TEMP), which a
 * process started with CreateProcessAsUserW must be given explicitly (CREATE_UNICODE_ENVIRONMENT).
 */
import koffi from 'koffi';
import { lazyLibrary, type Handle } from './library.js';
import { checkBool } from './last-error.js';

export const userenv = lazyLibrary('userenv.dll', (lib) => ({
  CreateEnvironmentBlock: lib.func(
    'BOOL __stdcall CreateEnvironmentBlock(_Out_ void **lpEnvironment, HANDLE hToken, BOOL bInherit)',
  ),
  DestroyEnvironmentBlock: lib.func('BOOL __stdcall DestroyEnvironmentBlock(void *lpEnvironment)'),
}));

/**
 * The token's user environment with `extra` set on top, as a UTF-16 block ready for
 * CreateProcessAsUserW (`NAME=value\0…\0\0`). The Windows-allocated block is freed before returning.
 */
export function environmentBlockFor(token: Handle, extra: Record<string, string> = {}): Buffer {
  const out: unknown[] = [null];
  checkBool('CreateEnvironmentBlock', userenv().CreateEnvironmentBlock(out, token, 0));
  let vars: Map<string, string>;
  try {
    vars = parseEnvironmentBlock(out[0]);
  } finally {
    checkBool('DestroyEnvironmentBlock', userenv().DestroyEnvironmentBlock(out[0]));
  }
  for (const [k, v] of Object.entries(extra)) {
    for (const key of vars.keys()) if (compareEnvironmentNames(key, k) === 0) vars.delete(key);
    vars.set(k, v);
  }
  return encodeEnvironmentBlock(vars);
}

/** Reads `NAME=value\0…\0\0` from Windows memory. */
function parseEnvironmentBlock(ptr: unknown): Map<string, string> {
  const vars = new Map<string, string>();
  let offset = 0;
  for (;;) {
    const entry = koffi.decode(ptr, offset, 'char16_t', -1) as string;
    if (entry.length === 0) break;
    offset += (entry.length + 1) * 2;
    const eq = entry.indexOf('=', 1); // entries like `=C:=C:\` start with '='
    if (eq > 0) vars.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return vars;
}

/** One UTF-16 code unit upper-cased on its own, as Windows' case-insensitive ordinal compare does. */
function upcaseUnit(unit: number): number {
  const upper = String.fromCharCode(unit).toUpperCase();
  // Only one-to-one mappings: 'ß' stays 'ß' (JS would make it "SS"), a lone surrogate stays itself.
  return upper.length === 1 ? upper.charCodeAt(0) : unit;
}

/**
 * Orders two variable names the way the block must be sorted: "alphabetically by name, case-insensitive,
 * Unicode order, without regard to locale" (Changing Environment Variables, Win32 docs), i.e. by
 * upper-cased UTF-16 code units, as CompareStringOrdinal(…, bIgnoreCase TRUE) does (Rust's std sorts
 * its Windows environment the same way). `localeCompare` is wrong here: ICU puts '_' before letters,
 * Windows after them ('_' is U+005F, after 'Z').
 */
export function compareEnvironmentNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = upcaseUnit(a.charCodeAt(i)) - upcaseUnit(b.charCodeAt(i));
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** The block CreateProcessAsUserW takes with CREATE_UNICODE_ENVIRONMENT: `NAME=value\0…\0\0`, sorted. */
export function encodeEnvironmentBlock(vars: Map<string, string>): Buffer {
  const keys = [...vars.keys()].sort(compareEnvironmentNames);
  const text = keys.map((k) => `${k}=${vars.get(k) ?? ''}\0`).join('') + '\0';
  return Buffer.from(text, 'utf16le');
}

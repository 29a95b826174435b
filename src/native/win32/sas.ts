/**
 * sas.dll: SendSAS, the software Ctrl+Alt+Del. Windows honours it only from a process running as
 * LocalSystem (or a UIAccess app) and only when the SoftwareSASGeneration policy allows services
 * (1 or 3): `sasSupport()` checks both so the helper can say why it refuses, since SendSAS itself
 * returns nothing. sas.dll does not exist under Wine.
 */
import koffi from 'koffi';
import { openProcessToken, TOKEN_QUERY } from './token.js';
import { closeHandle } from './kernel32.js';
import { readDword, HKEY_LOCAL_MACHINE } from './registry.js';
import { tokenUserSid } from './security.js';
import { errorMessage } from '../../errors/error-text.js';

const POLICY_KEY = 'SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System';
const LOCAL_SYSTEM_SID = 'S-1-5-18';

let sendSas: ((asUser: number) => void) | undefined;

/** Loads sas.dll's SendSAS; throws when the DLL is missing. */
function sasFunction(): (asUser: number) => void {
  sendSas ??= koffi.load('sas.dll').func('void __stdcall SendSAS(BOOL AsUser)') as (asUser: number) => void;
  return sendSas;
}

export type SasSupport = { ok: true } | { ok: false; reason: string };

/** Whether SendSAS(FALSE) can work from this process, and if not, why. */
export function sasSupport(): SasSupport {
  if (process.platform !== 'win32') return { ok: false, reason: 'not Windows' };
  const token = openProcessToken(TOKEN_QUERY);
  let sid: string;
  try {
    sid = tokenUserSid(token);
  } finally {
    closeHandle(token);
  }
  if (sid !== LOCAL_SYSTEM_SID) return { ok: false, reason: `the helper runs as ${sid}, not LocalSystem` };
  const policy = readDword(HKEY_LOCAL_MACHINE, POLICY_KEY, 'SoftwareSASGeneration');
  if (policy !== 1 && policy !== 3)
    return {
      ok: false,
      reason: `policy SoftwareSASGeneration is ${policy ?? 'not set'} (1 or 3 lets services send Ctrl+Alt+Del)`,
    };
  try {
    sasFunction();
  } catch (err) {
    return { ok: false, reason: `sas.dll: ${errorMessage(err)}` };
  }
  return { ok: true };
}

/** SendSAS(FALSE): as a service. Call only after `sasSupport()` said ok. */
export function sendSecureAttention(): void {
  sasFunction()(0);
}

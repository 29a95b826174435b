/**
 * wtsapi32.dll: Remote Desktop Services sessions. Enumerating and querying sessions needs no privilege
 * beyond what the service has; WTSQueryUserToken needs SE_TCB_NAME, which only LocalSystem holds.
 */
import koffi from 'koffi';
import { lazyLibrary, readWideString, type Handle } from './library.js';
import { checkBool } from './last-error.js';
import { Win32Error } from './win32-error.js';

export const WTS_SESSION_INFOW = koffi.struct('WTS_SESSION_INFOW', {
  SessionId: 'DWORD',
  pWinStationName: 'LPWSTR',
  State: 'int', // WTS_CONNECTSTATE_CLASS
});

/** What SERVICE_CONTROL_SESSIONCHANGE points lpEventData at. */
export const WTSSESSION_NOTIFICATION = koffi.struct('WTSSESSION_NOTIFICATION', {
  cbSize: 'DWORD',
  dwSessionId: 'DWORD',
});

/** WTS_CONNECTSTATE_CLASS */
export const WTS_CONNECTSTATE = {
  Active: 0,
  Connected: 1,
  ConnectQuery: 2,
  Shadow: 3,
  Disconnected: 4,
  Idle: 5,
  Listen: 6,
  Reset: 7,
  Down: 8,
  Init: 9,
} as const;

/** WTS_INFO_CLASS values porthole asks for. */
export const WTSInfoClass = {
  WTSWinStationName: 6,
  WTSUserName: 5,
  WTSDomainName: 7,
  WTSConnectState: 8,
  WTSClientProtocolType: 16,
} as const;

/** WTSClientProtocolType values: the console, or RDP (1 is the legacy ICA). */
export const WTS_PROTOCOL_TYPE_CONSOLE = 0;
export const WTS_PROTOCOL_TYPE_RDP = 2;

export const WTS_CURRENT_SERVER_HANDLE: Handle = null;

/** MessageBox styles WTSSendMessageW takes (winuser.h). */
export const MB_YESNO = 0x4;
export const MB_ICONQUESTION = 0x20;
export const MB_DEFBUTTON2 = 0x100;
export const MB_SETFOREGROUND = 0x10000;
export const MB_TOPMOST = 0x40000;
/** What WTSSendMessageW's pResponse receives: the button pressed (winuser.h), or (wtsapi32.h) … */
export const IDOK = 1;
export const IDCANCEL = 2;
export const IDYES = 6;
export const IDNO = 7;
/** … the box timed out, */
export const IDTIMEOUT = 32000;
/** … or bWait was FALSE and the call did not wait. */
export const IDASYNC = 32001;

export const wtsapi32 = lazyLibrary('wtsapi32.dll', (lib) => ({
  WTSEnumerateSessionsW: lib.func(
    'BOOL __stdcall WTSEnumerateSessionsW(HANDLE hServer, DWORD Reserved, DWORD Version, _Out_ void **ppSessionInfo, _Out_ DWORD *pCount)',
  ),
  WTSQuerySessionInformationW: lib.func(
    'BOOL __stdcall WTSQuerySessionInformationW(HANDLE hServer, DWORD SessionId, int WTSInfoClass, _Out_ void **ppBuffer, _Out_ DWORD *pBytesReturned)',
  ),
  WTSFreeMemory: lib.func('void __stdcall WTSFreeMemory(void *pMemory)'),
  WTSQueryUserToken: lib.func('BOOL __stdcall WTSQueryUserToken(ULONG SessionId, _Out_ HANDLE *phToken)'),
  // Blocks its thread until the box is answered or times out (bWait TRUE): called through `.async`.
  WTSSendMessageW: lib.func(
    'BOOL __stdcall WTSSendMessageW(HANDLE hServer, DWORD SessionId, const char16_t *pTitle, DWORD TitleLength, const char16_t *pMessage, DWORD MessageLength, DWORD Style, DWORD Timeout, _Out_ DWORD *pResponse, BOOL bWait)',
  ),
}));

/**
 * Shows a message box in a session (any session: the service needs no window station of its own) and
 * waits up to `timeoutSeconds` for its answer on one of libuv's pool threads, never the main thread.
 * Resolves with the pResponse value (IDYES, IDNO, IDTIMEOUT, …). The lengths WTSSendMessageW takes
 * are in bytes. A failure's GetLastError belongs to the pool thread and is lost: the error names the
 * call only.
 */
export function sendMessageAsync(
  sessionId: number,
  title: string,
  message: string,
  style: number,
  timeoutSeconds: number,
): Promise<number> {
  const api = wtsapi32();
  const response = [0];
  return new Promise<number>((resolve, reject) => {
    api.WTSSendMessageW.async(
      WTS_CURRENT_SERVER_HANDLE,
      sessionId,
      title,
      Buffer.byteLength(title, 'utf16le'),
      message,
      Buffer.byteLength(message, 'utf16le'),
      style,
      timeoutSeconds,
      response,
      1,
      (err: unknown, ok: number) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else if (!ok) {
          // GetLastError here would read the main thread's, not the pool thread's that made the call.
          reject(
            new Win32Error('WTSSendMessageW', 0, {
              detail: 'returned FALSE; its last error stays on the pool thread',
            }),
          );
        } else resolve(response[0] as number);
      },
    );
  });
}

export interface WtsSessionEntry {
  sessionId: number;
  winStationName: string;
  /** A WTS_CONNECTSTATE value. */
  state: number;
}

/** Every session on this server (WTSEnumerateSessionsW). Wine returns an empty list. */
export function enumerateSessions(): WtsSessionEntry[] {
  const api = wtsapi32();
  const list: unknown[] = [null];
  const count = [0];
  checkBool('WTSEnumerateSessionsW', api.WTSEnumerateSessionsW(WTS_CURRENT_SERVER_HANDLE, 0, 1, list, count));
  try {
    const n = count[0] as number;
    if (n === 0) return [];
    const rows = koffi.decode(list[0], WTS_SESSION_INFOW, n) as {
      SessionId: number;
      pWinStationName: unknown;
      State: number;
    }[];
    return rows.map((r) => ({
      sessionId: r.SessionId,
      winStationName: readWideString(r.pWinStationName),
      state: r.State,
    }));
  } finally {
    api.WTSFreeMemory(list[0]);
  }
}

/**
 * One WTS_INFO_CLASS value of a session, as the raw buffer WTS returns (copied), through one helper
 * so the allocate/free dance lives in one place.
 */
export function querySessionBuffer(sessionId: number, infoClass: number): Buffer {
  const api = wtsapi32();
  const buf: unknown[] = [null];
  const bytes = [0];
  const ok = api.WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, sessionId, infoClass, buf, bytes);
  if (!ok) {
    const names = Object.entries(WTSInfoClass).find(([, v]) => v === infoClass)?.[0] ?? infoClass;
    checkBool(`WTSQuerySessionInformationW(${sessionId}, ${names})`, ok);
  }
  try {
    const n = bytes[0] as number;
    // Copied: the view aliases WTS memory, freed below.
    return n === 0 ? Buffer.alloc(0) : Buffer.from(new Uint8Array(koffi.view(buf[0], n)));
  } finally {
    api.WTSFreeMemory(buf[0]);
  }
}

/** A string-valued class (user, domain, station name) without its NUL terminator. */
export function querySessionString(sessionId: number, infoClass: number): string {
  const raw = querySessionBuffer(sessionId, infoClass);
  const text = raw.toString('utf16le');
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}

/** A DWORD- or USHORT-valued class (connect state, client protocol). */
export function querySessionNumber(sessionId: number, infoClass: number): number {
  const raw = querySessionBuffer(sessionId, infoClass);
  if (raw.length >= 4) return raw.readUInt32LE(0);
  if (raw.length >= 2) return raw.readUInt16LE(0);
  throw new Error(`WTSQuerySessionInformationW(${sessionId}, ${infoClass}) returned ${raw.length} bytes`);
}

/**
 * The primary token of the user logged on to a session (needs SE_TCB_NAME: LocalSystem only). The
 * caller owns the handle and must close it.
 */
export function queryUserToken(sessionId: number): Handle {
  const out: unknown[] = [null];
  checkBool(`WTSQueryUserToken(${sessionId})`, wtsapi32().WTSQueryUserToken(sessionId, out));
  return out[0];
}

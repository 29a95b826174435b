/**
 * advapi32.dll, the Windows Event Log: the service reports start, stop and failure there, where an
 * administrator looks first. RegisterEventSourceW needs no privilege; without a registered message
 * file the viewer shows the text as an insertion string, which is enough for these few events.
 */
import { lazyLibrary } from './library.js';
import { lastError } from './last-error.js';

export const EVENTLOG_ERROR_TYPE = 0x1;
export const EVENTLOG_WARNING_TYPE = 0x2;
export const EVENTLOG_INFORMATION_TYPE = 0x4;

export const advapi32EventLog = lazyLibrary('advapi32.dll', (lib) => ({
  RegisterEventSourceW: lib.func(
    'void * __stdcall RegisterEventSourceW(LPCWSTR lpUNCServerName, LPCWSTR lpSourceName)',
  ),
  ReportEventW: lib.func(
    'BOOL __stdcall ReportEventW(void *hEventLog, WORD wType, WORD wCategory, DWORD dwEventID, void *lpUserSid, WORD wNumStrings, DWORD dwDataSize, const char16_t **lpStrings, void *lpRawData)',
  ),
  DeregisterEventSource: lib.func('BOOL __stdcall DeregisterEventSource(void *hEventLog)'),
}));

/** Writes one event with `message` as its text under `source` (e.g. "porthole"). */
export function reportEvent(source: string, type: number, eventId: number, message: string): void {
  const api = advapi32EventLog();
  const h: unknown = api.RegisterEventSourceW(null, source);
  if (!h) throw lastError(`RegisterEventSourceW(${source})`);
  try {
    if (!api.ReportEventW(h, type, 0, eventId, null, 1, 0, [message], null)) throw lastError('ReportEventW');
  } finally {
    api.DeregisterEventSource(h);
  }
}

/**
 * The session's monitors on Windows (EnumDisplayMonitors + GetMonitorInfoW), in desktop coordinates,
 * the primary first, so index 0 is what a viewer wants by default.
 */
import koffi from 'koffi';
import type { Handle } from '../../native/win32/library.js';
import {
  MONITORINFOEXW,
  MONITORINFOF_PRIMARY,
  MonitorEnumProc,
  user32,
  type RectFields,
} from '../../native/win32/user32.js';
import { lastError } from '../../native/win32/last-error.js';
import type { DisplayInfo } from './capturer.js';

interface MonitorInfoFields {
  cbSize: number;
  rcMonitor: RectFields;
  rcWork: RectFields;
  dwFlags: number;
  szDevice: string;
}

export function listWin32Monitors(): DisplayInfo[] {
  const u = user32();
  const handles: Handle[] = [];
  // The callback runs synchronously inside EnumDisplayMonitors, on this thread.
  const cb = koffi.register((hMonitor: Handle): number => {
    handles.push(hMonitor);
    return 1;
  }, koffi.pointer(MonitorEnumProc));
  try {
    if (!u.EnumDisplayMonitors(null, null, cb, 0)) throw lastError('EnumDisplayMonitors');
  } finally {
    koffi.unregister(cb);
  }
  const found = handles.map((h) => {
    const info: MonitorInfoFields = {
      cbSize: koffi.sizeof(MONITORINFOEXW),
      rcMonitor: { left: 0, top: 0, right: 0, bottom: 0 },
      rcWork: { left: 0, top: 0, right: 0, bottom: 0 },
      dwFlags: 0,
      szDevice: '',
    };
    if (!u.GetMonitorInfoW(h, info)) throw lastError('GetMonitorInfoW');
    const r = info.rcMonitor;
    return {
      name: info.szDevice,
      x: r.left,
      y: r.top,
      width: r.right - r.left,
      height: r.bottom - r.top,
      primary: (info.dwFlags & MONITORINFOF_PRIMARY) !== 0,
    };
  });
  found.sort((a, b) => Number(b.primary) - Number(a.primary) || a.x - b.x || a.y - b.y);
  return found.map((m, index) => ({ index, ...m }));
}

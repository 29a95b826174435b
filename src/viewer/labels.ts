/** How devices, sessions and displays read in the pickers. DOM-free, tested with the other pure modules. */
import type { DisplayInfo } from '../protocol/common.js';
import type { Device, RemoteSession } from './api-client.js';

export function deviceLabel(d: Device): string {
  return d.online ? d.name : `${d.name} (offline)`;
}

/** "alice · active · console · helper up": who, what state, console or remote (RDP), and the helper. */
export function sessionLabel(s: RemoteSession): string {
  const who = s.username || 'no user (login screen)';
  const helper = s.helperConnected ? 'helper up' : `helper ${s.helperState || 'down'}`;
  return `#${s.sessionId} ${who} · ${s.state} · ${s.type} · ${helper}`;
}

export function displayLabel(d: DisplayInfo): string {
  return `${d.index + 1}: ${d.name || 'display'} ${d.width}×${d.height}${d.primary ? ' (primary)' : ''}`;
}

/** The session to select first: the console's active one, else any active one, else the first. */
export function defaultSession(sessions: RemoteSession[]): RemoteSession | undefined {
  return (
    sessions.find((s) => s.type === 'console' && s.state === 'active') ??
    sessions.find((s) => s.state === 'active') ??
    sessions[0]
  );
}

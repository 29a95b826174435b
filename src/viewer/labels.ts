/** How devices, sessions and displays read in the pickers. DOM-free, tested with the other pure modules. */
import type { DisplayInfo } from '../protocol/common.js';
import type { Device, RemoteSession } from './api-client.js';
import type { SessionLimitReason } from '../protocol/datachannel.js';

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

/** Why the machine's policy ends a desktop, as the viewer says it. */
export function sessionLimitLabel(reason: SessionLimitReason): string {
  return reason === 'max_length' ? 'the maximum session length was reached' : 'no input for too long';
}

/**
 * The notice for a `session_limit` message: the time left (rounded up to whole seconds, or minutes
 * from 2 minutes on), or that the session ends now. After an idle warning, the viewer's next input
 * brings the full idle time again: the notice then says how long the session may now stay idle.
 */
export function sessionLimitNotice(reason: SessionLimitReason, remainingMs: number): string {
  if (remainingMs === 0) return `Session ended by the remote machine: ${sessionLimitLabel(reason)}`;
  const left =
    remainingMs >= 120_000
      ? `${Math.ceil(remainingMs / 60_000)} minutes`
      : `${Math.ceil(remainingMs / 1000)} seconds`;
  return reason === 'max_length'
    ? `This session reaches its maximum length in ${left}`
    : `This session ends in ${left} without input`;
}

/** The audit line of an agent's reported event (consent, file transfer, session cut, chat). */
import type { AgentEventMessage } from '../protocol/audit-event.js';
import type { AuditEvent } from './audit-log.js';

/**
 * The audit line of an agent's event: metadata only, with the viewer the API itself remembers for that
 * desktop (null when it started before this API process did), never a name the agent supplied.
 */
export function desktopAuditLine(
  deviceId: string,
  remote: string,
  msg: AgentEventMessage,
  viewer: string | null,
): AuditEvent {
  const e = msg.event;
  const base = {
    viewer,
    device: deviceId,
    desktopSessionId: e.desktop,
    targetSessionId: msg.targetSessionId,
    remote,
  };
  switch (e.kind) {
    case 'file_transfer':
      return {
        ...base,
        action: 'file_transfer',
        ok: e.outcome === 'complete',
        ...(e.outcome !== 'complete' ? { code: e.outcome } : {}),
        direction: e.direction,
        file: e.name,
        size: e.size,
      };
    case 'consent':
      return { ...base, action: 'consent', ok: e.outcome === 'accepted', code: e.outcome };
    case 'session_cut':
      return { ...base, action: 'session_cut', ok: true, code: e.reason };
    case 'chat':
      return { ...base, action: 'chat', ok: true };
  }
}

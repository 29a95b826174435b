/**
 * The helper's end of the audit events (protocol/audit-event.ts): each event a desktop reports is
 * checked as the service will check it (a body the service refuses would close the whole channel) and
 * sent within this helper's budget; the service and the API limit again, trusting no one below them.
 */
import { errorMessage } from '../errors/error-text.js';
import type { Logger } from '../log/logger.js';
import { AuditEventBudget, desktopAuditEvent, type DesktopAuditEvent } from '../protocol/audit-event.js';
import type { HelperAudit } from '../protocol/ipc.js';

export function auditForwarder(
  send: (body: HelperAudit) => void,
  log: Pick<Logger, 'warn' | 'debug'>,
  now: () => number = Date.now,
): (event: DesktopAuditEvent) => void {
  const budget = new AuditEventBudget(now);
  return (event) => {
    try {
      desktopAuditEvent(event, 'event');
    } catch (err) {
      log.warn({ kind: event.kind, err: errorMessage(err) }, 'audit event not sent: invalid');
      return;
    }
    if (budget.admit()) send({ type: 'audit', event });
    else if (budget.droppedThisWindow === 1)
      log.warn({}, 'audit events over the budget: dropping the rest of this minute');
  };
}

/**
 * What HandlerEx answers the SCM, once its arguments are decoded. HandlerEx runs on the dispatcher's
 * thread (koffi brings it to the JS main thread while that thread waits) and "is intended to receive
 * notification and return immediately" (LPHANDLER_FUNCTION_EX remarks; the SCM gives up on a handler
 * after 30 s): so a session change is only queued here, and the WTS read and broker work it causes run
 * on the next turn of the event loop, after HandlerEx has returned.
 */
import {
  ERROR_CALL_NOT_IMPLEMENTED,
  NO_ERROR,
  SERVICE_CONTROL_INTERROGATE,
  SERVICE_CONTROL_SESSIONCHANGE,
  SERVICE_CONTROL_SHUTDOWN,
  SERVICE_CONTROL_STOP,
  WTS_SESSION_EVENT,
} from '../../native/win32/service-control.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../errors/error-text.js';

/** What a control acts on: the host's stop, and the hosted service's session-change notice. */
export interface ControlTarget {
  /** Starts stopping (returns at once; the work goes on in promises). */
  stop(reason: 'stop' | 'shutdown'): void;
  sessionChange?(kind: string, sessionId: number): void;
}

/** The WTS_SESSION_* name of a SERVICE_CONTROL_SESSIONCHANGE event type (`event_<n>` when unknown). */
export function sessionEventKind(eventType: number): string {
  return WTS_SESSION_EVENT[eventType as keyof typeof WTS_SESSION_EVENT] ?? `event_${eventType}`;
}

/**
 * The answer to one control. `sessionId` is WTSSESSION_NOTIFICATION.dwSessionId for a session change
 * (-1 without event data), decoded by the caller while lpEventData is still valid. `defer` runs the
 * session-change work later (setImmediate by default; a test may pass its own queue).
 */
export function answerServiceControl(
  control: number,
  eventType: number,
  sessionId: number,
  target: ControlTarget,
  opts: { log: Pick<Logger, 'info' | 'warn'>; defer?: (fn: () => void) => void },
): number {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN: {
      const reason = control === SERVICE_CONTROL_STOP ? 'stop' : 'shutdown';
      opts.log.info({ control: reason }, 'service control');
      target.stop(reason);
      return NO_ERROR;
    }
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    case SERVICE_CONTROL_SESSIONCHANGE: {
      const kind = sessionEventKind(eventType);
      const defer = opts.defer ?? ((fn: () => void) => void setImmediate(fn));
      defer(() => {
        try {
          target.sessionChange?.(kind, sessionId);
        } catch (err) {
          opts.log.warn({ err: errorMessage(err), kind, sessionId }, 'session change handler failed');
        }
      });
      return NO_ERROR;
    }
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

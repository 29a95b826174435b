import { describe, expect, test } from 'vitest';
import {
  ERROR_CALL_NOT_IMPLEMENTED,
  NO_ERROR,
  SERVICE_CONTROL_INTERROGATE,
  SERVICE_CONTROL_SESSIONCHANGE,
  SERVICE_CONTROL_SHUTDOWN,
  SERVICE_CONTROL_STOP,
} from '../../../src/native/win32/service-control.js';
import { answerServiceControl, sessionEventKind } from '../../../src/service/windows/service-controls.js';

const WTS_SESSION_LOGON = 5;
const SERVICE_CONTROL_PAUSE = 2;

function recorder() {
  const events: string[] = [];
  const lines: { level: string; obj: object; msg?: string }[] = [];
  return {
    events,
    lines,
    log: {
      info: (obj: object, msg?: string) => void lines.push({ level: 'info', obj, msg }),
      warn: (obj: object, msg?: string) => void lines.push({ level: 'warn', obj, msg }),
    },
    target: {
      stop: (reason: string) => void events.push(`stop:${reason}`),
      sessionChange: (kind: string, id: number) => void events.push(`session:${kind}:${id}`),
    },
  };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('HandlerEx answers (service-controls.ts)', () => {
  test('a session change returns NO_ERROR at once and is handed over on the next turn of the loop', async () => {
    const r = recorder();
    let slow = false;
    const target = {
      ...r.target,
      // WTS reads and broker work: whatever it costs, it must not run inside HandlerEx.
      sessionChange: (kind: string, id: number) => {
        slow = true;
        r.events.push(`session:${kind}:${id}`);
      },
    };
    const code = answerServiceControl(SERVICE_CONTROL_SESSIONCHANGE, WTS_SESSION_LOGON, 2, target, {
      log: r.log,
    });
    expect(code).toBe(NO_ERROR);
    expect(slow).toBe(false);
    expect(r.events).toEqual([]);
    await nextTurn();
    expect(r.events).toEqual(['session:logon:2']);
  });

  test('runs the deferred work through the queue it is given, in order', () => {
    const r = recorder();
    const queue: (() => void)[] = [];
    const defer = (fn: () => void) => void queue.push(fn);
    answerServiceControl(SERVICE_CONTROL_SESSIONCHANGE, 7, 3, r.target, { log: r.log, defer });
    answerServiceControl(SERVICE_CONTROL_SESSIONCHANGE, 8, 3, r.target, { log: r.log, defer });
    expect(r.events).toEqual([]);
    for (const fn of queue) fn();
    expect(r.events).toEqual(['session:lock:3', 'session:unlock:3']);
  });

  test('a session-change handler that throws is logged once and does not escape', async () => {
    const r = recorder();
    const target = {
      ...r.target,
      sessionChange: () => {
        throw new Error('WTSQuerySessionInformationW failed: 7022');
      },
    };
    expect(answerServiceControl(SERVICE_CONTROL_SESSIONCHANGE, 6, 4, target, { log: r.log })).toBe(NO_ERROR);
    await nextTurn();
    expect(r.lines).toEqual([
      {
        level: 'warn',
        obj: { err: 'WTSQuerySessionInformationW failed: 7022', kind: 'logoff', sessionId: 4 },
        msg: 'session change handler failed',
      },
    ]);
  });

  test('stop and shutdown start stopping and return NO_ERROR; interrogate is NO_ERROR; others are not implemented', () => {
    const r = recorder();
    expect(answerServiceControl(SERVICE_CONTROL_STOP, 0, -1, r.target, { log: r.log })).toBe(NO_ERROR);
    expect(answerServiceControl(SERVICE_CONTROL_SHUTDOWN, 0, -1, r.target, { log: r.log })).toBe(NO_ERROR);
    expect(answerServiceControl(SERVICE_CONTROL_INTERROGATE, 0, -1, r.target, { log: r.log })).toBe(NO_ERROR);
    expect(answerServiceControl(SERVICE_CONTROL_PAUSE, 0, -1, r.target, { log: r.log })).toBe(
      ERROR_CALL_NOT_IMPLEMENTED,
    );
    expect(r.events).toEqual(['stop:stop', 'stop:shutdown']);
  });

  test('names the WTS_SESSION_* event types', () => {
    expect(sessionEventKind(1)).toBe('console_connect');
    expect(sessionEventKind(5)).toBe('logon');
    expect(sessionEventKind(99)).toBe('event_99');
  });
});

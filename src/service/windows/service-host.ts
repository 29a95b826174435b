/**
 * Running under the Service Control Manager. StartServiceCtrlDispatcherW blocks its thread until the
 * service stops, so it is called through koffi's `.async` (a libuv pool thread); the SCM then calls
 * ServiceMain on a thread of its own and HandlerEx on the dispatcher's thread, and koffi runs both
 * registered callbacks on the JS main thread while those threads wait. Both therefore return at once
 * and leave the work to promises: the main thread must never block while the SCM may call back.
 *
 * Status: StartPending (checkpoints every second) → Running → StopPending (checkpoints) → Stopped.
 * A failure to start, an error while running or a failed stop ends in Stopped with
 * ERROR_SERVICE_SPECIFIC_ERROR and one of SERVICE_EXIT_CODES, which the SCM counts as a crash for the
 * failure actions (restart after 5 s).
 */
import koffi from 'koffi';
import type { Handle } from '../../native/win32/library.js';
import { isNullOrInvalid } from '../../native/win32/library.js';
import {
  advapi32Service,
  ERROR_SERVICE_SPECIFIC_ERROR,
  HandlerExProto,
  NO_ERROR,
  SERVICE_ACCEPT_SESSIONCHANGE,
  SERVICE_ACCEPT_SHUTDOWN,
  SERVICE_ACCEPT_STOP,
  SERVICE_CONTROL_SESSIONCHANGE,
  SERVICE_RUNNING,
  SERVICE_START_PENDING,
  SERVICE_STOP_PENDING,
  SERVICE_STOPPED,
  SERVICE_WIN32_OWN_PROCESS,
  ServiceMainProto,
} from '../../native/win32/service-control.js';
import { lastError } from '../../native/win32/last-error.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import { WTSSESSION_NOTIFICATION } from '../../native/win32/wtsapi32.js';
import type { Logger } from '../../log/logger.js';
import { answerServiceControl } from './service-controls.js';

/** dwServiceSpecificExitCode values: what went wrong, for `porthole service status` and the event log. */
export const SERVICE_EXIT_CODES = { startFailed: 1, crashed: 2, stopFailed: 3 } as const;

/** What the host runs: start resolves once the service works, stop once it has let go of everything. */
export interface HostedService {
  start(): Promise<void>;
  stop(reason: 'stop' | 'shutdown' | 'failure'): Promise<void>;
  /** A SERVICE_CONTROL_SESSIONCHANGE notice (kind from WTS_SESSION_EVENT). */
  sessionChange?(kind: string, sessionId: number): void;
}

export interface ServiceHostEvents {
  started?(): void;
  stopped?(): void;
  failed?(err: unknown, exitCode: number): void;
}

export interface ScmRunResult {
  /** 0 after a clean stop, otherwise the service-specific exit code. */
  exitCode: number;
}

const START_WAIT_HINT_MS = 30_000;
const STOP_WAIT_HINT_MS = 20_000;

export class ScmServiceHost {
  readonly #name: string;
  readonly #log: Logger;
  readonly #events: ServiceHostEvents;
  #status: Handle = null;
  #state = SERVICE_STOPPED;
  #checkPoint = 0;
  #pendingTimer: NodeJS.Timeout | null = null;
  #service: HostedService | null = null;
  #stopping: Promise<void> | null = null;
  #exitCode = 0;
  #running = false;

  constructor(opts: { name: string; log: Logger; events?: ServiceHostEvents }) {
    this.#name = opts.name;
    this.#log = opts.log;
    this.#events = opts.events ?? {};
  }

  /**
   * Connects to the SCM and runs `service` until it is stopped. Rejects with the dispatcher's
   * Win32Error when the process was not started by the SCM (1063, which Wine reports only after ~10 s:
   * callers decide from a flag, not from this failure, whether they run under the SCM).
   */
  async run(service: HostedService): Promise<ScmRunResult> {
    if (this.#service) throw new Error('service host already running');
    this.#service = service;
    const api = advapi32Service();
    const main = koffi.register(
      (_argc: number, _argv: unknown) => this.#serviceMain(),
      koffi.pointer(ServiceMainProto),
    );
    const handler = koffi.register(
      (control: number, eventType: number, eventData: unknown) => this.#handle(control, eventType, eventData),
      koffi.pointer(HandlerExProto),
    );
    this.#handlerPtr = handler;
    try {
      const table = [
        { lpServiceName: this.#name, lpServiceProc: main },
        { lpServiceName: null, lpServiceProc: null },
      ];
      await new Promise<void>((resolve, reject) => {
        api.StartServiceCtrlDispatcherW.async(table, (err: unknown, ok: number) => {
          if (err) reject(err as Error);
          else if (!ok) reject(lastError('StartServiceCtrlDispatcherW'));
          else resolve();
        });
      });
    } finally {
      this.#clearPendingTimer();
      koffi.unregister(main);
      koffi.unregister(handler);
    }
    return { exitCode: this.#exitCode };
  }

  /** Ends the service with a service-specific exit code (an uncaught error while running). */
  fail(err: unknown): void {
    if (this.#stopping) return;
    this.#log.error({ err: message(err) }, 'service failed');
    this.#stop('failure', SERVICE_EXIT_CODES.crashed, err);
  }

  #handlerPtr: unknown = null;

  #serviceMain(): void {
    const status: Handle = advapi32Service().RegisterServiceCtrlHandlerExW(
      this.#name,
      this.#handlerPtr,
      null,
    );
    if (isNullOrInvalid(status)) {
      // Without a status handle nothing can be reported and the dispatcher never returns: end the
      // process, which the SCM records as a failed start.
      this.#log.error({ err: lastError('RegisterServiceCtrlHandlerExW').message }, 'service start failed');
      setTimeout(() => process.exit(SERVICE_EXIT_CODES.startFailed), 500);
      return;
    }
    this.#status = status;
    this.#setPending(SERVICE_START_PENDING, START_WAIT_HINT_MS);
    this.#log.info({ name: this.#name }, 'service start pending');
    void this.#start();
  }

  async #start(): Promise<void> {
    try {
      await this.#service!.start();
    } catch (err) {
      this.#log.error({ err: message(err) }, 'service start failed');
      this.#stop('failure', SERVICE_EXIT_CODES.startFailed, err);
      return;
    }
    if (this.#stopping) return;
    this.#running = true;
    this.#report(SERVICE_RUNNING, 0);
    this.#log.info({ name: this.#name }, 'service running');
    this.#events.started?.();
  }

  /**
   * HandlerEx. Returns at once (service-controls.ts): a session change is decoded here, while
   * lpEventData is valid, and handed to the service on the next turn of the event loop.
   */
  #handle(control: number, eventType: number, eventData: unknown): number {
    let sessionId = -1;
    if (control === SERVICE_CONTROL_SESSIONCHANGE && eventData && koffi.address(eventData) !== 0n) {
      sessionId = (koffi.decode(eventData, WTSSESSION_NOTIFICATION) as { dwSessionId: number }).dwSessionId;
    }
    return answerServiceControl(
      control,
      eventType,
      sessionId,
      {
        stop: (reason) => this.#stop(reason, 0),
        sessionChange: (kind, id) => this.#service?.sessionChange?.(kind, id),
      },
      { log: this.#log },
    );
  }

  #stop(reason: 'stop' | 'shutdown' | 'failure', exitCode: number, cause?: unknown): void {
    if (this.#stopping) return;
    this.#exitCode = exitCode;
    this.#setPending(SERVICE_STOP_PENDING, STOP_WAIT_HINT_MS);
    const wasRunning = this.#running;
    this.#running = false;
    this.#stopping = (async () => {
      try {
        await this.#service!.stop(reason);
      } catch (err) {
        this.#log.error({ err: message(err) }, 'service stop failed');
        if (this.#exitCode === 0) this.#exitCode = SERVICE_EXIT_CODES.stopFailed;
        cause ??= err;
      }
      if (this.#exitCode !== 0) this.#events.failed?.(cause, this.#exitCode);
      else if (wasRunning || reason !== 'failure') this.#events.stopped?.();
      this.#log.info({ exitCode: this.#exitCode }, 'service stopped');
      // The last status: after Stopped the dispatcher returns and `run` resolves.
      this.#report(SERVICE_STOPPED, 0);
    })();
  }

  #setPending(state: number, waitHintMs: number): void {
    this.#checkPoint = 0;
    this.#report(state, waitHintMs);
    this.#clearPendingTimer();
    this.#pendingTimer = setInterval(() => this.#report(state, waitHintMs), 1000);
  }

  #clearPendingTimer(): void {
    if (this.#pendingTimer) clearInterval(this.#pendingTimer);
    this.#pendingTimer = null;
  }

  #report(state: number, waitHintMs: number): void {
    if (state !== SERVICE_START_PENDING && state !== SERVICE_STOP_PENDING) this.#clearPendingTimer();
    if (!this.#status) return;
    this.#state = state;
    const pending = state === SERVICE_START_PENDING || state === SERVICE_STOP_PENDING;
    const status = {
      dwServiceType: SERVICE_WIN32_OWN_PROCESS,
      dwCurrentState: state,
      dwControlsAccepted:
        state === SERVICE_RUNNING
          ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_SESSIONCHANGE
          : 0,
      dwWin32ExitCode: this.#exitCode === 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR,
      dwServiceSpecificExitCode: this.#exitCode,
      dwCheckPoint: pending ? ++this.#checkPoint : 0,
      dwWaitHint: pending ? waitHintMs : 0,
    };
    if (!advapi32Service().SetServiceStatus(this.#status, status)) {
      this.#log.warn({ err: lastError('SetServiceStatus').message, state }, 'service status not reported');
    }
  }

  /** The state last reported to the SCM (SERVICE_* constants). */
  get state(): number {
    return this.#state;
  }
}

function message(err: unknown): string {
  if (err instanceof Win32Error || err instanceof Error) return err.message;
  return String(err);
}

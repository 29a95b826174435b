import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import koffi from 'koffi';
import type { Logger } from '../../log/logger.js';
import {
  assignProcessToJob,
  checkHandle,
  closeHandle,
  createKillOnCloseJob,
  FILE_SHARE_READ,
  FILE_SHARE_WRITE,
  FILE_APPEND_DATA,
  GENERIC_WRITE,
  HANDLE_FLAG_INHERIT,
  kernel32,
  OPEN_ALWAYS,
  OPEN_EXISTING,
  FILE_ATTRIBUTE_NORMAL,
  SECURITY_ATTRIBUTES,
} from '../../native/win32/kernel32.js';
import type { Handle } from '../../native/win32/library.js';
import { tokenUserSid } from '../../native/win32/security.js';
import {
  advapi32Token,
  CREATE_NO_WINDOW,
  CREATE_SUSPENDED,
  CREATE_UNICODE_ENVIRONMENT,
  duplicatePrimaryToken,
  openProcessToken,
  ownUserSid,
  setTokenSessionId,
  STARTF_USESHOWWINDOW,
  STARTF_USESTDHANDLES,
  SW_HIDE,
  TOKEN_ADJUST_DEFAULT,
  TOKEN_ADJUST_SESSIONID,
  TOKEN_ASSIGN_PRIMARY,
  TOKEN_DUPLICATE,
  TOKEN_QUERY,
} from '../../native/win32/token.js';
import { environmentBlockFor } from '../../native/win32/userenv.js';
import { checkBool, lastError } from '../../native/win32/last-error.js';
import { queryUserToken } from '../../native/win32/wtsapi32.js';
import { errorMessage } from '../../errors/error-text.js';
import { windowsCommandLine } from '../windows/command-line.js';
import { EventWaiter } from '../../native/win32/event-waiter.js';
import { BrokerPipe, SDDL_SYSTEM_ONLY, sddlSystemAndUser } from '../windows/pipe-server.js';
import type { HelperExit, HelperSpawner, SpawnRequest, SpawnedHelper } from './helper-spawner.js';
import { HelperJobs, type JobObjectApi } from './helper-jobs.js';

/**
 * Whose token the helper runs with:
 * - `system`: the service's own (LocalSystem) token moved into the session. The helper can capture
 *   the secure desktop (UAC prompts, the login screen) and inject input there.
 * - `user`: the session user's token (WTSQueryUserToken). The helper has the user's rights only, so a
 *   compromised helper is no worse than the user; it cannot see the login screen or UAC prompts.
 */
export type Win32TokenMode = 'system' | 'user';

export interface Win32SpawnerOptions {
  /** argv that starts porthole (the helper sub-command is appended), e.g. [node.exe, bin\porthole.js]. */
  command: string[];
  helperArgs?: string[];
  tokenMode?: Win32TokenMode;
  /** Extra environment for helpers; never secrets. */
  env?: Record<string, string>;
  /** Folder for each helper's stdout/stderr (`helper-<session>.log`); without it they go to NUL. */
  logDir?: string;
  /** How long a spawned helper has to connect to its pipe. Default 15 s. */
  connectTimeoutMs?: number;
  log: Logger;
}

/** The window station and desktop a helper must use to see (and drive) the user's desktop. */
export const HELPER_DESKTOP = 'winsta0\\default';

/** ResumeThread's failure value, (DWORD)-1 (ResumeThread docs; the SDK gives it no name). */
const RESUME_THREAD_FAILED = 0xffff_ffff;

/** The real job-object calls behind HelperJobs. */
const win32Jobs: JobObjectApi<Handle, Handle> = {
  create: createKillOnCloseJob,
  assign: assignProcessToJob,
  close: closeHandle,
};

/**
 * Windows spawner. Each helper gets its own pipe (created before the process, so it can connect at
 * once), a primary token for its session, the token user's environment, a hidden window, its secret
 * on an inherited stdin pipe, and a kill-on-close job of its own (helper-jobs.ts: a job cannot hold
 * processes of two sessions): when the service process ends for any reason, Windows closes the job
 * handles and kills every helper with them.
 */
export class Win32HelperSpawner implements HelperSpawner {
  readonly #opts: Win32SpawnerOptions;
  readonly #waiter = new EventWaiter();
  /** One job per running helper, by pid; exposed so a test can look into each job. */
  readonly jobs = new HelperJobs(win32Jobs);
  /** This process's account: the helper checks that the pipe's server runs as it (service-pipe.ts). */
  #ownSid: string | undefined;

  constructor(opts: Win32SpawnerOptions) {
    this.#opts = opts;
  }

  async spawn(req: SpawnRequest): Promise<SpawnedHelper> {
    const sessionId = req.session.sessionId;
    const mode = this.#opts.tokenMode ?? 'system';
    const log = this.#opts.log.child({ sessionId });
    const token = this.#sessionToken(sessionId, mode);
    let pipe: BrokerPipe | undefined;
    let proc: { process: Handle; pid: number };
    try {
      const sddl = mode === 'user' ? sddlSystemAndUser(tokenUserSid(token)) : SDDL_SYSTEM_ONLY;
      pipe = new BrokerPipe(`\\\\.\\pipe\\porthole-helper-${randomBytes(12).toString('hex')}`, sddl);
      const argv = [
        ...this.#opts.command,
        'helper',
        '--session',
        String(sessionId),
        '--helper-id',
        req.helperId,
        '--pipe',
        pipe.name,
        '--service-pid',
        String(process.pid),
        '--service-sid',
        this.#serviceSid(),
        ...(this.#opts.helperArgs ?? []),
      ];
      proc = this.#createProcess(token, argv, req.secret, sessionId);
    } catch (err) {
      pipe?.close();
      throw err;
    } finally {
      closeHandle(token);
    }
    log.info({ pid: proc.pid, mode, pipe: pipe.name }, 'helper spawned');

    const exited = new Promise<HelperExit>((resolve) => {
      this.#waiter.wait(proc.process, () => {
        const code = [0];
        const ok = kernel32().GetExitCodeProcess(proc.process, code);
        // Its job goes first (ending anything the helper left in it), while the process handle still
        // keeps the pid from being reused.
        try {
          this.jobs.release(proc.pid);
        } catch (err) {
          log.warn({ pid: proc.pid, err: errorMessage(err) }, 'helper job not closed');
        }
        closeHandle(proc.process);
        resolve({ code: ok ? (code[0] as number) : null, signal: null });
      });
    });
    let running = true;
    void exited.then(() => {
      running = false;
      pipe.close(); // no-op once a stream owns the instance
    });
    const channel = pipe.accept(
      this.#waiter,
      { pid: proc.pid, sessionId },
      {
        timeoutMs: this.#opts.connectTimeoutMs ?? 15_000,
        onRejected: (why, pid) => log.warn({ clientPid: pid, why }, 'pipe client refused'),
      },
    );
    return {
      pid: proc.pid,
      channel,
      exited,
      // No signals on Windows: the supervisor sends `shutdown` over the channel first; this is the end.
      kill: () => {
        if (running) kernel32().TerminateProcess(proc.process, 1);
      },
    };
  }

  /** Stops waiting and closes every helper's job, which kills the helpers still running. */
  close(): void {
    this.#waiter.close();
    this.jobs.closeAll();
  }

  #serviceSid(): string {
    this.#ownSid ??= ownUserSid();
    return this.#ownSid;
  }

  /** A primary token for `sessionId`. Both modes need SE_TCB_NAME, i.e. LocalSystem. */
  #sessionToken(sessionId: number, mode: Win32TokenMode): Handle {
    if (mode === 'user') return queryUserToken(sessionId);
    const own = openProcessToken(
      TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ASSIGN_PRIMARY | TOKEN_ADJUST_DEFAULT | TOKEN_ADJUST_SESSIONID,
    );
    try {
      const dup = duplicatePrimaryToken(own);
      try {
        setTokenSessionId(dup, sessionId);
      } catch (err) {
        closeHandle(dup);
        throw err;
      }
      return dup;
    } finally {
      closeHandle(own);
    }
  }

  #createProcess(
    token: Handle,
    argv: string[],
    secret: Buffer,
    sessionId: number,
  ): { process: Handle; pid: number } {
    const k = kernel32();
    const inheritable = {
      nLength: koffi.sizeof(SECURITY_ATTRIBUTES),
      lpSecurityDescriptor: null,
      bInheritHandle: 1,
    };
    const stdinRead: unknown[] = [null];
    const stdinWrite: unknown[] = [null];
    checkBool('CreatePipe(stdin)', k.CreatePipe(stdinRead, stdinWrite, inheritable, 0));
    let output: Handle = null;
    let thread: Handle = null;
    try {
      // The service's end must not leak into the helper.
      checkBool('SetHandleInformation', k.SetHandleInformation(stdinWrite[0], HANDLE_FLAG_INHERIT, 0));
      output = this.#openOutput(sessionId, inheritable);
      const env = environmentBlockFor(token, { ...passThroughEnv(), ...this.#opts.env });
      const startup = {
        cb: koffi.sizeof('STARTUPINFOW'),
        lpDesktop: HELPER_DESKTOP,
        dwFlags: STARTF_USESTDHANDLES | STARTF_USESHOWWINDOW,
        wShowWindow: SW_HIDE,
        hStdInput: stdinRead[0],
        hStdOutput: output,
        hStdError: output,
      };
      const info: Record<string, unknown> = {};
      const [app] = argv;
      // Suspended until it is in its job, so not even a first instruction runs outside it.
      const ok = advapi32Token().CreateProcessAsUserW(
        token,
        app,
        windowsCommandLine(argv),
        null,
        null,
        1,
        CREATE_UNICODE_ENVIRONMENT | CREATE_NO_WINDOW | CREATE_SUSPENDED,
        env,
        null,
        startup,
        info,
      );
      if (!ok) throw lastError('CreateProcessAsUserW', app);
      thread = info.hThread;
      const processHandle = info.hProcess;
      const pid = info.dwProcessId as number;
      const line = Buffer.from(`${secret.toString('hex')}\n`);
      try {
        this.jobs.adopt(pid, processHandle);
        if ((k.ResumeThread(thread) as number) === RESUME_THREAD_FAILED) throw lastError('ResumeThread');
        checkBool('WriteFile(helper stdin)', k.WriteFile(stdinWrite[0], line, line.length, [0], null));
      } catch (err) {
        // Nobody will wait for this process: end it and give its job back now.
        k.TerminateProcess(processHandle, 1);
        this.jobs.release(pid);
        closeHandle(processHandle);
        throw err;
      } finally {
        line.fill(0);
      }
      return { process: processHandle, pid };
    } finally {
      closeHandle(thread);
      closeHandle(output);
      closeHandle(stdinRead[0]);
      closeHandle(stdinWrite[0]); // the helper reads EOF after the secret
    }
  }

  /** The helper's stdout/stderr: an inheritable append handle to its log file, or NUL. */
  #openOutput(sessionId: number, inheritable: object): Handle {
    const file = this.#opts.logDir ? join(this.#opts.logDir, `helper-${sessionId}.log`) : 'NUL';
    const h: Handle = kernel32().CreateFileW(
      file,
      this.#opts.logDir ? FILE_APPEND_DATA : GENERIC_WRITE,
      FILE_SHARE_READ | FILE_SHARE_WRITE,
      inheritable,
      this.#opts.logDir ? OPEN_ALWAYS : OPEN_EXISTING,
      FILE_ATTRIBUTE_NORMAL,
      null,
    );
    return checkHandle(`CreateFileW(${file})`, h);
  }
}

/** Variables a helper needs from the service's environment (binary overrides, Node flags). */
function passThroughEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && (k.startsWith('PORTHOLE_') || k === 'NODE_OPTIONS')) out[k] = v;
  }
  return out;
}

/**
 * One job object per helper, for the Windows spawner. A job takes the session of the first process
 * assigned to it, and every later process must run in that session (CreateJobObject remarks: "All
 * processes associated with a job must run in the same session"), so one job shared by all helpers
 * refused the helper of any second session. Each helper gets a kill-on-close job of its own instead,
 * created when the (still suspended) helper process exists and closed when the helper has exited: the
 * close ends whatever the helper left running in it, and a service that dies closes every job handle
 * it held, which kills every helper (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE).
 *
 * The Win32 calls come in as `JobObjectApi`, so this bookkeeping is tested on Linux with a fake and the
 * real calls run under Wine (test/win32/spawn.test.ts).
 */

/** The job-object calls the bookkeeping makes; `J` is a job handle, `P` a process handle. */
export interface JobObjectApi<J, P> {
  /** A new, empty kill-on-close job (CreateJobObjectW + SetInformationJobObject). */
  create(): J;
  /** AssignProcessToJobObject. */
  assign(job: J, process: P): void;
  /** CloseHandle of the job: with kill-on-close, ends the processes still in it. */
  close(job: J): void;
}

export class HelperJobs<J, P> {
  readonly #api: JobObjectApi<J, P>;
  readonly #byPid = new Map<number, J>();

  constructor(api: JobObjectApi<J, P>) {
    this.#api = api;
  }

  /**
   * Puts the helper process `pid` (created suspended) into a new job of its own and keeps that job
   * until `release(pid)`. When the job cannot be made or the process not assigned, the new job is
   * closed and the error thrown: the caller ends the process, which never ran outside a job.
   */
  adopt(pid: number, process: P): J {
    if (this.#byPid.has(pid)) throw new Error(`helper ${pid} already has a job`);
    const job = this.#api.create();
    try {
      this.#api.assign(job, process);
    } catch (err) {
      this.#api.close(job);
      throw err;
    }
    this.#byPid.set(pid, job);
    return job;
  }

  /** Closes the job of a helper that has exited. A pid without a job (already released) is ignored. */
  release(pid: number): void {
    const job = this.#byPid.get(pid);
    if (job === undefined) return;
    this.#byPid.delete(pid);
    this.#api.close(job);
  }

  /** Closes every job still held, which kills the helpers in them (the spawner is closing). */
  closeAll(): void {
    let first: unknown;
    for (const pid of [...this.#byPid.keys()]) {
      try {
        this.release(pid);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }

  /** The job of a helper, while it is held. */
  jobOf(pid: number): J | undefined {
    return this.#byPid.get(pid);
  }

  /** How many jobs are held (one per helper that has not been released). */
  get size(): number {
    return this.#byPid.size;
  }
}

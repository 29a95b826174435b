import { describe, expect, test } from 'vitest';
import { HelperJobs, type JobObjectApi } from '../../../src/service/spawn/helper-jobs.js';

/**
 * A job-object API that keeps what Windows would: which processes each job holds and which jobs are
 * open. `sessionOf` gives each fake process its session, and assigning a process of another session
 * to a job that already has one fails as AssignProcessToJobObject does on Windows (ERROR_ACCESS_DENIED;
 * "All processes associated with a job must run in the same session").
 */
function fakeJobs(opts: { failCreate?: boolean; failAssign?: boolean } = {}) {
  interface Job {
    id: number;
    processes: string[];
    session?: number;
    open: boolean;
  }
  const jobs: Job[] = [];
  const sessionOf = (process: string): number => Number(process.split('@')[1]);
  const api: JobObjectApi<Job, string> = {
    create() {
      if (opts.failCreate) throw new Error('CreateJobObjectW failed: 8');
      const job = { id: jobs.length + 1, processes: [], open: true };
      jobs.push(job);
      return job;
    },
    assign(job, process) {
      if (!job.open) throw new Error('AssignProcessToJobObject failed: 6 ERROR_INVALID_HANDLE');
      if (opts.failAssign) throw new Error('AssignProcessToJobObject failed: 5 ERROR_ACCESS_DENIED');
      if (job.session !== undefined && job.session !== sessionOf(process))
        throw new Error('AssignProcessToJobObject failed: 5 ERROR_ACCESS_DENIED');
      job.session = sessionOf(process);
      job.processes.push(process);
    },
    close(job) {
      if (!job.open) throw new Error('CloseHandle failed: 6 ERROR_INVALID_HANDLE');
      job.open = false;
    },
  };
  return { api, jobs, open: () => jobs.filter((j) => j.open) };
}

describe('HelperJobs: one job per helper', () => {
  test('helpers of two sessions each get a job of their own, holding only that helper', () => {
    const f = fakeJobs();
    const jobs = new HelperJobs(f.api);
    const a = jobs.adopt(101, 'helper@1');
    const b = jobs.adopt(202, 'helper@2'); // with one shared job this is where Windows refused
    expect(a).not.toBe(b);
    expect(a.processes).toEqual(['helper@1']);
    expect(b.processes).toEqual(['helper@2']);
    expect(jobs.jobOf(101)).toBe(a);
    expect(jobs.jobOf(202)).toBe(b);
    expect(jobs.size).toBe(2);
  });

  test('a second helper of the same session gets a new job too, after the first has exited', () => {
    const f = fakeJobs();
    const jobs = new HelperJobs(f.api);
    const first = jobs.adopt(101, 'helper@1');
    jobs.release(101);
    const second = jobs.adopt(102, 'helper@1');
    expect(second).not.toBe(first);
    expect(f.open()).toEqual([second]);
  });

  test("a helper's exit closes exactly its job, once", () => {
    const f = fakeJobs();
    const jobs = new HelperJobs(f.api);
    const a = jobs.adopt(101, 'helper@1');
    const b = jobs.adopt(202, 'helper@2');
    jobs.release(101);
    expect(a.open).toBe(false);
    expect(b.open).toBe(true);
    expect(jobs.jobOf(101)).toBeUndefined();
    jobs.release(101); // a second exit report, or a release after a failed spawn: nothing to close
    expect(f.jobs.filter((j) => !j.open)).toEqual([a]);
    expect(jobs.size).toBe(1);
  });

  test('a job that cannot take the process is closed and the error passed on; nothing is kept', () => {
    const f = fakeJobs({ failAssign: true });
    const jobs = new HelperJobs(f.api);
    expect(() => jobs.adopt(101, 'helper@1')).toThrow(/ERROR_ACCESS_DENIED/);
    expect(f.jobs).toHaveLength(1);
    expect(f.open()).toEqual([]);
    expect(jobs.size).toBe(0);
  });

  test('a job that cannot be created leaves nothing behind', () => {
    const f = fakeJobs({ failCreate: true });
    const jobs = new HelperJobs(f.api);
    expect(() => jobs.adopt(101, 'helper@1')).toThrow(/CreateJobObjectW/);
    expect(jobs.size).toBe(0);
  });

  test('the same pid cannot hold two jobs', () => {
    const f = fakeJobs();
    const jobs = new HelperJobs(f.api);
    jobs.adopt(101, 'helper@1');
    expect(() => jobs.adopt(101, 'helper@1')).toThrow(/already has a job/);
    expect(f.jobs).toHaveLength(1);
  });

  test('closeAll closes every job still held (the spawner closing kills its helpers), and goes on past a failure', () => {
    const f = fakeJobs();
    const jobs = new HelperJobs(f.api);
    const a = jobs.adopt(101, 'helper@1');
    jobs.adopt(202, 'helper@2');
    jobs.adopt(303, 'helper@3');
    a.open = false; // its handle went bad: closing it fails
    expect(() => jobs.closeAll()).toThrow(/ERROR_INVALID_HANDLE/);
    expect(f.open()).toEqual([]);
    expect(jobs.size).toBe(0);
    jobs.closeAll();
  });
});

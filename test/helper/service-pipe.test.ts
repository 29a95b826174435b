/**
 * The helper's check of who serves its broker pipe, and its opening of the pipe, against a fake
 * Win32 side and a fake clock. The real calls (CreateFileW with SECURITY_IDENTIFICATION,
 * GetNamedPipeServerProcessId, the server's token) run under Wine: test/win32/pipe-client.test.ts.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  connectServicePipe,
  pipeServerProblem,
  type FoundPipeServer,
  type PipeClientApi,
} from '../../src/helper/service-pipe.js';
import { Win32Error } from '../../src/native/win32/win32-error.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const SYSTEM = 'S-1-5-18';
const USER = 'S-1-5-21-1-2-3-1001';
const service = { pid: 800, sid: SYSTEM };
const readable = (sid: string): FoundPipeServer['sid'] => ({ ok: true, value: sid });
const denied: FoundPipeServer['sid'] = {
  ok: false,
  error: 'OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION) failed: 5 ERROR_ACCESS_DENIED',
  accessDenied: true,
};

describe('pipeServerProblem', () => {
  it('accepts the service’s pid running as the service’s account', () => {
    expect(
      pipeServerProblem({ pid: 800, sid: readable(SYSTEM) }, service, { requireSid: true }),
    ).toBeUndefined();
  });

  it('refuses another process, whatever it runs as', () => {
    expect(pipeServerProblem({ pid: 801, sid: readable(SYSTEM) }, service, { requireSid: false })).toBe(
      'the pipe is served by pid 801, not by the service (pid 800)',
    );
  });

  it('refuses the right pid running as another account (a reused pid)', () => {
    expect(pipeServerProblem({ pid: 800, sid: readable(USER) }, service, { requireSid: false })).toBe(
      `the pipe's server runs as ${USER}, not as the service's account ${SYSTEM}`,
    );
  });

  it('system token mode: an account it cannot read is a refusal', () => {
    expect(pipeServerProblem({ pid: 800, sid: denied }, service, { requireSid: true })).toMatch(
      /^cannot read the account of the pipe's server \(pid 800\): OpenProcess/,
    );
  });

  it('user token mode: a LocalSystem service it may not look at is identified by its pid alone', () => {
    expect(pipeServerProblem({ pid: 800, sid: denied }, service, { requireSid: false })).toBeUndefined();
    const gone = { ok: false as const, error: 'OpenProcess failed: 87', accessDenied: false };
    expect(pipeServerProblem({ pid: 800, sid: gone }, service, { requireSid: false })).toMatch(
      /^cannot read/,
    );
  });
});

/** A Win32 side whose answers the test sets, counting opens and closes. */
function fakeApi(opts: {
  openErrors?: number[];
  serverPid?: number;
  serverSid?: string | number;
  ownSid?: string;
}) {
  const errors = [...(opts.openErrors ?? [])];
  const state = { opens: 0, closed: [] as number[], streams: 0 };
  const api: PipeClientApi<number> = {
    open: (name) => {
      state.opens++;
      const code = errors.shift();
      if (code !== undefined) throw new Win32Error('CreateFileW(pipe client)', code, { detail: name });
      return state.opens;
    },
    serverPid: () => opts.serverPid ?? 800,
    userSid: () => {
      if (typeof opts.serverSid === 'number') throw new Win32Error('OpenProcess', opts.serverSid);
      return opts.serverSid ?? SYSTEM;
    },
    ownSid: () => opts.ownSid ?? SYSTEM,
    close: (h) => void state.closed.push(h),
    stream: () => (state.streams++, new PassThrough()),
  };
  return { api, state };
}

const silent = { info: () => {}, warn: () => {} };
const pipe = '\\\\.\\pipe\\porthole-helper-test';

describe('connectServicePipe', () => {
  it('opens the pipe, checks its server, and hands the handle to a stream', async () => {
    const { api, state } = fakeApi({});
    const stream = await connectServicePipe({ name: pipe, expected: service, api, log: silent });
    expect(stream).toBeInstanceOf(PassThrough);
    expect(state).toEqual({ opens: 1, closed: [], streams: 1 });
  });

  it('tries again while the pipe is busy or not there yet, until it opens', async () => {
    const clock = new FakeClock();
    const { api, state } = fakeApi({ openErrors: [231, 2, 231] });
    const connected = connectServicePipe({ name: pipe, expected: service, api, log: silent, timers: clock });
    await clock.advance(150);
    await expect(connected).resolves.toBeInstanceOf(PassThrough);
    expect(state.opens).toBe(4);
  });

  it('gives up at the deadline, and at once on any other error', async () => {
    const clock = new FakeClock();
    const busy = fakeApi({ openErrors: Array(1000).fill(231) });
    const late = connectServicePipe({
      name: pipe,
      expected: service,
      api: busy.api,
      log: silent,
      timers: clock,
      timeoutMs: 1000,
    });
    const seen = late.catch((e: unknown) => e);
    await clock.advance(1100);
    expect(await seen).toMatchObject({
      code: 'pipe_unavailable',
      message: expect.stringContaining('231 ERROR_PIPE_BUSY'),
    });
    const denied5 = fakeApi({ openErrors: [5] });
    await expect(
      connectServicePipe({ name: pipe, expected: service, api: denied5.api, log: silent }),
    ).rejects.toMatchObject({
      code: 'pipe_unavailable',
      message: expect.stringContaining('5 ERROR_ACCESS_DENIED'),
    });
    expect(denied5.state.opens).toBe(1);
  });

  it('closes the handle of a server that is not the service, and says why, without a retry', async () => {
    const { api, state } = fakeApi({ serverPid: 4242 });
    const warned: object[] = [];
    await expect(
      connectServicePipe({
        name: pipe,
        expected: service,
        api,
        log: { info: () => {}, warn: (o) => void warned.push(o) },
      }),
    ).rejects.toMatchObject({
      name: 'ServicePipeError',
      code: 'pipe_server_refused',
      message: 'the pipe is served by pid 4242, not by the service (pid 800)',
    });
    expect(state).toEqual({ opens: 1, closed: [1], streams: 0 });
    expect(warned).toEqual([
      { pipe, problem: 'the pipe is served by pid 4242, not by the service (pid 800)' },
    ]);
  });

  it('as a user (user token mode), accepts the service’s pid whose account it may not read, and says so', async () => {
    const { api } = fakeApi({ serverSid: 5, ownSid: USER });
    const infos: object[] = [];
    await connectServicePipe({
      name: pipe,
      expected: service,
      api,
      log: { info: (o) => void infos.push(o), warn: () => {} },
    });
    expect(infos).toEqual([{ serverPid: 800, reason: 'OpenProcess failed: 5 ERROR_ACCESS_DENIED' }]);
  });

  it('as the service’s own account (system token mode), refuses a server whose account it cannot read', async () => {
    const { api, state } = fakeApi({ serverSid: 5, ownSid: SYSTEM });
    await expect(
      connectServicePipe({ name: pipe, expected: service, api, log: silent }),
    ).rejects.toMatchObject({
      code: 'pipe_server_refused',
    });
    expect(state.closed).toEqual([1]);
  });
});

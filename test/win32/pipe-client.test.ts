/**
 * The helper's own pipe client under Wine: CreateFileW with SECURITY_SQOS_PRESENT |
 * SECURITY_IDENTIFICATION, the server's pid and account, the refusal of a server that is not the
 * expected process, and the HMAC handshake over the resulting PipeStream. A pipe created by this test
 * process plays the service. What Wine does not do: honour the impersonation level (see below).
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import { connectServicePipe, win32PipeClientApi } from '../../src/helper/service-pipe.js';
import { acceptHelperChannel, connectHelperChannel } from '../../src/ipc/inherited.js';
import { silentLogger } from '../../src/log/logger.js';
import { EventWaiter } from '../../src/native/win32/event-waiter.js';
import { closeHandle } from '../../src/native/win32/kernel32.js';
import {
  openPipeClient,
  pipeClientImpersonationLevel,
  pipeServerProcessId,
  processUserSid,
} from '../../src/native/win32/pipe-client.js';
import { ownUserSid, SecurityImpersonation, threadImpersonation } from '../../src/native/win32/token.js';
import { BrokerPipe, SDDL_SYSTEM_ONLY } from '../../src/service/windows/pipe-server.js';

const waiter = new EventWaiter();
afterAll(() => waiter.close());

const pipeName = (): string => `\\\\.\\pipe\\porthole-client-test-${randomBytes(6).toString('hex')}`;
const me = () => ({ pid: process.pid, sid: ownUserSid() });

describe('the helper’s pipe client', () => {
  test('opens the pipe with its own CreateFileW and reads the server’s pid and account', () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    const client = openPipeClient(name);
    try {
      expect(pipeServerProcessId(client)).toBe(process.pid);
      expect(processUserSid(process.pid)).toBe(ownUserSid());
      expect(ownUserSid()).toMatch(/^S-1-5-21-/); // Wine runs everything as one ordinary user
    } finally {
      closeHandle(client);
      pipe.close();
    }
  });

  test('passes the server check of the expected process, and the handshake and frames run over it', async () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    const accepted = pipe.accept(waiter, { pid: process.pid }, { timeoutMs: 20_000 });
    const helperEnd = await connectServicePipe({
      name,
      expected: me(),
      api: win32PipeClientApi(waiter),
      log: silentLogger,
    });
    const serviceEnd = await accepted;
    const secret = randomBytes(32);
    const options = { helperId: 'h1', secret, validate: (v: unknown) => v as { type: string; n?: number } };
    const [service, helper] = await Promise.all([
      acceptHelperChannel(serviceEnd, options),
      connectHelperChannel(helperEnd, options),
    ]);
    try {
      service.onRequest((body) => ({ type: 'echo', n: (body.n ?? 0) + 1 }));
      // 200 KiB of payload each way: several overlapped reads and writes on both PipeStreams.
      const big = 'x'.repeat(200 * 1024);
      await expect(helper.request({ type: 'ask', n: 41, big } as never)).resolves.toEqual({
        type: 'echo',
        n: 42,
      });
    } finally {
      helper.close();
      service.close();
      await Promise.all([helper.closed, service.closed]);
    }
  });

  test('refuses a pipe served by another pid than the service’s, closing its handle at once', async () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    try {
      await expect(
        connectServicePipe({
          name,
          expected: { pid: process.pid + 4, sid: ownUserSid() },
          api: win32PipeClientApi(waiter),
          log: silentLogger,
        }),
      ).rejects.toMatchObject({
        code: 'pipe_server_refused',
        message: `the pipe is served by pid ${process.pid}, not by the service (pid ${process.pid + 4})`,
      });
    } finally {
      pipe.close();
    }
  });

  test('refuses the right pid running as another account than the service’s (LocalSystem expected)', async () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    try {
      await expect(
        connectServicePipe({
          name,
          expected: { pid: process.pid, sid: 'S-1-5-18' },
          api: win32PipeClientApi(waiter),
          log: silentLogger,
        }),
      ).rejects.toMatchObject({
        code: 'pipe_server_refused',
        message: `the pipe's server runs as ${ownUserSid()}, not as the service's account S-1-5-18`,
      });
    } finally {
      pipe.close();
    }
  });

  test('the impersonation level: Wine ignores SECURITY_SQOS_PRESENT (a VM step checks Windows gives 1)', async () => {
    /** Connects a client, has the server read its first byte, and reads the level the client allows. */
    const level = async (connect: (name: string) => Promise<Duplex>): Promise<number> => {
      const name = pipeName();
      const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
      const accepted = pipe.accept(waiter, { pid: process.pid }, { timeoutMs: 20_000 });
      const client = await connect(name);
      client.on('error', () => undefined);
      client.write('x');
      const server = await accepted;
      try {
        while (server.read() === null) await once(server, 'readable');
        return pipeClientImpersonationLevel(pipe.handle);
      } finally {
        client.destroy();
        server.destroy();
      }
    };
    const ours = await level(async (name) => win32PipeClientApi(waiter).stream(openPipeClient(name)));
    const nodeNet = await level(async (name) => {
      const s = net.connect(name);
      await once(s, 'connect');
      return s;
    });
    // On Windows `ours` is SecurityIdentification (1) and node:net's SecurityImpersonation (2). Wine
    // gives the server SecurityImpersonation whatever the client asked: both read 2 here.
    expect({ ours, nodeNet }).toEqual({ ours: SecurityImpersonation, nodeNet: SecurityImpersonation });
    // The level was read by impersonating the client; the thread is itself again afterwards.
    expect(threadImpersonation()).toBeUndefined();
  });
});

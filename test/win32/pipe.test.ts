import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import { kernelObjectDaclSddl } from '../../src/native/win32/security.js';
import { EventWaiter } from '../../src/native/win32/event-waiter.js';
import type { PipeStream } from '../../src/native/win32/pipe-stream.js';
import { BrokerPipe, SDDL_SYSTEM_ONLY, sddlSystemAndUser } from '../../src/service/windows/pipe-server.js';

const waiter = new EventWaiter();
afterAll(() => waiter.close());

const pipeName = (): string => `\\\\.\\pipe\\porthole-test-${randomBytes(6).toString('hex')}`;

/** A child node.exe that connects to `name`, writes `hello`, and echoes what it reads back. */
function echoClient(name: string) {
  const code = `
    const s = require('net').connect(${JSON.stringify(name)});
    s.on('connect', () => s.write('hello'));
    s.on('data', (d) => s.write(d));
    s.on('error', () => process.exit(0)); // EPIPE when the service end closes
    s.on('close', () => process.exit(0));`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

async function readExactly(stream: PipeStream, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const chunk = stream.read() as Buffer | null;
    if (chunk) {
      chunks.push(chunk);
      got += chunk.length;
    } else await once(stream, 'readable');
  }
  return Buffer.concat(chunks);
}

describe('broker pipe', () => {
  test('the DACL set from SDDL reads back as set (Wine stores it; it does not enforce it)', () => {
    const pipe = new BrokerPipe(pipeName(), SDDL_SYSTEM_ONLY);
    try {
      // Windows maps the generic right to the pipe's specific ones (FA); Wine stores GA as given.
      expect(kernelObjectDaclSddl(pipe.handle)).toMatch(/^D:P\(A;;(GA|FA);;;SY\)$/);
    } finally {
      pipe.close();
    }
    const sid = 'S-1-5-21-1-2-3-1001';
    const userPipe = new BrokerPipe(pipeName(), sddlSystemAndUser(sid));
    try {
      expect(kernelObjectDaclSddl(userPipe.handle)).toMatch(
        new RegExp(`^D:P\\(A;;(GA|FA);;;SY\\)\\(A;;.+;;;${sid}\\)$`),
      );
    } finally {
      userPipe.close();
    }
  });

  test('a second instance of the same name is refused (nobody can squat or share the pipe)', () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    try {
      expect(() => new BrokerPipe(name, SDDL_SYSTEM_ONLY)).toThrow(
        /^CreateNamedPipeW\(.+\) failed: (5|231) /,
      );
    } finally {
      pipe.close();
    }
  });

  test('accepts the spawned process, and bytes flow both ways (64 KiB echo)', async () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    const child = echoClient(name);
    const stream = await pipe.accept(waiter, { pid: child.pid! }, { timeoutMs: 20_000 });
    try {
      expect((await readExactly(stream, 5)).toString()).toBe('hello');
      const payload = randomBytes(64 * 1024);
      stream.write(payload);
      expect((await readExactly(stream, payload.length)).equals(payload)).toBe(true);
    } finally {
      stream.destroy();
    }
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0); // the child saw its end close
  });

  test('refuses a client whose pid is not the spawned helper, then accepts the right one', async () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    const rejected: { why: string; pid: number }[] = [];
    const expected = echoClient(name);
    // This test process connects first, while the helper is still starting: the wrong pid.
    const intruder = net.connect(name);
    intruder.on('error', () => undefined); // EPIPE once the service disconnects it
    await once(intruder, 'connect');
    const accepted = pipe.accept(
      waiter,
      { pid: expected.pid!, sessionId: undefined },
      { timeoutMs: 20_000, onRejected: (why, pid) => rejected.push({ why, pid }) },
    );
    const intruderClosed = new Promise((resolve) => intruder.on('close', resolve));
    const stream = await accepted;
    try {
      expect(rejected[0]?.pid).toBe(process.pid);
      expect(rejected[0]?.why).toMatch(/is not the spawned helper/);
      await intruderClosed;
      expect((await readExactly(stream, 5)).toString()).toBe('hello');
    } finally {
      stream.destroy();
      await once(expected, 'exit');
    }
  });

  test('gives up after the deadline when nobody connects, having waited for the cancelled connect, and frees the name', async () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    await expect(pipe.accept(waiter, { pid: 1 }, { timeoutMs: 300 })).rejects.toThrow(/no helper connected/);
    // The pending ConnectNamedPipe was cancelled and completed, and the pipe closed, before the
    // rejection: the name is free at once.
    new BrokerPipe(name, SDDL_SYSTEM_ONLY).close();
  });

  test('close() while accepting ends the accept first, then frees the name', async () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    const accepting = pipe.accept(waiter, { pid: 1 }, { timeoutMs: 20_000 });
    pipe.close();
    await expect(accepting).rejects.toThrow(/closed before a helper connected/);
    new BrokerPipe(name, SDDL_SYSTEM_ONLY).close();
  });

  test('a client that connected and closed before the accept (ERROR_NO_DATA) is dropped, and the helper is accepted after it', async () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    const rejected: string[] = [];
    // This process connects and closes while the helper is still starting: the only instance is left
    // closing, and ConnectNamedPipe answers ERROR_NO_DATA until it is disconnected.
    const early = net.connect(name);
    early.on('error', () => undefined);
    await once(early, 'connect');
    early.destroy();
    await once(early, 'close');
    // The helper finds the instance busy until then (libuv waits for it and retries).
    const expected = echoClient(name);
    const stream = await pipe.accept(
      waiter,
      { pid: expected.pid! },
      { timeoutMs: 20_000, onRejected: (why) => rejected.push(why) },
    );
    try {
      expect(rejected).toEqual(['client closed its end before it was accepted']);
      expect((await readExactly(stream, 5)).toString()).toBe('hello');
    } finally {
      stream.destroy();
      await once(expected, 'exit');
    }
  });

  test('destroying a stream with a read pending cancels it, waits for it, and closes the pipe at once', async () => {
    const name = pipeName();
    const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
    const child = echoClient(name);
    const stream = await pipe.accept(waiter, { pid: child.pid! }, { timeoutMs: 20_000 });
    expect((await readExactly(stream, 5)).toString()).toBe('hello');
    stream.resume(); // a ReadFile is now pending: the client sends nothing more
    await new Promise((r) => setTimeout(r, 50));
    stream.destroy();
    // No operation left pending and the handle closed: the name is free for a new instance now.
    new BrokerPipe(name, SDDL_SYSTEM_ONLY).close();
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
  });
});

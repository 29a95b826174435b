/**
 * Service and helper in separate processes: the test is the service, the helper is a real child
 * (test/ipc/fixtures/helper-client.ts) that gets its secret through stdin.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/ipc/channel.js';
import { HELPER_STDIO, acceptInheritedChannel } from '../../src/ipc/inherited.js';
import { writeSecretToStdin } from '../../src/ipc/secret.js';
import { IpcServer } from '../../src/ipc/transport.js';
import { tempSocketPath, validateTestBody, type TestBody } from './helpers.js';
import { waitFor } from '../fixtures/wait-for.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of cleanups.splice(0)) await c();
});

function spawnFixture(name: string, args: string[], stdio: readonly string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture(name), ...args], {
    stdio: stdio as ('pipe' | 'inherit')[],
  });
  children.push(child);
  return child;
}

/** The JSON lines a child printed so far. */
function linesOf(child: ChildProcess): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    rest += d.toString();
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  return lines;
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once('exit', (code) => r(code)));

/** Runs the service side of the conversation the fixture expects; returns what the helper sent. */
async function converse(channel: Channel<TestBody>): Promise<TestBody[]> {
  const received: TestBody[] = [];
  channel.onMessage((b) => received.push(b));
  channel.onRequest((b) => ({ type: 'you-are', id: channel.helperId, asked: b.type }));
  const echoed = await channel.request({ type: 'echo', text: 'über ✓' });
  expect(echoed).toMatchObject({ type: 'echoed', text: 'über ✓' });
  await waitFor(() => received.some((b) => b.type === 'told'), {
    what: 'the helper to ask who it is',
    timeoutMs: 10_000,
  });
  return received;
}

describe('two processes', () => {
  it('a child helper connects over a Unix socket path with its secret read from stdin', async () => {
    const { socketPath, cleanup } = await tempSocketPath();
    cleanups.push(cleanup);
    const secret = randomBytes(32);
    const server = new IpcServer<TestBody>({
      path: socketPath,
      secretFor: (id) => (id === 'helper-7' ? secret : undefined),
      validate: validateTestBody,
    });
    await server.listen();
    cleanups.push(() => server.close());
    const accepted = new Promise<Channel<TestBody>>((r) => server.once('channel', r));

    const child = spawnFixture(
      'helper-client.ts',
      ['path', 'helper-7', socketPath],
      ['pipe', 'pipe', 'inherit'],
    );
    const lines = linesOf(child);
    await writeSecretToStdin(child.stdin!, secret);
    const channel = await accepted;
    const received = await converse(channel);
    expect(received[0]).toEqual({ type: 'hello', pid: child.pid, fd3: null });
    expect(received.at(-1)).toEqual({
      type: 'told',
      answer: { type: 'you-are', id: 'helper-7', asked: 'whoami' },
    });

    channel.send({ type: 'exit' });
    expect(await exited(child)).toBe(0);
    expect(lines.at(-1)).toEqual({ event: 'closed', reason: { code: 'closed' } });
  });

  it('a child helper with a wrong secret is refused and learns nothing more than that', async () => {
    const { socketPath, cleanup } = await tempSocketPath();
    cleanups.push(cleanup);
    const server = new IpcServer<TestBody>({
      path: socketPath,
      secretFor: () => randomBytes(32),
      validate: validateTestBody,
    });
    await server.listen();
    cleanups.push(() => server.close());
    const child = spawnFixture(
      'helper-client.ts',
      ['path', 'helper-7', socketPath],
      ['pipe', 'pipe', 'inherit'],
    );
    const lines = linesOf(child);
    await writeSecretToStdin(child.stdin!, randomBytes(32));
    expect(await exited(child)).toBe(2);
    expect(lines).toEqual([{ event: 'failed', name: 'HandshakeError', message: 'authentication failed' }]);
  });

  it('a child helper talks over an inherited socketpair on fd 3, in both directions', async () => {
    const secret = randomBytes(32);
    const child = spawnFixture(
      'helper-client.ts',
      ['fd', 'helper-3'],
      ['pipe', 'pipe', ...HELPER_STDIO.slice(2)],
    );
    const lines = linesOf(child);
    await writeSecretToStdin(child.stdin!, secret);
    const channel = await acceptInheritedChannel<TestBody>(child.stdio[3], {
      helperId: 'helper-3',
      secret,
      validate: validateTestBody,
    });
    const received = await converse(channel);
    const hello = received[0] as unknown as { fd3: { isSocket: boolean; link: string } };
    expect(hello.fd3.isSocket).toBe(true);
    expect(hello.fd3.link).toMatch(/^socket:\[\d+\]$/);
    // The service's end is a Unix stream socket too (libuv's socketpair), not a pipe or a TCP socket.
    const ours = readFileSync('/proc/self/net/unix', 'utf8');
    expect(ours).toContain(hello.fd3.link.slice(8, -1));

    child.kill('SIGKILL');
    const reason = await channel.closed;
    expect(reason.code).toBe('peer_closed');
    expect(lines).toEqual([]);
  });

  it("an orphaned helper's inherited channel closes as soon as the service process dies", async () => {
    const service = spawnFixture('service-parent.ts', [], ['ignore', 'pipe', 'inherit']);
    const lines = linesOf(service);
    await waitFor(() => lines.some((l) => l.event === 'ready'), {
      what: 'the service fixture',
      timeoutMs: 15_000,
    });
    const helperPid = lines.find((l) => l.event === 'ready')?.helperPid as number;
    service.kill('SIGKILL');
    // The helper inherited the service's stdout, so its last words still reach this pipe.
    await waitFor(() => lines.some((l) => l.event === 'closed'), {
      what: 'the helper to notice',
      timeoutMs: 5_000,
      detail: () => `${JSON.stringify(lines)}, helper running: ${isRunning(helperPid)}`,
    });
    expect(lines.find((l) => l.event === 'closed')).toMatchObject({ reason: { code: 'peer_closed' } });
    await waitFor(() => !isRunning(helperPid), { what: 'the helper to exit', timeoutMs: 5_000 });
  });
});

/** True while `pid` exists and is not a zombie waiting for a reaper. */
function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

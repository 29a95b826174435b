import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/ipc/channel.js';
import { HandshakeError } from '../../src/ipc/errors.js';
import { acceptHelperChannel, connectHelperChannel } from '../../src/ipc/inherited.js';
import { IpcServer, connectIpc } from '../../src/ipc/transport.js';
import { duplexPair } from '../../src/service/spawn/fake-helper-spawner.js';
import { tempSocketPath, validateTestBody, type TestBody } from './helpers.js';
import { waitFor } from '../fixtures/wait-for.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

async function listening(
  secrets: Record<string, Buffer>,
  extra: Partial<ConstructorParameters<typeof IpcServer<TestBody>>[0]> = {},
): Promise<{ server: IpcServer<TestBody>; socketPath: string; tmp: string }> {
  const { socketPath, cleanup } = await tempSocketPath();
  cleanups.push(cleanup);
  const server = new IpcServer<TestBody>({
    path: socketPath,
    secretFor: (id) => secrets[id],
    validate: validateTestBody,
    ...extra,
  });
  await server.listen();
  cleanups.push(() => server.close());
  return { server, socketPath, tmp: path.dirname(path.dirname(socketPath)) };
}

const connect = (socketPath: string, helperId: string, secret: Buffer): Promise<Channel<TestBody>> =>
  connectIpc<TestBody>({ path: socketPath, helperId, secret, validate: validateTestBody }).then((ch) => {
    cleanups.push(async () => ch.close());
    return ch;
  });

/** Tries to connect to `socketPath` from a separate process running as `uid`; returns 'connected' or an errno. */
function connectAs(uid: number, socketPath: string): Promise<string> {
  const script = `const s=require('net').createConnection(process.argv[1]);s.on('connect',()=>{console.log('connected');s.destroy()});s.on('error',e=>console.log(e.code))`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, socketPath], {
      uid,
      gid: uid,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(out.trim()));
  });
}

describe('IpcServer on a Unix socket path', () => {
  it('creates a 0700 directory and a 0600 socket', async () => {
    const { socketPath } = await listening({});
    expect((await stat(path.dirname(socketPath))).mode & 0o777).toBe(0o700);
    const socket = await lstat(socketPath);
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
  });

  it('refuses a socket directory that other users can read', async () => {
    const { socketPath, cleanup } = await tempSocketPath();
    cleanups.push(cleanup);
    await mkdir(path.dirname(socketPath), { mode: 0o755 });
    await chmod(path.dirname(socketPath), 0o755);
    const server = new IpcServer({
      path: socketPath,
      secretFor: () => undefined,
      validate: validateTestBody,
    });
    await expect(server.listen()).rejects.toThrow(/mode 0700/);
  });

  it('replaces a stale socket left by a killed process', async () => {
    const { socketPath, cleanup } = await tempSocketPath();
    cleanups.push(cleanup);
    await mkdir(path.dirname(socketPath), { mode: 0o700 });
    const script = `require('net').createServer().listen(process.argv[1], () => console.log('up'))`;
    const orphan = spawn(process.execPath, ['-e', script, socketPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((r) => orphan.stdout.once('data', r));
    orphan.kill('SIGKILL');
    await new Promise((r) => orphan.once('exit', r));
    expect((await lstat(socketPath)).isSocket()).toBe(true);

    const secret = randomBytes(32);
    const server = new IpcServer<TestBody>({
      path: socketPath,
      secretFor: (id) => (id === 'helper-1' ? secret : undefined),
      validate: validateTestBody,
    });
    await server.listen();
    cleanups.push(() => server.close());
    server.on('channel', (ch) => ch.onRequest(() => ({ type: 'fresh' })));
    const helper = await connect(socketPath, 'helper-1', secret);
    expect(await helper.request({ type: 'q' })).toEqual({ type: 'fresh' });
  });

  it('refuses to delete a file that is not a socket', async () => {
    const { socketPath, cleanup } = await tempSocketPath();
    cleanups.push(cleanup);
    await mkdir(path.dirname(socketPath), { mode: 0o700 });
    await writeFile(socketPath, 'important');
    const server = new IpcServer({
      path: socketPath,
      secretFor: () => undefined,
      validate: validateTestBody,
    });
    await expect(server.listen()).rejects.toThrow(/not a socket/);
    expect((await lstat(socketPath)).isFile()).toBe(true);
  });

  it.skipIf(!isRoot)('lets only the helper user (and root) connect when an owner is given', async () => {
    const { socketPath, tmp } = await listening({}, { owner: { uid: NOBODY, gid: NOBODY } });
    await chmod(tmp, 0o711); // the temporary parent must be traversable for the test users
    const socket = await lstat(socketPath);
    expect([socket.uid, socket.mode & 0o777]).toEqual([NOBODY, 0o600]);
    expect((await stat(path.dirname(socketPath))).uid).toBe(NOBODY);
    expect(await connectAs(NOBODY, socketPath)).toBe('connected');
    expect(await connectAs(NOBODY - 1, socketPath)).toBe('EACCES');
  });

  it('authenticates many helpers independently and keeps each one on its own channel', async () => {
    const secrets = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`helper-${i}`, randomBytes(32)]));
    const { server, socketPath } = await listening(secrets);
    const byId = new Map<string, Channel<TestBody>>();
    server.on('channel', (ch) => {
      byId.set(ch.helperId, ch);
      ch.onRequest((b) => ({ type: 'who', id: ch.helperId, echo: b.n }));
    });
    const helpers = await Promise.all(Object.entries(secrets).map(([id, s]) => connect(socketPath, id, s)));
    const answers = await Promise.all(helpers.map((h, n) => h.request({ type: 'q', n })));
    expect(answers.map((a) => a.id)).toEqual(Object.keys(secrets));
    expect(answers.map((a) => a.echo)).toEqual([...Array(8).keys()]);
    expect(byId.size).toBe(8);
  });

  it('a helper with a wrong secret is refused while the others keep working', async () => {
    const good = randomBytes(32);
    const { server, socketPath } = await listening({ 'helper-1': good, 'helper-2': randomBytes(32) });
    server.on('channel', (ch) => ch.onRequest(() => ({ type: 'ok' })));
    const helper = await connect(socketPath, 'helper-1', good);
    const refused = (await connect(socketPath, 'helper-2', good).catch((e) => e)) as HandshakeError;
    expect(refused.reason).toBe('auth_failed');
    const unknown = (await connect(socketPath, 'helper-9', good).catch((e) => e)) as HandshakeError;
    expect(unknown.reason).toBe('auth_failed');
    expect(await helper.request({ type: 'q' })).toEqual({ type: 'ok' });
  });

  it('refuses connections beyond maxConnections', async () => {
    const secret = randomBytes(32);
    const { server, socketPath } = await listening({ 'helper-1': secret }, { maxConnections: 2 });
    const rejected: string[] = [];
    server.on('rejected', (r) => rejected.push(r.reason));
    await connect(socketPath, 'helper-1', secret);
    await connect(socketPath, 'helper-1', secret);
    await expect(connect(socketPath, 'helper-1', secret)).rejects.toBeInstanceOf(HandshakeError);
    expect(rejected).toContain('too_many_connections');
  });

  it('closes every channel and removes the socket file on close', async () => {
    const secret = randomBytes(32);
    const { server, socketPath } = await listening({ 'helper-1': secret });
    const accepted = new Promise((r) => server.once('channel', r));
    const helper = await connect(socketPath, 'helper-1', secret);
    await accepted;
    await server.close();
    expect(await helper.closed).toEqual({ code: 'peer_closed' });
    await waitFor(() => server.connections === 0, { timeoutMs: 5_000 });
    await expect(lstat(socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('a channel over any connected stream (the Windows helper’s own pipe client)', () => {
  it('runs the client handshake on a stream the helper opened itself, and both sides then talk', async () => {
    const [serviceEnd, helperEnd] = duplexPair();
    const secret = randomBytes(32);
    const options = { helperId: 'h1', secret, validate: validateTestBody };
    const [service, helper] = await Promise.all([
      acceptHelperChannel<TestBody>(serviceEnd, options),
      connectHelperChannel<TestBody>(helperEnd, options),
    ]);
    cleanups.push(async () => {
      helper.close();
      service.close();
    });
    service.onRequest((body) => ({ type: 'echo', got: body.type }));
    await expect(helper.request({ type: 'hello' })).resolves.toEqual({ type: 'echo', got: 'hello' });
  });

  it('refuses a service that does not hold the helper’s secret', async () => {
    const [serviceEnd, helperEnd] = duplexPair();
    const service = acceptHelperChannel<TestBody>(serviceEnd, {
      helperId: 'h1',
      secret: randomBytes(32),
      validate: validateTestBody,
    });
    const helper = connectHelperChannel<TestBody>(helperEnd, {
      helperId: 'h1',
      secret: randomBytes(32),
      validate: validateTestBody,
    });
    await expect(helper).rejects.toBeInstanceOf(HandshakeError);
    await expect(service).rejects.toBeInstanceOf(HandshakeError);
  });
});

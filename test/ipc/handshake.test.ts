import { createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HandshakeError } from '../../src/ipc/errors.js';
import { clientHandshake, serverHandshake, type SessionKeys } from '../../src/ipc/handshake.js';
import { capturingLogger, rawSocketPair, tempSocketPath } from './helpers.js';
import { waitFor } from '../fixtures/wait-for.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function pair(): Promise<{ service: net.Socket; helper: net.Socket }> {
  const { a, b, close } = await rawSocketPair();
  cleanups.push(close);
  return { helper: a, service: b };
}

const secret = randomBytes(32);
const secretFor = (id: string): Buffer | undefined => (id === 'helper-1' ? secret : undefined);

/** Both sides of a handshake; each result is the keys or the error that side ended with. */
async function handshake(
  opts: { helperSecret?: Buffer; helperId?: string; serverSecretFor?: typeof secretFor } = {},
): Promise<{ service: SessionKeys | HandshakeError; helper: SessionKeys | HandshakeError }> {
  const { service, helper } = await pair();
  const settle = <T>(p: Promise<T>): Promise<T | HandshakeError> => p.catch((e: HandshakeError) => e);
  const [s, h] = await Promise.all([
    settle(serverHandshake(service, { secretFor: opts.serverSecretFor ?? secretFor, timeoutMs: 2_000 })),
    settle(
      clientHandshake(helper, {
        helperId: opts.helperId ?? 'helper-1',
        secret: opts.helperSecret ?? secret,
        timeoutMs: 2_000,
      }),
    ),
  ]);
  return { service: s, helper: h };
}

const exported = (k: SessionKeys): { send: string; receive: string } => ({
  send: k.sendKey.export().toString('hex'),
  receive: k.receiveKey.export().toString('hex'),
});

/** A hand-written client: sends a hello, returns the server hello, and lets the test send any proof. */
async function manualClient(socket: net.Socket, helperId: string, nonceC = randomBytes(32)) {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const hello = Buffer.concat([Buffer.from([1, 0, 1]), nonceC, Buffer.from(helperId, 'latin1')]);
  socket.write(lengthPrefixed(hello));
  await waitFor(() => Buffer.concat(chunks).length >= 4 + 65, {
    what: 'the server hello',
    timeoutMs: 2_000,
  });
  const serverHello = Buffer.concat(chunks).subarray(4, 4 + 65);
  return { nonceC, nonceS: serverHello.subarray(1, 33), proofS: serverHello.subarray(33, 65) };
}

function lengthPrefixed(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

describe('handshake', () => {
  it('completes and gives both sides the same two direction keys', async () => {
    const { service, helper } = await handshake();
    if (service instanceof Error || helper instanceof Error) throw new Error('handshake failed');
    expect(service.helperId).toBe('helper-1');
    expect(exported(service).send).toBe(exported(helper).receive);
    expect(exported(service).receive).toBe(exported(helper).send);
    expect(exported(service).send).not.toBe(exported(service).receive);
    expect(service.sendDirection).toBe(helper.receiveDirection);
  });

  it('derives different keys on every connection with the same secret', async () => {
    const first = (await handshake()).service as SessionKeys;
    const second = (await handshake()).service as SessionKeys;
    expect(exported(first).send).not.toBe(exported(second).send);
    expect(exported(first).receive).not.toBe(exported(second).receive);
  });

  it('fails on the helper side when the helper holds a different secret than the service', async () => {
    const { service, helper } = await handshake({ helperSecret: randomBytes(32) });
    expect(helper).toBeInstanceOf(HandshakeError);
    expect((helper as HandshakeError).reason).toBe('auth_failed');
    expect((service as HandshakeError).reason).toBe('closed');
  });

  it('fails on the helper side when the service holds a different secret (a fake service)', async () => {
    const { helper } = await handshake({ serverSecretFor: () => randomBytes(32) });
    expect((helper as HandshakeError).reason).toBe('auth_failed');
  });

  it('fails on the service side when the client proof is wrong', async () => {
    const { service, helper } = await pair();
    const result = serverHandshake(service, { secretFor }).catch((e: HandshakeError) => e);
    await manualClient(helper, 'helper-1');
    helper.write(lengthPrefixed(Buffer.concat([Buffer.from([3]), randomBytes(32)])));
    const err = (await result) as HandshakeError;
    expect(err.reason).toBe('auth_failed');
    expect(err.message).toBe('authentication failed');
  });

  it('accepts a hand-built client that computes the proof as design/IPC.md describes', async () => {
    const { service, helper } = await pair();
    const result = serverHandshake(service, { secretFor });
    const { nonceC, nonceS, proofS } = await manualClient(helper, 'helper-1');
    const transcript = (label: string): Buffer =>
      createHmac('sha256', secret)
        .update(label)
        .update(Buffer.from([0, 1]))
        .update(nonceC)
        .update(nonceS)
        .update('helper-1')
        .digest();
    expect(proofS.equals(transcript('porthole/srv'))).toBe(true);
    helper.write(lengthPrefixed(Buffer.concat([Buffer.from([3]), transcript('porthole/cli')])));
    expect((await result).helperId).toBe('helper-1');
  });

  it('refuses an unknown helper id with the same error as a wrong proof', async () => {
    const { service, helper } = await pair();
    const result = serverHandshake(service, { secretFor }).catch((e: HandshakeError) => e);
    const { proofS } = await manualClient(helper, 'helper-unknown');
    expect(proofS).toHaveLength(32); // the server answers as if the id existed
    helper.write(lengthPrefixed(Buffer.concat([Buffer.from([3]), randomBytes(32)])));
    const err = (await result) as HandshakeError;
    expect(err.reason).toBe('auth_failed');
    expect(err.message).toBe('authentication failed');
  });

  it('tells a helper with an unknown id only that authentication failed', async () => {
    const { helper } = await handshake({ helperId: 'helper-unknown' });
    expect((helper as HandshakeError).reason).toBe('auth_failed');
  });

  it('refuses a recorded handshake replayed on a new connection', async () => {
    const first = await pair();
    const written: Buffer[] = [];
    const write = first.helper.write.bind(first.helper);
    first.helper.write = ((chunk: Buffer, ...rest: never[]) => {
      written.push(Buffer.from(chunk));
      return write(chunk, ...rest);
    }) as typeof first.helper.write;
    await Promise.all([
      serverHandshake(first.service, { secretFor }),
      clientHandshake(first.helper, { helperId: 'helper-1', secret }),
    ]);
    expect(written).toHaveLength(2);

    const second = await pair();
    const result = serverHandshake(second.service, { secretFor }).catch((e: HandshakeError) => e);
    second.helper.write(written[0]!);
    await new Promise((r) => setTimeout(r, 50));
    second.helper.write(written[1]!);
    expect(((await result) as HandshakeError).reason).toBe('auth_failed');
  });

  it('times out on the service side when the helper never speaks', async () => {
    const { service } = await pair();
    const started = Date.now();
    const err = (await serverHandshake(service, { secretFor, timeoutMs: 100 }).catch(
      (e) => e,
    )) as HandshakeError;
    expect(err.reason).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(service.destroyed).toBe(true);
  });

  it('times out on the helper side when the service never answers', async () => {
    const { helper } = await pair();
    const err = (await clientHandshake(helper, { helperId: 'helper-1', secret, timeoutMs: 100 }).catch(
      (e) => e,
    )) as HandshakeError;
    expect(err.reason).toBe('timeout');
  });

  it('fails when the peer closes mid-handshake', async () => {
    const { service, helper } = await pair();
    const result = serverHandshake(service, { secretFor }).catch((e: HandshakeError) => e);
    helper.end(lengthPrefixed(Buffer.from([1, 0, 1])));
    expect(((await result) as HandshakeError).reason).toMatch(/bad_message|closed/);
  });

  it('refuses an unsupported protocol version', async () => {
    const { service, helper } = await pair();
    const result = serverHandshake(service, { secretFor }).catch((e: HandshakeError) => e);
    helper.write(
      lengthPrefixed(Buffer.concat([Buffer.from([1, 0, 2]), randomBytes(32), Buffer.from('helper-1')])),
    );
    expect(((await result) as HandshakeError).reason).toBe('unsupported_version');
  });

  it('refuses a helper id outside the allowed characters', async () => {
    const { service, helper } = await pair();
    const result = serverHandshake(service, { secretFor }).catch((e: HandshakeError) => e);
    helper.write(
      lengthPrefixed(Buffer.concat([Buffer.from([1, 0, 1]), randomBytes(32), Buffer.from('a/b\n')])),
    );
    expect(((await result) as HandshakeError).reason).toBe('bad_message');
  });

  it('refuses a handshake message length above its bound without waiting for the bytes', async () => {
    const { service, helper } = await pair();
    const result = serverHandshake(service, { secretFor }).catch((e: HandshakeError) => e);
    helper.write(Buffer.from([0, 0, 1, 0]));
    expect(((await result) as HandshakeError).reason).toBe('bad_message');
  });

  it('refuses a secret shorter than 32 bytes on either side', async () => {
    const { service, helper } = await pair();
    expect(() => clientHandshake(helper, { helperId: 'helper-1', secret: randomBytes(31) })).toThrow(
      RangeError,
    );
    const { logger, entries } = capturingLogger();
    const result = serverHandshake(service, { secretFor: () => randomBytes(16), logger }).catch((e) => e);
    await manualClient(helper, 'helper-1');
    helper.write(lengthPrefixed(Buffer.concat([Buffer.from([3]), randomBytes(32)])));
    expect(((await result) as HandshakeError).reason).toBe('auth_failed');
    expect(entries.some((e) => e.msg?.includes('too short'))).toBe(true);
  });

  it('never puts the secret in an error or a log line', async () => {
    const { logger, entries } = capturingLogger();
    const errors: unknown[] = [];
    const { service, helper } = await pair();
    errors.push(
      await Promise.all([
        serverHandshake(service, { secretFor, logger }).catch((e) => e),
        clientHandshake(helper, { helperId: 'helper-1', secret: randomBytes(32) }).catch((e) => e),
      ]),
    );
    const text = JSON.stringify({ errors: errors.flat().map(String), entries });
    for (const encoding of ['hex', 'base64', 'latin1'] as const) {
      expect(text).not.toContain(secret.toString(encoding).slice(0, 16));
    }
  });

  it('connecting to a path where nothing listens fails as a closed handshake', async () => {
    const { socketPath, cleanup } = await tempSocketPath();
    cleanups.push(cleanup);
    const socket = net.createConnection(socketPath);
    const err = (await clientHandshake(socket, { helperId: 'helper-1', secret }).catch(
      (e) => e,
    )) as HandshakeError;
    expect(err.reason).toBe('closed');
    expect(err.message).toContain('ENOENT');
  });
});

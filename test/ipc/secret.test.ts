import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { generateSecret, readSecretFromStdin, writeSecretToStdin } from '../../src/ipc/secret.js';

const failure = (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => new Error('resolved'),
    (e: Error) => e,
  );

describe('secret over stdin', () => {
  it('round-trips a secret written by the service and read by the helper', async () => {
    const stdin = new PassThrough();
    const secret = generateSecret();
    const [, read] = await Promise.all([writeSecretToStdin(stdin, secret), readSecretFromStdin(stdin)]);
    expect(read.equals(secret)).toBe(true);
    expect(stdin.destroyed).toBe(true);
  });

  it('reads base64 when told to', async () => {
    const stdin = new PassThrough();
    const secret = randomBytes(48);
    const [, read] = await Promise.all([
      writeSecretToStdin(stdin, secret, { encoding: 'base64' }),
      readSecretFromStdin(stdin, { encoding: 'base64' }),
    ]);
    expect(read.equals(secret)).toBe(true);
  });

  it('reads one line delivered in pieces, accepts CRLF, and reads nothing after it', async () => {
    const stdin = new PassThrough();
    const secret = randomBytes(32);
    const hex = secret.toString('hex');
    const reading = readSecretFromStdin(stdin);
    stdin.write(hex.slice(0, 10));
    stdin.write(`${hex.slice(10)}\r\nand-more-data\n`);
    expect((await reading).equals(secret)).toBe(true);
    expect(stdin.destroyed).toBe(true);
  });

  it('refuses a secret shorter than 32 bytes without echoing it', async () => {
    const stdin = new PassThrough();
    const short = randomBytes(31).toString('hex');
    const reading = readSecretFromStdin(stdin);
    stdin.end(`${short}\n`);
    const err = await failure(reading);
    expect(err.message).toMatch(/shorter than 32 bytes/);
    expect(err.message).not.toContain(short.slice(0, 8));
  });

  it('refuses a line that is not valid hex without echoing it', async () => {
    const stdin = new PassThrough();
    const reading = readSecretFromStdin(stdin);
    stdin.end(`${'zz'.repeat(32)}\n`);
    const err = await failure(reading);
    expect(err.message).toMatch(/not valid hex/);
    expect(err.message).not.toContain('zzzz');
  });

  it('refuses an over-long line', async () => {
    const stdin = new PassThrough();
    const reading = readSecretFromStdin(stdin);
    stdin.write('a'.repeat(5000));
    expect((await failure(reading)).message).toMatch(/too long/);
  });

  it('times out when no secret arrives', async () => {
    const err = await failure(readSecretFromStdin(new PassThrough(), { timeoutMs: 50 }));
    expect(err.message).toMatch(/within 50 ms/);
  });

  it('fails when stdin closes before any secret', async () => {
    const stdin = new PassThrough();
    const reading = readSecretFromStdin(stdin);
    stdin.end();
    expect((await failure(reading)).message).toMatch(/closed before a secret/);
  });

  it('refuses to write or generate a secret shorter than 32 bytes', async () => {
    await expect(writeSecretToStdin(new PassThrough(), randomBytes(16))).rejects.toThrow(RangeError);
    expect(() => generateSecret(16)).toThrow(RangeError);
  });
});

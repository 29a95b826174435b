/**
 * Moving a helper's secret from the service to the helper over the helper's stdin: never argv or the
 * environment (both readable by other processes of the same user through /proc or the process
 * list), never a file. One line, then the stream is closed on both ends.
 */
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { MIN_SECRET_BYTES } from './handshake.js';

export type SecretEncoding = 'hex' | 'base64';

/** Long enough for any sane secret in either encoding; bounds what the helper buffers. */
const MAX_SECRET_LINE_BYTES = 4096;
export const DEFAULT_SECRET_TIMEOUT_MS = 5_000;

/** A fresh random secret for one helper. */
export function generateSecret(bytes = MIN_SECRET_BYTES): Buffer {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES) {
    throw new RangeError(`a helper secret needs at least ${MIN_SECRET_BYTES} bytes`);
  }
  return randomBytes(bytes);
}

/** Service side: writes the secret as one line and ends the helper's stdin. */
export function writeSecretToStdin(
  stdin: Writable,
  secret: Buffer,
  options: { encoding?: SecretEncoding } = {},
): Promise<void> {
  if (secret.length < MIN_SECRET_BYTES) {
    return Promise.reject(new RangeError(`a helper secret needs at least ${MIN_SECRET_BYTES} bytes`));
  }
  return new Promise((resolve, reject) => {
    stdin.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`ipc: could not write the secret to the helper's stdin (${err.code ?? err.name})`)),
    );
    stdin.end(`${secret.toString(options.encoding ?? 'hex')}\n`, () => resolve());
  });
}

/**
 * Helper side: reads one line from `stream` (by default process.stdin), decodes it, and destroys the
 * stream so nothing more is read from it. Rejects, without echoing any of the input, on a timeout,
 * an over-long or malformed line, or a secret shorter than MIN_SECRET_BYTES.
 */
export function readSecretFromStdin(
  stream: Readable = process.stdin,
  options: { timeoutMs?: number; encoding?: SecretEncoding } = {},
): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SECRET_TIMEOUT_MS;
  const encoding = options.encoding ?? 'hex';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const timer = setTimeout(
      () => finish(new Error(`ipc: no secret on stdin within ${timeoutMs} ms`)),
      timeoutMs,
    );

    const finish = (error: Error | null, secret?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.on('error', () => {}); // nothing more is read; a late error is not news
      stream.destroy();
      for (const c of chunks) c.fill(0);
      if (error || !secret) reject(error ?? new Error('ipc: no secret on stdin'));
      else resolve(secret);
    };
    const complete = (): void => {
      const all = Buffer.concat(chunks);
      const newline = all.indexOf(0x0a);
      let end = newline >= 0 ? newline : all.length;
      if (end > 0 && all[end - 1] === 0x0d) end -= 1;
      const secret = decodeSecret(all.toString('latin1', 0, end), encoding);
      all.fill(0);
      if (typeof secret === 'string') finish(new Error(`ipc: the secret on stdin ${secret}`));
      else finish(null, secret);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      chunks.push(buf);
      size += buf.length;
      if (buf.includes(0x0a)) complete();
      else if (size > MAX_SECRET_LINE_BYTES) finish(new Error('ipc: the secret line on stdin is too long'));
    };
    const onEnd = (): void =>
      size > 0 ? complete() : finish(new Error('ipc: stdin closed before a secret'));
    const onError = (err: NodeJS.ErrnoException): void =>
      finish(new Error(`ipc: could not read the secret from stdin (${err.code ?? err.name})`));

    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** The decoded secret, or the reason it was refused (worded to follow "the secret on stdin "). */
function decodeSecret(line: string, encoding: SecretEncoding): Buffer | string {
  const wellFormed =
    encoding === 'hex'
      ? /^[0-9a-fA-F]*$/.test(line) && line.length % 2 === 0
      : /^[A-Za-z0-9+/]*={0,2}$/.test(line) && line.length % 4 === 0;
  if (!wellFormed) return `is not valid ${encoding}`;
  const secret = Buffer.from(line, encoding);
  if (secret.length < MIN_SECRET_BYTES) {
    secret.fill(0);
    return `is shorter than ${MIN_SECRET_BYTES} bytes`;
  }
  return secret;
}

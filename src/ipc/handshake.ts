/**
 * The mutual handshake that opens every connection, and the key derivation that follows it.
 *
 *   client → server  ClientHello  0x01 | version u16 | nonceC (32) | helperId (1–64 ASCII bytes)
 *   server → client  ServerHello  0x02 | nonceS (32) | proofS (32)
 *   client → server  ClientProof  0x03 | proofC (32)
 *
 * Each message is preceded by a uint32 BE length. proofS and proofC are HMAC-SHA256 under the
 * helper's secret over a label that differs per side, the version, both nonces and the helper id,
 * so neither proof can be replayed on another connection (fresh nonces) or reflected to the other
 * side (distinct labels). Both sides then derive one key per direction with HKDF. See design/IPC.md.
 */
import {
  createHmac,
  createSecretKey,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import type { Duplex } from 'node:stream';
import { HandshakeError } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, Direction } from './frame.js';
import { type Logger, silentLogger } from '../log/logger.js';

export const PROTOCOL_VERSION = 1;
export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;
export const MIN_SECRET_BYTES = 32;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
/** Helper ids are short ASCII names chosen by the service (e.g. `session-3`). */
export const HELPER_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

const CLIENT_HELLO = 0x01;
const SERVER_HELLO = 0x02;
const CLIENT_PROOF = 0x03;
/** The largest handshake message (a ClientHello with a 64-byte id) with room to spare. */
const MAX_HANDSHAKE_MESSAGE = 128;
const SERVER_LABEL = Buffer.from('porthole/srv');
const CLIENT_LABEL = Buffer.from('porthole/cli');
const AUTH_FAILED = 'authentication failed';

/** What a completed handshake yields: who the peer is and the keys for this connection only. */
export interface SessionKeys {
  helperId: string;
  sendKey: KeyObject;
  receiveKey: KeyObject;
  sendDirection: Direction;
  receiveDirection: Direction;
  /** Bytes that arrived after the last handshake message: the first data frames. */
  leftover: Buffer;
}

export interface ServerHandshakeOptions {
  /** The secret of a helper id, or undefined when the id is unknown. */
  secretFor: (helperId: string) => Buffer | undefined;
  timeoutMs?: number;
  /** Bound on bytes buffered during the handshake (data frames may follow the proof at once). */
  maxBufferedBytes?: number;
  logger?: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

export interface ClientHandshakeOptions {
  helperId: string;
  secret: Buffer;
  timeoutMs?: number;
  maxBufferedBytes?: number;
}

/**
 * Runs the service side. Resolves with the keys, or rejects with a HandshakeError after destroying
 * the socket. An unknown helper id is handled like a wrong secret (a random stand-in secret is used
 * and the proof then fails), so both take the same path and give the same error.
 */
export function serverHandshake(socket: Duplex, opts: ServerHandshakeOptions): Promise<SessionKeys> {
  const log = opts.logger ?? silentLogger;
  let stage: 'hello' | 'proof' = 'hello';
  let nonceC: Buffer = Buffer.alloc(0);
  let nonceS: Buffer = Buffer.alloc(0);
  let helperId = '';
  let secret: Buffer = Buffer.alloc(0);
  let known = false;

  return exchange(socket, opts.timeoutMs, opts.maxBufferedBytes, (msg) => {
    if (stage === 'hello') {
      if (msg[0] !== CLIENT_HELLO || msg.length < 1 + 2 + NONCE_BYTES + 1) throw badMessage('client hello');
      const version = msg.readUInt16BE(1);
      if (version !== PROTOCOL_VERSION) {
        throw new HandshakeError('unsupported_version', `unsupported protocol version ${version}`);
      }
      nonceC = Buffer.from(msg.subarray(3, 3 + NONCE_BYTES));
      helperId = msg.toString('latin1', 3 + NONCE_BYTES);
      if (!HELPER_ID_PATTERN.test(helperId)) throw badMessage('helper id');
      const found = lookUpSecret(opts.secretFor, helperId, log);
      known = found !== undefined;
      secret = found ?? randomBytes(MIN_SECRET_BYTES);
      nonceS = randomBytes(NONCE_BYTES);
      const proofS = proof(secret, SERVER_LABEL, nonceC, nonceS, helperId);
      socket.write(message(SERVER_HELLO, nonceS, proofS));
      stage = 'proof';
      return undefined;
    }
    if (msg[0] !== CLIENT_PROOF || msg.length !== 1 + PROOF_BYTES) throw badMessage('client proof');
    const expected = proof(secret, CLIENT_LABEL, nonceC, nonceS, helperId);
    const proofMatches = timingSafeEqual(expected, msg.subarray(1));
    if (!proofMatches || !known) throw new HandshakeError('auth_failed', AUTH_FAILED);
    return {
      helperId,
      sendKey: directionKey(secret, nonceC, nonceS, helperId, Direction.serviceToHelper),
      receiveKey: directionKey(secret, nonceC, nonceS, helperId, Direction.helperToService),
      sendDirection: Direction.serviceToHelper,
      receiveDirection: Direction.helperToService,
      leftover: Buffer.alloc(0),
    };
  });
}

/** Runs the helper side; rejects with `auth_failed` when the service's proof does not verify. */
export function clientHandshake(socket: Duplex, opts: ClientHandshakeOptions): Promise<SessionKeys> {
  const { helperId, secret } = opts;
  checkSecret(secret);
  if (!HELPER_ID_PATTERN.test(helperId)) throw new RangeError(`helper id must match ${HELPER_ID_PATTERN}`);
  const nonceC = randomBytes(NONCE_BYTES);
  const version = Buffer.alloc(2);
  version.writeUInt16BE(PROTOCOL_VERSION);

  const done = exchange(socket, opts.timeoutMs, opts.maxBufferedBytes, (msg) => {
    if (msg[0] !== SERVER_HELLO || msg.length !== 1 + NONCE_BYTES + PROOF_BYTES) {
      throw badMessage('server hello');
    }
    const nonceS = Buffer.from(msg.subarray(1, 1 + NONCE_BYTES));
    const expected = proof(secret, SERVER_LABEL, nonceC, nonceS, helperId);
    if (!timingSafeEqual(expected, msg.subarray(1 + NONCE_BYTES))) {
      throw new HandshakeError('auth_failed', AUTH_FAILED);
    }
    socket.write(message(CLIENT_PROOF, proof(secret, CLIENT_LABEL, nonceC, nonceS, helperId)));
    return {
      helperId,
      sendKey: directionKey(secret, nonceC, nonceS, helperId, Direction.helperToService),
      receiveKey: directionKey(secret, nonceC, nonceS, helperId, Direction.serviceToHelper),
      sendDirection: Direction.helperToService,
      receiveDirection: Direction.serviceToHelper,
      leftover: Buffer.alloc(0),
    };
  });
  socket.write(message(CLIENT_HELLO, version, nonceC, Buffer.from(helperId, 'latin1')));
  return done;
}

/** Throws a RangeError (naming only the length) for a secret shorter than MIN_SECRET_BYTES. */
export function checkSecret(secret: Buffer): void {
  if (!Buffer.isBuffer(secret) || secret.length < MIN_SECRET_BYTES) {
    throw new RangeError(`the helper secret must be a Buffer of at least ${MIN_SECRET_BYTES} bytes`);
  }
}

function lookUpSecret(
  secretFor: (id: string) => Buffer | undefined,
  helperId: string,
  log: Pick<Logger, 'debug' | 'info' | 'warn'>,
): Buffer | undefined {
  let secret: Buffer | undefined;
  try {
    secret = secretFor(helperId);
  } catch {
    log.warn({ helperId }, 'ipc: secret lookup threw; treating the helper id as unknown');
    return undefined;
  }
  if (secret === undefined) return undefined;
  if (!Buffer.isBuffer(secret) || secret.length < MIN_SECRET_BYTES) {
    log.warn({ helperId }, 'ipc: configured secret is too short; refusing the helper');
    return undefined;
  }
  return secret;
}

function proof(secret: Buffer, label: Buffer, nonceC: Buffer, nonceS: Buffer, helperId: string): Buffer {
  const version = Buffer.alloc(2);
  version.writeUInt16BE(PROTOCOL_VERSION);
  // Every field but the last has a fixed length, so the concatenation is unambiguous.
  return createHmac('sha256', secret)
    .update(label)
    .update(version)
    .update(nonceC)
    .update(nonceS)
    .update(helperId, 'latin1')
    .digest();
}

/**
 * One key per direction and connection: salted with both nonces, so a recorded frame is useless
 * on any other connection, and labelled by direction, so a frame cannot be reflected back.
 */
export function directionKey(
  secret: Buffer,
  nonceC: Buffer,
  nonceS: Buffer,
  helperId: string,
  direction: Direction,
): KeyObject {
  const label = direction === Direction.serviceToHelper ? 'service->helper' : 'helper->service';
  const info = Buffer.from(`porthole/ipc v${PROTOCOL_VERSION} ${label}\0${helperId}`, 'latin1');
  const salt = Buffer.concat([nonceC, nonceS]);
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, salt, info, 32)));
}

function message(type: number, ...parts: Buffer[]): Buffer {
  const length = 1 + parts.reduce((n, p) => n + p.length, 0);
  const out = Buffer.allocUnsafe(4 + length);
  out.writeUInt32BE(length, 0);
  out[4] = type;
  let at = 5;
  for (const p of parts) at += p.copy(out, at);
  return out;
}

function badMessage(what: string): HandshakeError {
  return new HandshakeError('bad_message', `malformed ${what}`);
}

/**
 * Reads length-prefixed handshake messages and hands each to `step` until it returns the keys.
 * On success the socket is paused with its listeners removed, so no byte is lost before the
 * channel attaches; on failure (or timeout, or the peer leaving) the socket is destroyed.
 */
function exchange(
  socket: Duplex,
  timeoutMs: number | undefined,
  maxBufferedBytes: number | undefined,
  step: (msg: Buffer) => SessionKeys | undefined,
): Promise<SessionKeys> {
  return new Promise<SessionKeys>((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    let settled = false;
    const ms = timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const timer = setTimeout(
      () => finish(new HandshakeError('timeout', `handshake not completed within ${ms} ms`)),
      ms,
    );

    const finish = (error: HandshakeError | null, keys?: SessionKeys): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (error || !keys) {
        socket.on('error', () => {}); // a late error on a socket we are discarding is not news
        socket.destroy();
        reject(error ?? new HandshakeError('closed', 'handshake ended'));
      } else {
        socket.pause();
        resolve(keys);
      }
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length > (maxBufferedBytes ?? DEFAULT_MAX_FRAME_BYTES) + 4 + MAX_HANDSHAKE_MESSAGE) {
        finish(badMessage('handshake (too much data)'));
        return;
      }
      while (!settled && buffered.length >= 4) {
        const length = buffered.readUInt32BE(0);
        if (length < 1 || length > MAX_HANDSHAKE_MESSAGE) {
          finish(badMessage('handshake message length'));
          return;
        }
        if (buffered.length < 4 + length) return;
        const msg = buffered.subarray(4, 4 + length);
        buffered = buffered.subarray(4 + length);
        try {
          const keys = step(msg);
          if (keys) finish(null, { ...keys, leftover: Buffer.from(buffered) });
        } catch (err) {
          finish(err instanceof HandshakeError ? err : badMessage('handshake'));
        }
      }
    };
    const onEnd = (): void => finish(new HandshakeError('closed', 'peer closed during the handshake'));
    const onError = (err: NodeJS.ErrnoException): void =>
      finish(new HandshakeError('closed', `socket error during the handshake (${err.code ?? 'unknown'})`));

    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
  });
}

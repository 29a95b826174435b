/**
 * The preferred Unix transport: a connected socket the helper inherits at spawn. Giving
 * `child_process.spawn` an extra stdio entry `'pipe'` makes libuv create a socketpair; the service
 * keeps `child.stdio[3]`, the helper opens fd 3. No path exists, so no other process can connect,
 * and the socket closes when either process dies. The secret still authenticates both ends (the
 * same handshake as over a path), so a confused spawn cannot pair the wrong processes.
 */
import { fstatSync } from 'node:fs';
import net from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import { resolveChannelOptions, type ChannelOptions } from './channel-options.js';
import { Channel } from './channel.js';
import { checkSecret, clientHandshake, serverHandshake } from './handshake.js';
import { silentLogger } from '../log/logger.js';

/** The fd the helper finds its channel on. */
export const INHERITED_CHANNEL_FD = 3;

/**
 * `stdio` for spawning a helper: stdin a pipe (the secret goes there), stdout and stderr inherited,
 * fd 3 the channel's socketpair.
 */
export const HELPER_STDIO = ['pipe', 'inherit', 'inherit', 'pipe'] as const;

export interface InheritedChannelOptions<TIn> extends ChannelOptions<TIn> {
  helperId: string;
  /** At least 32 bytes; never logged. */
  secret: Buffer;
  handshakeTimeoutMs?: number;
}

/**
 * Service side: runs the handshake on the service's end of the socketpair (`child.stdio[3]`) and
 * resolves with the channel once the helper has proved it holds `secret` for `helperId`.
 */
export async function acceptInheritedChannel<TIn, TOut = TIn>(
  end: Readable | Writable | null | undefined,
  options: InheritedChannelOptions<TIn>,
): Promise<Channel<TIn, TOut>> {
  if (!(end instanceof net.Socket)) {
    throw new TypeError("the helper's channel end must be a net.Socket (spawn with stdio HELPER_STDIO)");
  }
  return acceptHelperChannel<TIn, TOut>(end, options);
}

/**
 * Service side over any connected stream (the inherited socket above, or a Windows named-pipe
 * instance): the server half of the handshake, then the channel.
 */
export async function acceptHelperChannel<TIn, TOut = TIn>(
  end: Duplex,
  options: InheritedChannelOptions<TIn>,
): Promise<Channel<TIn, TOut>> {
  checkSecret(options.secret);
  resolveChannelOptions(options, silentLogger);
  const keys = await serverHandshake(end, {
    secretFor: (id) => (id === options.helperId ? options.secret : undefined),
    timeoutMs: options.handshakeTimeoutMs,
    maxBufferedBytes: options.maxFrameBytes,
    logger: options.logger,
  });
  return new Channel<TIn, TOut>(end, keys, options);
}

/**
 * Helper side over any connected stream (a Windows named pipe the helper opened itself): the client
 * half of the handshake, then the channel.
 */
export async function connectHelperChannel<TIn, TOut = TIn>(
  end: Duplex,
  options: InheritedChannelOptions<TIn>,
): Promise<Channel<TIn, TOut>> {
  checkSecret(options.secret);
  resolveChannelOptions(options, silentLogger);
  const keys = await clientHandshake(end, {
    helperId: options.helperId,
    secret: options.secret,
    timeoutMs: options.handshakeTimeoutMs,
    maxBufferedBytes: options.maxFrameBytes,
  });
  return new Channel<TIn, TOut>(end, keys, options);
}

/** Helper side: opens the inherited socket (fd 3 by default) and runs the handshake on it. */
export async function connectInheritedChannel<TIn, TOut = TIn>(
  options: InheritedChannelOptions<TIn> & { fd?: number },
): Promise<Channel<TIn, TOut>> {
  if (process.platform === 'win32') throw new Error('an inherited channel is Unix-only; use a named pipe');
  checkSecret(options.secret);
  resolveChannelOptions(options, silentLogger);
  const fd = options.fd ?? INHERITED_CHANNEL_FD;
  if (!fstatSync(fd).isSocket()) throw new Error(`ipc: fd ${fd} is not a socket`);
  const socket = new net.Socket({ fd, readable: true, writable: true });
  const keys = await clientHandshake(socket, {
    helperId: options.helperId,
    secret: options.secret,
    timeoutMs: options.handshakeTimeoutMs,
    maxBufferedBytes: options.maxFrameBytes,
  });
  return new Channel<TIn, TOut>(socket, keys, options);
}

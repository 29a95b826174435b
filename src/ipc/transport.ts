/**
 * Path-based transports through node:net: a Unix socket path, or a Windows named pipe
 * (`\\.\pipe\porthole-…`). The server authenticates every client on its own; a client that fails
 * the handshake or later misbehaves loses its own connection and nothing else.
 *
 * Windows: node:net creates the pipe with the default DACL, which lets Everyone open it for reading;
 * nothing here restricts that (the Win32 issue will). See design/IPC.md.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { resolveChannelOptions, type ChannelOptions } from './channel-options.js';
import { Channel } from './channel.js';
import { HandshakeError, type HandshakeFailure } from './errors.js';
import { checkSecret, clientHandshake, serverHandshake } from './handshake.js';
import {
  isWindowsPipePath,
  prepareSocketPath,
  secureBoundSocket,
  type SocketOwner,
} from './unix-socket-path.js';
import { LogThrottle } from '../log/log-throttle.js';
import { type Logger, silentLogger } from '../log/logger.js';

export interface IpcServerOptions<TIn> extends ChannelOptions<TIn> {
  /** A Unix socket path (its directory must be private, see prepareSocketPath) or `\\.\pipe\name`. */
  path: string;
  /** The secret of a helper id, or undefined when the id is unknown. Never logged. */
  secretFor: (helperId: string) => Buffer | undefined;
  /** Unix only: the helper user allowed to connect; the socket and its directory are chown'ed to it. */
  owner?: SocketOwner;
  handshakeTimeoutMs?: number;
  /** Connections (handshaking or open) beyond this are refused at once. */
  maxConnections?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 64;

/** Accepts helpers on a path; emits `channel` for each authenticated one, `rejected` for the others. */
export class IpcServer<TIn, TOut = TIn> extends EventEmitter<{
  channel: [Channel<TIn, TOut>];
  rejected: [{ reason: HandshakeFailure | 'too_many_connections' }];
}> {
  readonly path: string;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly channels = new Set<Channel<TIn, TOut>>();
  private readonly log: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** Refused connections come at the rate of whoever connects: a few lines, then a count. */
  private readonly refusals: LogThrottle;

  constructor(private readonly options: IpcServerOptions<TIn>) {
    super();
    this.log = options.logger ?? silentLogger;
    const log = this.log;
    this.refusals = new LogThrottle(
      { ...log, error: (o, m) => log.warn(o, m) },
      { max: 10, windowMs: 60_000 },
    );
    resolveChannelOptions(options, this.log); // fail at construction, not on the first client
    const windowsPath = isWindowsPipePath(options.path);
    if (process.platform === 'win32' && !windowsPath)
      throw new TypeError('on Windows the path must be \\\\.\\pipe\\name');
    if (options.owner && process.platform === 'win32')
      throw new TypeError('owner applies to Unix sockets only');
    this.path = options.path;
    this.server = net.createServer({ pauseOnConnect: false }, this.onConnection);
  }

  /** Live connections, including those still in the handshake. */
  get connections(): number {
    return this.sockets.size;
  }

  async listen(): Promise<void> {
    const unix = process.platform !== 'win32';
    if (unix) await prepareSocketPath(this.path, this.options.owner);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err: NodeJS.ErrnoException) =>
      this.log.warn({ path: this.path, code: err.code }, 'ipc: server error'),
    );
    if (unix) await secureBoundSocket(this.path, this.options.owner);
    this.log.info({ path: this.path }, 'ipc: listening');
  }

  /**
   * Stops accepting, closes every channel gracefully (helpers see `peer_closed`), drops connections
   * still in the handshake, and removes the socket file (Unix).
   */
  async close(): Promise<void> {
    this.refusals.close();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const channel of this.channels) channel.close();
    for (const socket of this.sockets)
      if (![...this.channels].some((c) => c.usesSocket(socket))) socket.destroy();
    await stopped;
  }

  private readonly onConnection = (socket: net.Socket): void => {
    if (this.sockets.size >= (this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS)) {
      socket.destroy();
      this.refusals.warn({ path: this.path }, 'ipc: connection refused, too many connections');
      this.emit('rejected', { reason: 'too_many_connections' });
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    serverHandshake(socket, {
      secretFor: this.options.secretFor,
      timeoutMs: this.options.handshakeTimeoutMs,
      maxBufferedBytes: this.options.maxFrameBytes,
      logger: this.log,
    }).then(
      (keys) => {
        const channel = new Channel<TIn, TOut>(socket, keys, this.options);
        this.channels.add(channel);
        void channel.closed.then(() => this.channels.delete(channel));
        this.log.info({ helperId: keys.helperId }, 'ipc: helper authenticated');
        try {
          this.emit('channel', channel);
        } catch (err) {
          this.log.warn({ helperId: keys.helperId, error: String(err) }, "ipc: 'channel' listener threw");
        }
      },
      (err: unknown) => {
        const reason = err instanceof HandshakeError ? err.reason : 'bad_message';
        this.refusals.warn({ path: this.path, reason }, 'ipc: handshake failed');
        this.emit('rejected', { reason });
      },
    );
  };
}

export interface ConnectIpcOptions<TIn> extends ChannelOptions<TIn> {
  path: string;
  helperId: string;
  /** At least 32 bytes; never logged. */
  secret: Buffer;
  handshakeTimeoutMs?: number;
}

/** Helper side: connects to `path`, runs the handshake, and resolves with the open channel. */
export async function connectIpc<TIn, TOut = TIn>(
  options: ConnectIpcOptions<TIn>,
): Promise<Channel<TIn, TOut>> {
  checkSecret(options.secret);
  resolveChannelOptions(options, silentLogger);
  const socket = net.createConnection(options.path);
  const keys = await clientHandshake(socket, {
    helperId: options.helperId,
    secret: options.secret,
    timeoutMs: options.handshakeTimeoutMs,
    maxBufferedBytes: options.maxFrameBytes,
  });
  return new Channel<TIn, TOut>(socket, keys, options);
}

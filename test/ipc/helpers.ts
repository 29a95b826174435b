/** Shared set-up for the IPC tests: temporary socket paths, connected pairs, capturing loggers. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ProtocolError } from '../../src/protocol/validate.js';
import type { Channel } from '../../src/ipc/channel.js';
import type { ChannelOptions } from '../../src/ipc/channel-options.js';
import type { Logger } from '../../src/log/logger.js';
import {
  IpcServer,
  connectIpc,
  type ConnectIpcOptions,
  type IpcServerOptions,
} from '../../src/ipc/transport.js';

/** What the tests send: any object with a string `type`; anything else fails validation. */
export interface TestBody {
  type: string;
  [key: string]: unknown;
}

export function validateTestBody(value: unknown): TestBody {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ProtocolError('', 'not an object');
  if (typeof (value as { type?: unknown }).type !== 'string')
    throw new ProtocolError('type', 'expected a string');
  return value as TestBody;
}

/** A fresh private directory; the socket path is one level below so prepareSocketPath creates it. */
export async function tempSocketPath(): Promise<{ socketPath: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'porthole-ipc-'));
  return {
    socketPath: path.join(dir, 'ipc', 's.sock'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface LogEntry {
  level: 'warn' | 'info' | 'debug';
  obj: object;
  msg: string | undefined;
}

export function capturingLogger(): { logger: Pick<Logger, 'debug' | 'info' | 'warn'>; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj, msg });
    };
  return { logger: { warn: at('warn'), info: at('info'), debug: at('debug') }, entries };
}

export interface Pair {
  server: IpcServer<TestBody>;
  /** The service's end of the connection. */
  service: Channel<TestBody>;
  /** The helper's end. */
  helper: Channel<TestBody>;
  secret: Buffer;
  socketPath: string;
  close: () => Promise<void>;
}

/** A server on a fresh Unix socket and one authenticated helper connected to it. */
export async function openPair(
  options: {
    server?: Partial<IpcServerOptions<TestBody>>;
    helper?: Partial<ConnectIpcOptions<TestBody>>;
  } = {},
): Promise<Pair> {
  const { socketPath, cleanup } = await tempSocketPath();
  const secret = randomBytes(32);
  const server = new IpcServer<TestBody>({
    path: socketPath,
    secretFor: (id) => (id === 'helper-1' ? secret : undefined),
    validate: validateTestBody,
    ...options.server,
  });
  await server.listen();
  const accepted = new Promise<Channel<TestBody>>((resolve) => server.once('channel', resolve));
  const helper = await connectIpc<TestBody>({
    path: socketPath,
    helperId: 'helper-1',
    secret,
    validate: validateTestBody,
    ...options.helper,
  });
  const service = await accepted;
  return {
    server,
    service,
    helper,
    secret,
    socketPath,
    close: async () => {
      helper.close();
      service.close();
      await server.close();
      await cleanup();
    },
  };
}

/** Two connected raw sockets over a fresh Unix socket path. */
export async function rawSocketPair(): Promise<{ a: net.Socket; b: net.Socket; close: () => Promise<void> }> {
  const { socketPath, cleanup } = await tempSocketPath();
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.dirname(socketPath), { mode: 0o700 });
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const a = net.createConnection(socketPath);
  const b = await accepted;
  return {
    a,
    b,
    close: async () => {
      a.destroy();
      b.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cleanup();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Options for a channel built directly on a socket (lower-level tests). */
export const testChannelOptions: ChannelOptions<TestBody> = { validate: validateTestBody };

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isListening } from '../../../src/service/sessions/x-sockets.js';

/** A real Xvfb on a display number of its own, in the real /tmp/.X11-unix. */
export interface XvfbServer {
  display: number;
  socketPath: string;
  /** Ends the server the polite way: it removes its socket and lock file. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, leaving its socket file behind, as a crash would. */
  crash(): Promise<void>;
  /** Ends the server if it runs and removes what crash() left behind. */
  cleanUp(): Promise<void>;
}

const SOCKET_DIR = '/tmp/.X11-unix';

/**
 * Starts Xvfb on a random display from 90 up, skipping numbers in use (lock or socket file) and trying
 * another when a parallel test took the number first. Resolves once the server accepts connections.
 */
export async function startXvfb(extraArgs: string[] = []): Promise<XvfbServer> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const display = 90 + Math.floor(Math.random() * 900);
    if (existsSync(`/tmp/.X${display}-lock`) || existsSync(`${SOCKET_DIR}/X${display}`)) continue;
    const server = await tryStart(display, extraArgs);
    if (server) return server;
  }
  throw new Error('no free X display number found for Xvfb');
}

async function tryStart(display: number, extraArgs: string[]): Promise<XvfbServer | null> {
  const child = spawn(
    'Xvfb',
    [`:${display}`, '-screen', '0', '640x480x24', '-nolisten', 'tcp', ...extraArgs],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const socketPath = `${SOCKET_DIR}/X${display}`;
  for (let waited = 0; waited < 200; waited++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      if (/already active|server is already/i.test(stderr)) return null;
      throw new Error(`Xvfb :${display} exited: ${stderr}`);
    }
    if (existsSync(socketPath) && (await isListening(socketPath))) {
      return handle(display, socketPath, child, exited);
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`Xvfb :${display} did not start: ${stderr}`);
}

function handle(display: number, socketPath: string, child: ChildProcess, exited: Promise<void>): XvfbServer {
  let crashed = false;
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      crashed = signal === 'SIGKILL';
      child.kill(signal);
    }
    await exited;
  };
  return {
    display,
    socketPath,
    stop: () => end('SIGTERM'),
    crash: () => end('SIGKILL'),
    cleanUp: async () => {
      await end('SIGTERM');
      // Only a crashed server leaves files; after a clean exit the number may already be another's.
      if (!crashed) return;
      await rm(socketPath, { force: true });
      await rm(`/tmp/.X${display}-lock`, { force: true });
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';

export interface XDisplay {
  display: string;
  number: number;
  stop(): Promise<void>;
}

/**
 * Starts Xvfb and resolves once it accepts clients: on `number` when given, else on a free display
 * number Xvfb picks (-displayfd). Xvfb on the test machine leaves no /tmp/.X<n>-lock, so two Xvfbs
 * started at once with -displayfd can both take :0 (the later one's socket file replaces the earlier one's):
 * a test that runs beside others' can ask for a number of its own.
 */
export async function startXvfb(width = 1280, height = 720, number?: number): Promise<XDisplay> {
  const child = spawn(
    'Xvfb',
    [
      ...(number === undefined ? [] : [`:${number}`]),
      '-displayfd',
      '3',
      '-nolisten',
      'tcp',
      '-noreset',
      '-screen',
      '0',
      `${width}x${height}x24`,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const shown = await new Promise<number>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start: ${stderr.trim()}`)), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited with ${code}: ${stderr.trim()}`));
    });
    (child.stdio[3] as Readable).on('data', (d: Buffer) => {
      text += d.toString();
      if (!text.includes('\n')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(Number.parseInt(text, 10));
    });
  });
  return { display: `:${shown}`, number: shown, stop: () => stopChild(child) };
}

/**
 * A display number for an Xvfb started inside a network namespace of its own. Xvfb finds a free number
 * by binding the abstract socket `@/tmp/.X11-unix/X<n>`, and abstract sockets belong to a namespace, so
 * there it always gets :0 and its socket file replaces the one of whatever :0 runs outside (the file
 * system is shared). A random number in 300–899 whose socket file is absent keeps the two apart.
 */
export function privateDisplayNumber(): number {
  let number: number;
  do number = 300 + randomInt(600);
  while (existsSync(`/tmp/.X11-unix/X${number}`));
  return number;
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Something to look at and type into: a solid background, a clock and a shell. */
export function decorateDisplay(display: string, colour: string, title: string): ChildProcess[] {
  const env = { ...process.env, DISPLAY: display };
  spawn('xsetroot', ['-solid', colour], { env, stdio: 'ignore' }).on('error', () => undefined);
  const clock = spawn(
    'xterm',
    [
      '-T',
      `${title} clock`,
      '-geometry',
      '40x3+40+40',
      '-fa',
      'Monospace',
      '-fs',
      '20',
      '-e',
      'sh',
      '-c',
      'while :; do printf "\\r%s" "$(date +%T)"; sleep 1; done',
    ],
    { env, stdio: 'ignore' },
  );
  const shell = spawn(
    'xterm',
    ['-T', `${title} shell`, '-geometry', '90x20+40+200', '-fa', 'Monospace', '-fs', '12'],
    {
      env,
      stdio: 'ignore',
    },
  );
  for (const c of [clock, shell]) c.on('error', () => undefined);
  return [clock, shell];
}

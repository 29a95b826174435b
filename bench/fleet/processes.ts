/**
 * The `porthole api serve` instances of the fleet benchmark (from source, as the tests run them), each
 * on a free port with its files in a temp dir, plus the /proc readings the report needs (RSS,
 * open-file limit). PostgreSQL and Redis come from the test fixtures (test/fixtures/postgres.ts, redis.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PORTHOLE = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));

export interface ApiInstance {
  index: number;
  pid: number;
  /** http://127.0.0.1:port */
  url: string;
  /** ws://127.0.0.1:port/api/agent */
  agentUrl: string;
  logFile: string;
  child: ChildProcess;
  /** Resolves when the process has exited (any way). */
  exited: Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Whether this porthole's `api serve` has a `--redis` flag (the routing of issue 18). */
export function apiHasRedisFlag(): boolean {
  const r = spawnSync(process.execPath, [PORTHOLE, 'api', 'serve', '--help'], {
    env: { ...process.env, PORTHOLE_FROM_SOURCE: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return /--redis\b/.test(`${r.stdout}${r.stderr}`);
}

export async function startApiInstance(o: {
  index: number;
  /** postgres://user@host:port/db, without its password. */
  database: string;
  /** Handed over in PGPASSWORD, never on the command line. */
  pgPassword: string;
  /** Handed over in PORTHOLE_REDIS_URL (it holds a password), never on the command line. */
  redis?: string | undefined;
  workDir: string;
}): Promise<ApiInstance> {
  const logFile = join(o.workDir, `api-${o.index}.log`);
  const args = [
    PORTHOLE,
    'api',
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--database',
    o.database,
    '--data-dir',
    join(o.workDir, `data-${o.index}`),
    '--log-level',
    'warn',
  ];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      PORTHOLE_FROM_SOURCE: '1',
      PGPASSWORD: o.pgPassword,
      ...(o.redis ? { PORTHOLE_REDIS_URL: o.redis } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`API ${o.index} did not start in 60 s: ${tail(logFile)}`));
    }, 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`API ${o.index} exited at start: ${tail(logFile)}`));
    });
  });
  return {
    index: o.index,
    pid: child.pid as number,
    url,
    agentUrl: `${url.replace(/^http/, 'ws')}/api/agent`,
    logFile,
    child,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Resident set size of a process, in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] ? Number(m[1]) * 1024 : Number.NaN;
}

/** This process's soft limit on open files (children inherit it). */
export function openFileLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m?.[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m?.[1] ?? 1024);
}

export function makeWorkDir(): string {
  return mkdtempSync(join(tmpdir(), 'porthole-fleet-'));
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-2000) : '';
}

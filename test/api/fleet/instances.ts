/**
 * Helpers of the fleet tests: `porthole api serve` processes sharing one PostgreSQL database and one
 * Redis, the store opened in-process to seed devices and tokens, and viewer requests to any instance.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStoreBackend, type StoreBackend } from '../../../src/api/open-store.js';
import { silentLogger } from '../../../src/log/logger.js';
import { createTestDatabase, type TestDatabase } from '../../fixtures/postgres.js';
import { waitFor } from '../../fixtures/wait-for.js';

const bin = fileURLToPath(new URL('../../../bin/porthole.js', import.meta.url));

export interface ApiProcess {
  url: string;
  agentUrl: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait (a clean stop). */
  stop(): Promise<void>;
  /** SIGKILL and wait (a crash: no close frame, no key released). */
  kill(): Promise<void>;
}

/** Starts one instance; the database and Redis URLs go through the environment, not argv. */
export async function startApiProcess(
  env: { database: string; redis?: string },
  args: string[] = [],
): Promise<ApiProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-fleet-'));
  const child = spawn(
    process.execPath,
    [
      bin,
      'api',
      'serve',
      '--port',
      '0',
      '--static-dir',
      join(dir, 'no-viewer'),
      '--log-level',
      'info',
      ...args,
    ],
    {
      env: {
        ...process.env,
        PORTHOLE_API_DATA: dir,
        PORTHOLE_API_DATABASE: env.database,
        ...(env.redis ? { PORTHOLE_REDIS_URL: env.redis } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const m = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`porthole api exited with ${child.exitCode}`);
      return /listening on (\S+) \(agents: (\S+)\)/.exec(output);
    },
    { what: 'porthole api serve to listen', timeoutMs: 30_000, detail: () => output },
  );
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url: m[1] ?? '',
    agentUrl: m[2] ?? '',
    child,
    output: () => output,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
}

export interface FleetDb {
  db: TestDatabase;
  backend: StoreBackend;
  close(): Promise<void>;
}

/** A fresh database with the schema migrated, and a store handle on it for seeding. */
export async function openFleetDb(adminUrl: string): Promise<FleetDb> {
  const db = await createTestDatabase(adminUrl);
  const backend = await openStoreBackend({ dataDir: '/nonexistent', database: db.url, log: silentLogger });
  return {
    db,
    backend,
    async close() {
      await backend.close();
      await db.drop();
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the shape is what the test checks
}

export async function call(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the test reads the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

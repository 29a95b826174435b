/**
 * `npm run bench ipc`: the IPC channel over a real Unix socket, with the helper in its own process
 * (this file, started again with `child` as its first argument; its secret goes through stdin).
 * Measures request → response round trips (p50/p99) and pipelined one-way messages per second in
 * both directions, for 1 KiB and 64 KiB bodies.
 *
 * The channel's default rate limit (2 000 frames/s, burst 4 000) would close these connections by
 * design; the benchmark lifts it to measure what the channel itself can carry.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  IpcServer,
  connectIpc,
  generateSecret,
  readSecretFromStdin,
  writeSecretToStdin,
} from '../src/ipc/index.js';
import type { Channel, ChannelOptions } from '../src/ipc/index.js';
import { machineLine, percentile } from './report.js';

interface Body {
  type: string;
  data?: string;
  n?: number;
  size?: number;
}

const validate = (v: unknown): Body => {
  if (typeof v !== 'object' || v === null || typeof (v as Body).type !== 'string')
    throw new TypeError('bad body');
  return v as Body;
};

const UNLIMITED: Partial<ChannelOptions<Body>> = {
  rateLimit: { framesPerSecond: 1e9, burst: 1e9 },
  maxQueuedBytes: 256 * 1024 * 1024,
  idleTimeoutMs: 120_000,
  maxPendingRequests: 4096,
};
const SIZES = [1024, 64 * 1024];
const TARGET_P99_MS = 1;
const TARGET_ONE_WAY_PER_S = 50_000;

/** Sends `count` messages as fast as back-pressure allows. */
async function blast(channel: Channel<Body>, count: number, size: number): Promise<void> {
  const data = 'x'.repeat(size);
  for (let i = 0; i < count; i++) {
    if (!channel.send({ type: 'bulk', data })) await channel.drained();
  }
}

/** The helper process: echoes requests, counts messages, and blasts on demand. */
async function child(socketPath: string): Promise<void> {
  const secret = await readSecretFromStdin(process.stdin);
  const channel = await connectIpc<Body>({
    path: socketPath,
    helperId: 'bench',
    secret,
    validate,
    ...UNLIMITED,
  });
  let received = 0;
  channel.onMessage(() => {
    received += 1;
  });
  channel.onRequest(async (body) => {
    if (body.type === 'echo') return body;
    if (body.type === 'count') return { type: 'count', n: received };
    if (body.type === 'blast') {
      await blast(channel, body.n ?? 0, body.size ?? 0);
      return { type: 'blasted' };
    }
    return { type: 'unknown' };
  });
  await channel.closed;
  process.exit(0);
}

async function roundTrips(channel: Channel<Body>, size: number, count: number): Promise<number[]> {
  const data = 'x'.repeat(size);
  // Warm-up long enough for both processes' JIT to settle; otherwise compilation shows up as p99.
  for (let i = 0; i < 3_000; i++) await channel.request({ type: 'echo', data });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    await channel.request({ type: 'echo', data });
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

/** service → helper: sends `count` messages, then asks the helper how many arrived. */
async function oneWayToHelper(channel: Channel<Body>, size: number, count: number): Promise<number> {
  const before = (await channel.request({ type: 'count' })).n ?? 0;
  const t = performance.now();
  await blast(channel, count, size);
  const after = (await channel.request({ type: 'count' }, { timeoutMs: 120_000 })).n ?? 0;
  if (after - before !== count) throw new Error(`helper counted ${after - before} of ${count}`);
  return count / ((performance.now() - t) / 1000);
}

/** helper → service: asks the helper to send `count` messages and times their arrival. */
async function oneWayFromHelper(channel: Channel<Body>, size: number, count: number, got: { n: number }) {
  const start = got.n;
  const t = performance.now();
  await channel.request({ type: 'blast', n: count, size }, { timeoutMs: 120_000 });
  if (got.n - start !== count) throw new Error(`service counted ${got.n - start} of ${count}`);
  return count / ((performance.now() - t) / 1000);
}

export async function run(): Promise<{ title: string; markdown: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'porthole-bench-'));
  const socketPath = path.join(dir, 'ipc', 's.sock');
  const secret = generateSecret();
  const server = new IpcServer<Body>({
    path: socketPath,
    secretFor: (id) => (id === 'bench' ? secret : undefined),
    validate,
    ...UNLIMITED,
  });
  await server.listen();
  const accepted = new Promise<Channel<Body>>((resolve) => server.once('channel', resolve));
  const helper = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', socketPath],
    {
      stdio: ['pipe', 'inherit', 'inherit'],
    },
  );
  await writeSecretToStdin(helper.stdin, secret);
  const channel = await accepted;
  const got = { n: 0 };
  channel.onMessage(() => (got.n += 1));

  const rows: string[] = [];
  const misses: string[] = [];
  try {
    for (const size of SIZES) {
      const kib = `${size / 1024} KiB`;
      const rtt = await roundTrips(channel, size, size <= 1024 ? 5_000 : 2_000);
      const p50 = percentile(rtt, 50);
      const p99 = percentile(rtt, 99);
      const count = size <= 1024 ? 100_000 : 5_000;
      const toHelper = await oneWayToHelper(channel, size, count);
      const fromHelper = await oneWayFromHelper(channel, size, count, got);
      rows.push(
        `| ${kib} | ${p50.toFixed(3)} | ${p99.toFixed(3)} | ${Math.round(toHelper).toLocaleString('en')} | ` +
          `${Math.round(fromHelper).toLocaleString('en')} | ${((toHelper * size) / 2 ** 20).toFixed(0)} |`,
      );
      if (size === 1024) {
        if (p99 >= TARGET_P99_MS) misses.push(`p99 round trip ${p99.toFixed(3)} ms ≥ ${TARGET_P99_MS} ms`);
        const slower = Math.min(toHelper, fromHelper);
        if (slower <= TARGET_ONE_WAY_PER_S)
          misses.push(`one-way ${Math.round(slower)} msgs/s ≤ ${TARGET_ONE_WAY_PER_S}`);
      }
    }
  } finally {
    channel.close();
    await server.close();
    await new Promise((r) => (helper.exitCode === null ? helper.once('exit', r) : r(null)));
    await rm(dir, { recursive: true, force: true });
  }

  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
  const markdown = [
    `Machine: ${machineLine()}; load average during the run ${load} (1 / 5 / 15 min).`,
    '',
    'Service (this process) and helper (a child process) over a Unix socket path, authenticated',
    'frames (HMAC-SHA256), msgpack bodies `{ type, data }` with a string of the given size. Round trip:',
    'one request at a time, echoed back. One-way: pipelined `send()` honouring back-pressure, timed until',
    'the receiver has counted every message. Rate limit lifted (see bench/ipc.bench.ts).',
    '',
    '| body | RTT p50 (ms) | RTT p99 (ms) | one-way service → helper (msgs/s) | one-way helper → service (msgs/s) | service → helper (MiB/s) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Targets (1 KiB): p99 round trip < ${TARGET_P99_MS} ms, > ${TARGET_ONE_WAY_PER_S.toLocaleString('en')} one-way msgs/s. ` +
      (misses.length === 0 ? 'Both met.' : `Missed: ${misses.join('; ')}.`),
  ].join('\n');
  return { title: 'IPC channel (src/ipc)', markdown };
}

if (process.argv[2] === 'child' && process.argv[1] === fileURLToPath(import.meta.url)) {
  await child(process.argv[3] ?? '');
}

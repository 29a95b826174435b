/**
 * `npm run bench service-rss`: the memory an idle `porthole service` holds, next to its helper's.
 *
 * The service runs as installed: built (tsc into a temporary directory, started through bin/porthole.js
 * there), linked to a test API over WebSocket, serving one X session (an Xvfb display) whose helper it
 * has spawned. Once the helper is ready both idle IDLE_MS, long enough for V8's memory reducer (its
 * first pass comes ~8 s after start), then VmRSS is read SAMPLES times, a second apart. A run's figure
 * is the median of its samples; the table gives the median and range over the runs. For comparison:
 * an empty Node process, the same service run from the sources through tsx (a checkout without a
 * build), and, with BENCH_BASELINE=<git ref>, the service of that commit, built and from the sources.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionInfo } from '../src/protocol/api.js';
import { isAlive, listProcesses } from '../test/fixtures/processes.js';
import { startTestApi } from '../test/fixtures/test-api.js';
import { waitFor } from '../test/fixtures/wait-for.js';
import { startXvfb, type XvfbHandle } from '../test/fixtures/xvfb.js';
import { parseProcStat } from './e2e/proc-cpu.js';
import { machineLine, percentile } from './report.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const IDLE_MS = 10_000;
const SAMPLES = 15;
const SAMPLE_INTERVAL_MS = 1000;
const GOAL_MIB = 60;
const DEVICE_ID = 'bench-device';
const TOKEN = 'bench-token-0123456789abcdef';

interface Memory {
  /** VmRSS: every resident page, the node binary's shared text included. */
  rssKiB: number;
  /** RssAnon: the resident memory this process alone holds (heaps, stacks). */
  anonKiB: number;
}

interface Subject {
  label: string;
  runs: number;
  /** argv after node; undefined: the porthole service of `root`. */
  argv?: string[];
  root?: string;
  env: NodeJS.ProcessEnv;
}

interface Measured {
  subject: Subject;
  service: Memory[];
  helper: Memory[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function memoryOf(pid: number): Memory {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    throw new Error(`process ${pid} exited while it was measured`, { cause: err });
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rssKiB: kib('VmRSS'), anonKiB: kib('RssAnon') };
}

function medianMemory(samples: Memory[]): Memory {
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  return { rssKiB: median(samples.map((m) => m.rssKiB)), anonKiB: median(samples.map((m) => m.anonKiB)) };
}

/**
 * tsc of `src` into `out`/dist, with bin/ and package.json beside it: an installed porthole's layout.
 * Emit only (--noCheck): a type error elsewhere in a tree being edited is `npm run typecheck`'s business.
 */
function build(src: string, out: string): void {
  const tsconfig = path.join(src, 'tsconfig.build.json');
  execFileSync(process.execPath, [TSC, '-p', tsconfig, '--noCheck', '--outDir', path.join(out, 'dist')], {
    stdio: 'inherit',
  });
  cpSync(path.join(src, 'bin'), path.join(out, 'bin'), { recursive: true });
  cpSync(path.join(src, 'package.json'), path.join(out, 'package.json'));
  symlinkSync(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'));
}

/** The tree of commit `ref`, built into `out`; resolves to the short commit id. */
function buildCommit(ref: string, scratch: string, out: string): string {
  const commit = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', `${ref}^{commit}`], {
    encoding: 'utf8',
  }).trim();
  const tar = execFileSync('git', ['-C', REPO, 'archive', '--format=tar', commit], {
    maxBuffer: 1 << 30,
  });
  mkdirSync(scratch, { recursive: true });
  execFileSync('tar', ['-x', '-C', scratch], { input: tar });
  symlinkSync(path.join(REPO, 'node_modules'), path.join(scratch, 'node_modules'));
  build(scratch, out);
  return commit;
}

async function stop(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(kill);
}

/** Per-sample medians of one run: the process (and its helper) after IDLE_MS of idling. */
async function idleSamples(pids: number[]): Promise<Memory[]> {
  await sleep(IDLE_MS);
  const samples: Memory[][] = pids.map(() => []);
  for (let i = 0; i < SAMPLES; i++) {
    pids.forEach((pid, j) => samples[j]?.push(memoryOf(pid)));
    await sleep(SAMPLE_INTERVAL_MS);
  }
  return samples.map(medianMemory);
}

/** An empty Node process: the floor every Node program starts from. */
async function runReference(subject: Subject): Promise<Memory> {
  const child = spawn(process.execPath, subject.argv ?? [], { env: subject.env, stdio: 'ignore' });
  try {
    const [memory] = await idleSamples([child.pid as number]);
    return memory as Memory;
  } finally {
    await stop(child);
  }
}

/** One service run: its own test API and config, one X session, until its helper is ready. */
async function runService(subject: Subject, x: XvfbHandle, dir: string): Promise<[Memory, Memory]> {
  const api = await startTestApi({ deviceId: DEVICE_ID, token: TOKEN });
  const config = path.join(dir, 'porthole.json');
  writeFileSync(
    config,
    JSON.stringify({
      logLevel: 'warn',
      sessions: { configured: [{ display: x.display, username: 'bench' }] },
    }),
  );
  writeFileSync(path.join(dir, 'token'), TOKEN);
  const bin = path.join(subject.root as string, 'bin', 'porthole.js');
  const args = ['service', '--config', config, '--api-url', api.url, '--device-id', DEVICE_ID];
  const child = spawn(process.execPath, [bin, ...args, '--token-file', path.join(dir, 'token')], {
    env: subject.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // The helpers this service spawned (not those of another service that found the same display).
  const helpers = () =>
    listProcesses((a) => a.includes('helper')).filter((p) => {
      try {
        return parseProcStat(readFileSync(`/proc/${p.pid}/stat`, 'utf8')).ppid === child.pid;
      } catch {
        return false;
      }
    });
  let seq = 0;
  let helperPid: number | undefined;
  try {
    await waitFor(
      async () => {
        const r = await api.command({ id: `ls-${++seq}`, type: 'list_sessions' }, 5000);
        return r.ok && (r.result as { sessions: SessionInfo[] }).sessions.some((s) => s.helperConnected);
      },
      { what: `a ready helper (${subject.label})`, timeoutMs: 60_000, intervalMs: 200, detail: () => output },
    );
    helperPid = helpers()[0]?.pid;
    if (helperPid === undefined) throw new Error(`no helper process on ${x.display}`);
    const [service, helperMemory] = await idleSamples([child.pid as number, helperPid]);
    return [service as Memory, helperMemory as Memory];
  } finally {
    await stop(child);
    await api.close();
    const pid = helperPid;
    if (pid !== undefined) await waitFor(() => !isAlive(pid), { what: 'the helper to exit' });
  }
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

function cell(memories: Memory[], field: keyof Memory): string {
  if (memories.length === 0) return '–';
  const sorted = memories.map((m) => m[field]).sort((a, b) => a - b);
  const range = `${mib(sorted[0] as number)}–${mib(sorted[sorted.length - 1] as number)}`;
  return `${mib(percentile(sorted, 50))} (${range})`;
}

export async function run(): Promise<{ title: string; markdown: string }> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'porthole-bench-rss-'));
  const builtEnv = { ...process.env };
  delete builtEnv.PORTHOLE_FROM_SOURCE;
  const x = await startXvfb({ screens: [{ w: 1280, h: 720 }] });
  const results: Measured[] = [];
  try {
    console.log('bench service-rss: building this tree…');
    build(REPO, path.join(scratch, 'current'));
    const subjects: Subject[] = [
      {
        label: 'empty Node process (`node -e "setInterval(…)"`)',
        runs: 3,
        argv: ['-e', 'setInterval(() => {}, 1000)'],
        env: builtEnv,
      },
      { label: 'built, this tree', runs: 7, root: path.join(scratch, 'current'), env: builtEnv },
      {
        label: 'from the sources through tsx, this tree',
        runs: 3,
        root: REPO,
        env: { ...process.env, PORTHOLE_FROM_SOURCE: '1' },
      },
    ];
    const baseline = process.env.BENCH_BASELINE;
    if (baseline) {
      console.log(`bench service-rss: building ${baseline}…`);
      const commit = buildCommit(
        baseline,
        path.join(scratch, 'baseline-src'),
        path.join(scratch, 'baseline'),
      );
      subjects.splice(2, 0, {
        label: `built, ${commit} (BENCH_BASELINE)`,
        runs: 7,
        root: path.join(scratch, 'baseline'),
        env: builtEnv,
      });
      subjects.push({
        label: `from the sources through tsx, ${commit} (BENCH_BASELINE)`,
        runs: 3,
        root: path.join(scratch, 'baseline-src'),
        env: { ...process.env, PORTHOLE_FROM_SOURCE: '1' },
      });
    }
    results.push(...subjects.map((subject) => ({ subject, service: [], helper: [] })));
    // Round-robin, so that whatever else the machine does at the time weighs on every subject alike.
    for (let i = 0; i < Math.max(...subjects.map((s) => s.runs)); i++) {
      for (const measured of results) {
        const { subject } = measured;
        if (i >= subject.runs) continue;
        console.log(`bench service-rss: ${subject.label}, run ${i + 1} of ${subject.runs}`);
        if (subject.argv) measured.service.push(await runReference(subject));
        else {
          const [service, helper] = await runService(subject, x, scratch);
          measured.service.push(service);
          measured.helper.push(helper);
        }
      }
    }
  } finally {
    await x.stop();
    rmSync(scratch, { recursive: true, force: true });
  }

  const built = results.find((r) => r.subject.label === 'built, this tree');
  const builtRss = percentile(
    (built?.service ?? []).map((m) => m.rssKiB).sort((a, b) => a - b),
    50,
  );
  const markdown = [
    machineLine(),
    '',
    `An idle \`porthole service\` linked to a test API over WebSocket, serving one X session (Xvfb 1280×720) whose helper it has spawned; no desktop open. After the helper is ready both idle ${IDLE_MS / 1000} s, then VmRSS is read ${SAMPLES} times a second apart; a run's figure is the median of its samples, and the table shows the median (min–max) over the runs, in MiB (VmRSS / 1024). *Anonymous* (RssAnon) is the memory the process alone holds; the rest of RSS is mostly the pages of the node binary the process has touched, shared with every Node process on the machine. See bench/service-rss.bench.ts.`,
    '',
    '| process | runs | service RSS (MiB) | service anonymous (MiB) | helper RSS (MiB) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.subject.label} | ${r.subject.runs} | ${cell(r.service, 'rssKiB')} | ${cell(r.service, 'anonKiB')} | ${cell(r.helper, 'rssKiB')} |`,
    ),
    '',
    "The anonymous part moves by several MiB between runs with the state of V8's and malloc's heaps when sampled (see the ranges): differences of a MiB or two between rows are within that noise.",
    '',
    'Which modules the service loads (no helper code, no node-datachannel, no demo stack, no API server) is checked by test/cli/service-footprint.test.ts.',
    '',
    `Goal: the built service's idle RSS below ${GOAL_MIB} MiB: ` +
      (builtRss < GOAL_MIB * 1024 ? `met (${mib(builtRss)} MiB).` : `**missed** (${mib(builtRss)} MiB).`),
  ].join('\n');
  return { title: 'Idle memory of the service process (service-rss)', markdown };
}

/**
 * `npm run bench:fleet [-- flags]` (bench/fleet/options.ts): the API at fleet scale. A private
 * PostgreSQL cluster and redis-server, two `porthole api serve` processes on the same database, N
 * devices added through the store, N simulated agents (bench/fleet/sim-agent*.ts) in one or two worker
 * processes spread over both instances, and viewers posting start_desktop at a steady open-loop rate
 * through either instance. Measures: agents held per instance, RSS per agent connection, latency of
 * local and cross-instance start_desktop, the stepped ramp's rate at which p99 passes 100 ms, and the
 * time for every agent to be back after one instance is SIGKILLed.
 *
 * `--redis` is handed to the instances only when this porthole's `api serve --help` lists it; without
 * it a cross-instance request is refused (409 device_offline) and the table says so.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/log/logger.js';
import { openPgBackend } from '../src/api/postgres/pg-backend.js';
import { createTestDatabase, startPrivatePostgres } from '../test/fixtures/postgres.js';
import { listProcesses } from '../test/fixtures/processes.js';
import { startPrivateRedis } from '../test/fixtures/redis.js';
import { treeCpuSeconds } from './e2e/proc-cpu.js';
import { fleetOptions, FLEET_USAGE, type FleetOptions } from './fleet/options.js';
import {
  apiHasRedisFlag,
  makeWorkDir,
  openFileLimit,
  rssBytes,
  startApiInstance,
  type ApiInstance,
} from './fleet/processes.js';
import { FleetRoster, type RouteLabel } from './fleet/roster.js';
import { bytesPerAgent, rampNext, rampRates, rampVerdict, type RampStep } from './fleet/results.js';
import { fleetMarkdown, type FleetReport } from './fleet/report-table.js';
import { ViewerLoad, type LoadResult } from './fleet/viewer-load.js';
import type { FromWorker, ToWorker, WorkerAgent } from './fleet/worker-messages.js';
import { machineLine, percentile } from './report.js';

const INSTANCES = 2;
const P99_LIMIT_MS = 100;
const IDLE_MS = 10_000;
const RSS_SAMPLES = 5;
const WARMUP_S = 3;
const STORM_LIMIT_MS = 90_000;
const WORKER = fileURLToPath(new URL('./fleet/agent-worker.ts', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (text: string) => console.log(`fleet: ${text}`);

export async function run(args: string[] = []): Promise<{ title: string; markdown: string; dry?: boolean }> {
  let o: FleetOptions;
  try {
    o = fleetOptions(args);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nusage: ${FLEET_USAGE}`, { cause: err });
  }
  // After a failover the survivor holds every agent, and the workers hold their share each.
  const fdNeeded = o.agents + 2048;
  if (openFileLimit() < fdNeeded) {
    throw new Error(
      `the open-file limit (ulimit -n) is ${openFileLimit()}; ${o.agents} agents need ${fdNeeded}: ` +
        `run \`ulimit -n ${fdNeeded}\` (or more) in this shell first`,
    );
  }
  const loadBefore = loadavg()[0] ?? 0;
  const work = makeWorkDir();
  const cleanups: (() => Promise<unknown>)[] = [async () => rmSync(work, { recursive: true, force: true })];
  const workers: ChildProcess[] = [];
  const instances: ApiInstance[] = [];
  // Ctrl+C: stop what was started (the API instances, the database, Redis) before leaving.
  const onInterrupt = () => {
    say('interrupted: stopping everything it started');
    void runCleanups(cleanups).finally(() => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  try {
    const routing = apiHasRedisFlag();
    say(`routing over Redis: ${routing ? 'yes (api serve --redis)' : 'no (this porthole has no --redis)'}`);
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    const db = await createTestDatabase(pg.url);
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.destroy());
    const dbUrl = new URL(db.url);
    dbUrl.password = '';

    // Devices through the store (what `api device add` does), many at once over one pool.
    const seedStart = performance.now();
    const backend = await openPgBackend(db.url, { log: silentLogger, poolMax: 16 });
    const agents: { deviceId: string; token: string }[] = [];
    let viewerToken: string;
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < o.agents) {
            const n = ++next;
            const { device, token } = await backend.store.addDevice(`fleet-${String(n).padStart(6, '0')}`);
            agents.push({ deviceId: device.id, token });
          }
        }),
      );
      viewerToken = (await backend.store.issueViewerToken('fleet-bench')).token;
    } finally {
      await backend.close();
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;
    say(`${agents.length} devices added in ${seedSeconds.toFixed(1)} s`);

    cleanups.push(() => Promise.all(instances.map((a) => a.stop())));
    for (let i = 0; i < INSTANCES; i++) {
      instances.push(
        await startApiInstance({
          index: i,
          database: dbUrl.toString(),
          pgPassword: pg.password,
          redis: routing ? redis.url : undefined,
          workDir: work,
        }),
      );
    }
    say(`API instances at ${instances.map((a) => a.url).join(', ')}`);
    // V8's memory reducer first runs ~8 s after start (bench/service-rss.bench.ts): settle, then take
    // the median of a few readings, before and after the agents.
    await sleep(IDLE_MS);
    const rssIdle = await medianRss(instances);

    // Agents: worker w takes every W-th agent; agent i tries instance i mod 2 first.
    const roster = new FleetRoster(INSTANCES);
    const perWorker: WorkerAgent[][] = Array.from({ length: o.workers }, () => []);
    agents.forEach((a, i) => perWorker[i % o.workers]?.push({ ...a, firstIndex: i % INSTANCES }));
    const connectStart = Date.now();
    for (const list of perWorker) {
      const w = fork(WORKER, [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      workers.push(w);
      w.on('message', (m: FromWorker) => {
        if (m.type === 'states') roster.apply(m.changes);
      });
      await new Promise<void>((resolve) => w.once('message', () => resolve()));
      const start: ToWorker = {
        type: 'start',
        urls: instances.map((a) => a.agentUrl),
        agents: list,
        connectPerSecond: o.connectPerSecond / o.workers,
      };
      w.send(start);
    }
    cleanups.push(async () => {
      for (const w of workers) {
        if (w.connected) w.send({ type: 'stop' } satisfies ToWorker);
      }
      await sleep(500);
      for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    });
    const connectBudget = (o.agents / o.connectPerSecond) * 1000 + 60_000;
    await waitUntil(
      () => roster.online === o.agents,
      connectBudget,
      () => `${roster.online}/${o.agents} agents connected`,
    );
    const connectSeconds = (roster.lastChangeAt - connectStart) / 1000;
    say(`${o.agents} agents connected in ${connectSeconds.toFixed(1)} s; held ${roster.held().join(' / ')}`);
    await sleep(IDLE_MS);
    const rssAgents = await medianRss(instances);
    const held = roster.held();

    const apiUrls = instances.map((a) => a.url);
    const loadAgent = new ViewerLoad(apiUrls);
    cleanups.push(async () => loadAgent.close());
    const deviceIds = agents.map((a) => a.deviceId);
    const mix: RouteLabel[] = ['local', 'cross'];
    const phase = (rate: number, seconds: number, labels: readonly RouteLabel[]): Promise<LoadResult> =>
      loadAgent.run({
        apiUrls,
        viewerToken,
        deviceIds,
        roster,
        rate,
        durationMs: seconds * 1000,
        mix: labels,
        drainMs: 35_000,
        // FLEET_DEBUG=1: print each request slower than 50 ms (when it left, through which instance).
        ...(process.env.FLEET_DEBUG
          ? {
              onAnswer: (a: { label: string; via: number; sentAtMs: number; ms: number }) => {
                if (a.ms > 50)
                  say(
                    `slow ${a.label} via ${a.via} at +${(a.sentAtMs / 1000).toFixed(2)} s: ${a.ms.toFixed(0)} ms`,
                  );
              },
            }
          : {}),
      });

    say(`warm-up ${WARMUP_S} s at ${o.rate}/s`);
    await phase(o.rate, WARMUP_S, ['local']);
    say(`steady: ${o.rate} start_desktop/s for ${o.steadySeconds} s, half cross-instance`);
    const cpuPids = [...instances.map((a) => a.pid), ...workers.map((w) => w.pid as number)];
    const pgPids = listProcesses((argv) => argv.join(' ').includes(`-p ${pg.port}`)).map((p) => p.pid);
    const cpuBefore = cpuPids.map((p) => treeCpuSeconds([p]));
    const pgCpuBefore = treeCpuSeconds(pgPids);
    // The viewers' own event loop: a stall here is the machine's (or the client's), not the API's.
    const clientLoop = monitorEventLoopDelay({ resolution: 10 });
    clientLoop.enable();
    const steadyStart = performance.now();
    const steady = await phase(o.rate, o.steadySeconds, mix);
    const steadyWall = (performance.now() - steadyStart) / 1000;
    clientLoop.disable();
    const clientDelay = { p99: clientLoop.percentile(99) / 1e6, max: clientLoop.max / 1e6 };
    const cpu = cpuPids.map((p, i) => (treeCpuSeconds([p]) - (cpuBefore[i] ?? 0)) / steadyWall);
    const pgCpu = (treeCpuSeconds(pgPids) - pgCpuBefore) / steadyWall;

    // The ramp sends what can succeed: both kinds with routing, local requests alone without.
    const rampMix: RouteLabel[] = routing ? mix : ['local'];
    const ramp: RampStep[] = [];
    const rates = rampRates(o.rate, o.rampMax);
    for (
      let rate = rampNext(ramp, rates, P99_LIMIT_MS);
      rate !== undefined;
      rate = rampNext(ramp, rates, P99_LIMIT_MS)
    ) {
      const r = await phase(rate, o.rampStepSeconds, rampMix);
      const step: RampStep = { rate, summary: r.all };
      ramp.push(step);
      say(`ramp ${rate}/s: p99 ${step.summary.p99.toFixed(1)} ms, ${step.summary.ok} ok`);
      await sleep(1000);
    }

    let storm: FleetReport['storm'];
    if (!o.noFailover) {
      const victim = instances[1] as ApiInstance;
      const moved = roster.held()[1] ?? 0;
      say(`SIGKILL of instance 1 (${moved} agents)`);
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await victim.exited;
      const back = await waitUntil(
        () => roster.held()[0] === o.agents,
        STORM_LIMIT_MS,
        () => `${roster.held()[0]}/${o.agents} on the survivor`,
      ).then(
        () => true,
        () => false,
      );
      const seconds = (roster.lastChangeAt - killedAt) / 1000;
      const confirmed = await onlineOn(instances[0] as ApiInstance, viewerToken);
      const after = await phase(o.rate, Math.min(5, o.steadySeconds), ['local']);
      storm = {
        moved,
        back,
        seconds,
        heldAfter: roster.held()[0] ?? 0,
        confirmedOnline: confirmed,
        after: after.local,
      };
      say(
        `storm: ${back ? 'all back' : 'NOT all back'} after ${seconds.toFixed(1)} s; API lists ${confirmed} online`,
      );
    }

    const report: FleetReport = {
      options: o,
      machine: machineLine(),
      date: new Date().toISOString().slice(0, 10),
      loadAverage: { before: loadBefore, after: loadavg()[0] ?? 0 },
      routing,
      seedSeconds,
      connectSeconds,
      held,
      rssIdle,
      rssAgents,
      perAgentBytes: held.map((h, i) => bytesPerAgent(rssIdle[i] ?? 0, rssAgents[i] ?? 0, h)),
      steady,
      clientDelay,
      cpu: { api: cpu.slice(0, INSTANCES), workers: cpu.slice(INSTANCES), postgres: pgCpu },
      ramp,
      verdict: rampVerdict(ramp, P99_LIMIT_MS),
      p99LimitMs: P99_LIMIT_MS,
      ...(storm ? { storm } : {}),
    };
    return {
      title: 'API at fleet scale: 2 instances, PostgreSQL, Redis (fleet)',
      markdown: fleetMarkdown(report),
      ...(o.quick ? { dry: true } : {}),
    };
  } catch (err) {
    for (const a of instances) say(`instance ${a.index} log tail: ${tailOf(a.logFile)}`);
    throw err;
  } finally {
    process.off('SIGINT', onInterrupt);
    await runCleanups(cleanups);
  }
}

async function runCleanups(cleanups: (() => Promise<unknown>)[]): Promise<void> {
  while (cleanups.length > 0) {
    const c = cleanups.pop() as () => Promise<unknown>;
    await c().catch((e: unknown) => say(`cleanup: ${String(e)}`));
  }
}

async function medianRss(instances: readonly ApiInstance[]): Promise<number[]> {
  const samples: number[][] = instances.map(() => []);
  for (let k = 0; k < RSS_SAMPLES; k++) {
    instances.forEach((a, i) => samples[i]?.push(rssBytes(a.pid)));
    await sleep(1000);
  }
  return samples.map((s) =>
    percentile(
      [...s].sort((a, b) => a - b),
      50,
    ),
  );
}

async function waitUntil(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`fleet: timed out after ${ms} ms: ${what()}`);
    await sleep(50);
  }
}

/** Devices the instance's own GET /api/devices lists online. */
async function onlineOn(api: ApiInstance, token: string): Promise<number> {
  const res = await fetch(`${api.url}/api/devices`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) return Number.NaN;
  const body = (await res.json()) as { devices: { online: boolean }[] };
  return body.devices.filter((d) => d.online).length;
}

function tailOf(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-1500);
  } catch {
    return '(no log)';
  }
}

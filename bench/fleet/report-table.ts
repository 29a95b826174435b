/** The fleet benchmark's section of design/BENCHMARKS.md, from one run's figures. */
import type { FleetOptions } from './options.js';
import {
  describeErrors,
  errorCount,
  errorRatio,
  type LatencySummary,
  type RampStep,
  type RampVerdict,
} from './results.js';

export interface FleetReport {
  options: FleetOptions;
  machine: string;
  /** YYYY-MM-DD */
  date: string;
  /** The machine's 1-minute load average before the bench started anything, and at its end. */
  loadAverage: { before: number; after: number };
  /** Whether the instances ran with `--redis` (cross-instance relay). */
  routing: boolean;
  seedSeconds: number;
  connectSeconds: number;
  /** Agents held by each instance once all were connected. */
  held: number[];
  rssIdle: number[];
  rssAgents: number[];
  perAgentBytes: number[];
  steady: Record<'local' | 'cross', LatencySummary>;
  /** The bench process's event-loop delay during the steady phase (ms): the machine's stalls. */
  clientDelay: { p99: number; max: number };
  /** CPU cores used during the steady phase, per process. */
  cpu: { api: number[]; workers: number[]; postgres: number };
  ramp: RampStep[];
  verdict: RampVerdict;
  p99LimitMs: number;
  storm?: {
    moved: number;
    back: boolean;
    seconds: number;
    heldAfter: number;
    confirmedOnline: number;
    after: LatencySummary;
  };
}

/** The issue's goals on this machine. */
export const GOALS = { agents: 5000, crossP99Ms: 20, atRate: 100, stormSeconds: 60 };

const mib = (b: number) => (b / 2 ** 20).toFixed(0);
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');

function latencyRow(name: string, s: LatencySummary): string {
  return `| ${name} | ${s.ok} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} | ${describeErrors(s.errors)} |`;
}

export function goalRows(r: FleetReport): { goal: string; measured: string; met: boolean; why?: string }[] {
  const total = r.held.reduce((a, b) => a + b, 0);
  const cross = r.steady.cross;
  const crossOk = cross.ok > 0 && errorRatio(cross) <= 0.01;
  const rows: { goal: string; measured: string; met: boolean; why?: string }[] = [
    {
      goal: `${GOALS.agents} agents across 2 instances`,
      measured: `${total} held (${r.held.join(' + ')})`,
      met: total >= GOALS.agents && r.held.every((h) => h > 0),
      ...(r.options.agents < GOALS.agents ? { why: `this run had ${r.options.agents} agents` } : {}),
    },
    {
      goal: `cross-instance p99 < ${GOALS.crossP99Ms} ms at ${GOALS.atRate} start_desktop/s`,
      measured: crossOk
        ? `p99 ${ms(cross.p99)} ms at ${r.options.rate}/s`
        : `${errorCount(cross)} of ${cross.ok + errorCount(cross)} failed (${describeErrors(cross.errors)})`,
      met: crossOk && cross.p99 < GOALS.crossP99Ms && r.options.rate >= GOALS.atRate,
      ...(!r.routing
        ? {
            why: 'this porthole has no `api serve --redis` yet: an instance cannot reach an agent held by the other',
          }
        : crossOk && cross.p99 >= GOALS.crossP99Ms
          ? { why: slowTailWhy(r) }
          : {}),
    },
  ];
  if (r.storm) {
    rows.push({
      goal: `all agents back within ${GOALS.stormSeconds} s after one instance dies`,
      measured: r.storm.back
        ? `${r.storm.moved} moved in ${r.storm.seconds.toFixed(1)} s`
        : `${r.storm.heldAfter} of ${r.options.agents} back after ${r.storm.seconds.toFixed(0)} s`,
      met: r.storm.back && r.storm.seconds <= GOALS.stormSeconds,
    });
  }
  return rows;
}

/** Why p99 missed while p50 did not: the stalls the run saw, the machine's and the API's own. */
function slowTailWhy(r: FleetReport): string {
  const parts = [
    `p50 was ${ms(r.steady.cross.p50)} ms; the tail is stalls: each instance's heartbeat sweep every 15 s ` +
      '(reads every device, pings every agent; design/API.md)',
  ];
  if (r.clientDelay.max >= GOALS.crossP99Ms) {
    parts.push(
      `and the shared machine (load average ${r.loadAverage.before.toFixed(1)}–${r.loadAverage.after.toFixed(1)} ` +
        `on 2 cores) stalled even the bench's own event loop by up to ${r.clientDelay.max.toFixed(0)} ms`,
    );
  }
  return parts.join(', ');
}

export function fleetMarkdown(r: FleetReport): string {
  const o = r.options;
  const lines: string[] = [];
  lines.push(
    `Run ${r.date} on ${r.machine}. \`npm run bench:fleet\`${o.quick ? ' --quick' : ''}: ${o.agents} simulated agents ` +
      `in ${o.workers} worker process(es), 2 \`porthole api serve\` processes (from source, \`--log-level warn\`) ` +
      `on one private PostgreSQL 15 cluster, a private redis-server; everything on this machine. ` +
      (r.routing
        ? 'The instances ran with Redis routing (`--redis`, given in `PORTHOLE_REDIS_URL`): a command for an agent held by the other instance is relayed through Redis.'
        : 'This porthole has no `api serve --redis` yet, so the instances ran without routing: a ' +
          'cross-instance start_desktop is refused (409 `device_offline`), which the table shows as it is.'),
  );
  lines.push('');
  lines.push(
    `The machine is shared: its 1-minute load average was ${r.loadAverage.before.toFixed(2)} before the ` +
      `bench started anything and ${r.loadAverage.after.toFixed(2)} at its end.`,
  );
  lines.push('');
  lines.push(
    `Devices added through the store: ${o.agents} in ${r.seedSeconds.toFixed(1)} s; agents connected ` +
      `(paced at ${o.connectPerSecond}/s) in ${r.connectSeconds.toFixed(1)} s.`,
  );
  lines.push('');
  lines.push(
    '| instance | agents held | RSS idle (MiB) | RSS with agents (MiB) | per agent connection (KiB) | CPU in steady phase (cores) |',
  );
  lines.push(
    '| -------- | ----------: | -------------: | --------------------: | -------------------------: | --------------------------: |',
  );
  r.held.forEach((h, i) =>
    lines.push(
      `| ${i} | ${h} | ${mib(r.rssIdle[i] ?? 0)} | ${mib(r.rssAgents[i] ?? 0)} | ${((r.perAgentBytes[i] ?? 0) / 1024).toFixed(1)} | ${(r.cpu.api[i] ?? 0).toFixed(2)} |`,
    ),
  );
  lines.push('');
  lines.push(
    `CPU of the rest during the steady phase: agent workers ${r.cpu.workers.map((c) => c.toFixed(2)).join(' + ')} cores, ` +
      `PostgreSQL ${r.cpu.postgres.toFixed(2)} cores (the machine has 2).`,
  );
  lines.push('');
  lines.push(
    `start_desktop through the viewer route (\`POST /api/devices/:id/desktop\`), ${o.rate}/s open loop for ${o.steadySeconds} s, alternating:`,
  );
  lines.push('');
  lines.push('| requests | ok | p50 (ms) | p99 (ms) | max (ms) | failures |');
  lines.push('| -------- | -: | -------: | -------: | -------: | -------- |');
  lines.push(latencyRow('local (agent on the instance asked)', r.steady.local));
  lines.push(latencyRow('cross-instance (agent on the other)', r.steady.cross));
  lines.push('');
  lines.push(
    `Meanwhile the viewers' own event loop (in the bench process) was delayed by up to ` +
      `${r.clientDelay.max.toFixed(0)} ms (p99 ${r.clientDelay.p99.toFixed(0)} ms): a request that ` +
      `left or was read late by as much is slow because of the machine, not the API.`,
  );
  lines.push('');
  lines.push(
    `Stepped ramp (${o.rampStepSeconds} s per step${o.rampStepSeconds % 15 === 0 ? ', a multiple of the 15 s heartbeat, so each step holds the same number of heartbeat sweeps' : ''}, ${r.routing ? 'local and cross-instance alternating' : 'local requests only'}; a step fails at p99 > ${r.p99LimitMs} ms or > 1 % failures, and is then run once more; the ramp stops when the repeat fails too):`,
  );
  lines.push('');
  lines.push('| offered (req/s) | ok | p50 (ms) | p99 (ms) | max (ms) | failures |');
  lines.push('| --------------: | -: | -------: | -------: | -------: | -------- |');
  for (const s of r.ramp) lines.push(latencyRow(String(s.rate), s.summary));
  lines.push('');
  const v = r.verdict;
  lines.push(
    v.firstOver !== undefined
      ? `p99 passes ${r.p99LimitMs} ms at **${v.firstOver} req/s** (${v.reason}); ${v.lastWithin !== undefined ? `the last step within was ${v.lastWithin} req/s` : 'no step stayed within'}.`
      : `p99 stayed within ${r.p99LimitMs} ms up to the ramp's end, **${v.lastWithin} req/s**.`,
  );
  lines.push('');
  if (r.storm) {
    const s = r.storm;
    lines.push(
      `Failover: instance 1 SIGKILLed while holding ${s.moved} agents; each agent has both URLs and tries the ` +
        `next after a close, as the service does with several \`urls\`, with its backoff (1 s base, half jitter). ` +
        (s.back
          ? `All ${o.agents} were held by instance 0 after **${s.seconds.toFixed(1)} s**`
          : `Only ${s.heldAfter} of ${o.agents} were back after ${s.seconds.toFixed(0)} s`) +
        `; instance 0's \`GET /api/devices\` then listed ${s.confirmedOnline} online. start_desktop through it ` +
        `right after: p50 ${ms(s.after.p50)} ms, p99 ${ms(s.after.p99)} ms, failures: ${describeErrors(s.after.errors)}.`,
    );
    lines.push('');
  }
  lines.push('| goal | measured | met |');
  lines.push('| ---- | -------- | --- |');
  for (const g of goalRows(r))
    lines.push(`| ${g.goal} | ${g.measured} | ${g.met ? 'yes' : `**no**${g.why ? `: ${g.why}` : ''}`} |`);
  return lines.join('\n');
}

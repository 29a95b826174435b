/**
 * Flags of `npm run bench:fleet -- [flags]`. The full run is the goal (5,000 agents, 100
 * start_desktop/s); `--quick` is a smoke test of the whole harness in about a minute that writes nothing
 * to design/BENCHMARKS.md.
 */
import { parseArgs } from 'node:util';

export interface FleetOptions {
  agents: number;
  /** start_desktop requests per second of the steady phase (half local, half cross-instance). */
  rate: number;
  steadySeconds: number;
  /**
   * Each ramp step's length; the ramp starts at `rate` and grows ×1.5 up to `rampMax`. The default is
   * the API's heartbeat interval (15 s), so every step holds one heartbeat sweep per instance: the
   * sweep stalls an instance's event loop (design/API.md), and steps that held one would otherwise
   * be compared with steps that did not.
   */
  rampStepSeconds: number;
  rampMax: number;
  /** Agent worker processes. */
  workers: number;
  /** Links opened per second at the start, over all workers. */
  connectPerSecond: number;
  quick: boolean;
  /** Skip the SIGKILL / reconnect part. */
  noFailover: boolean;
}

export const FULL: Omit<FleetOptions, 'quick'> = {
  agents: 5000,
  rate: 100,
  steadySeconds: 30,
  rampStepSeconds: 15,
  rampMax: 2000,
  workers: 2,
  connectPerSecond: 1000,
  noFailover: false,
};

export const QUICK: Omit<FleetOptions, 'quick'> = {
  agents: 200,
  rate: 20,
  steadySeconds: 5,
  rampStepSeconds: 3,
  rampMax: 45,
  workers: 1,
  connectPerSecond: 400,
  noFailover: false,
};

export const FLEET_USAGE =
  'npm run bench:fleet -- [--quick] [--agents N] [--rate R] [--steady-s S] [--ramp-step-s S] ' +
  '[--ramp-max R] [--workers W] [--connect-rate C] [--no-failover]';

export function fleetOptions(args: readonly string[]): FleetOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: 'boolean' },
      agents: { type: 'string' },
      rate: { type: 'string' },
      'steady-s': { type: 'string' },
      'ramp-step-s': { type: 'string' },
      'ramp-max': { type: 'string' },
      workers: { type: 'string' },
      'connect-rate': { type: 'string' },
      'no-failover': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const base = values.quick ? QUICK : FULL;
  const int = (flag: string, v: string | undefined, fallback: number, min: number, max: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) {
      throw new RangeError(`--${flag} must be an integer from ${min} to ${max}, got '${v}'`);
    }
    return n;
  };
  const rate = int('rate', values.rate, base.rate, 1, 100_000);
  return {
    quick: values.quick === true,
    agents: int('agents', values.agents, base.agents, 2, 100_000),
    rate,
    steadySeconds: int('steady-s', values['steady-s'], base.steadySeconds, 1, 600),
    rampStepSeconds: int('ramp-step-s', values['ramp-step-s'], base.rampStepSeconds, 1, 120),
    rampMax: int('ramp-max', values['ramp-max'], Math.max(base.rampMax, rate), rate, 1_000_000),
    workers: int('workers', values.workers, base.workers, 1, 16),
    connectPerSecond: int('connect-rate', values['connect-rate'], base.connectPerSecond, 1, 100_000),
    noFailover: values['no-failover'] === true,
  };
}

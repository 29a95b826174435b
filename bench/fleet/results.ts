/**
 * The fleet benchmark's figures: latency percentiles of a batch of requests, error counts by code, the
 * stepped ramp (which rate first pushes p99 over the limit) and the goals the issue sets.
 */
import { percentile } from '../report.js';

export interface LatencySummary {
  /** Requests answered 2xx. */
  ok: number;
  p50: number;
  p99: number;
  max: number;
  /** Failed requests by error code (`timeout`, `device_offline`, `http_503`, `generator_backlog`, …). */
  errors: Record<string, number>;
}

export function summarizeLatencies(
  okMs: readonly number[],
  errors: Record<string, number> = {},
): LatencySummary {
  const sorted = [...okMs].sort((a, b) => a - b);
  return {
    ok: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    errors: { ...errors },
  };
}

export function errorCount(s: LatencySummary): number {
  return Object.values(s.errors).reduce((a, b) => a + b, 0);
}

/** Fraction of requests that failed (0 when none were sent). */
export function errorRatio(s: LatencySummary): number {
  const total = s.ok + errorCount(s);
  return total === 0 ? 0 : errorCount(s) / total;
}

export interface RampStep {
  /** Requests per second offered (open loop: sent on schedule whatever the answers). */
  rate: number;
  summary: LatencySummary;
}

/** The rates of the stepped ramp: `start`, then each step `factor` times the last, up to `max`. */
export function rampRates(start: number, max: number, factor = 1.5): number[] {
  if (!(start > 0) || !(factor > 1)) throw new RangeError('ramp: start must be > 0 and factor > 1');
  const rates: number[] = [];
  for (let r = start; r <= max; r = Math.max(r + 1, Math.round(r * factor))) rates.push(Math.round(r));
  return rates;
}

/** A step that failed: p99 over the limit, or too many failed requests (which hide their latency). */
export function stepOverLimit(step: RampStep, limitMs: number, maxErrorRatio = 0.01): boolean {
  const s = step.summary;
  return s.ok === 0 || s.p99 > limitMs || errorRatio(s) > maxErrorRatio;
}

export interface RampVerdict {
  /** The highest rate whose step stayed within the limit (undefined: even the first failed). */
  lastWithin: number | undefined;
  /** The first rate that went over twice (undefined: the ramp ended within the limit). */
  firstOver: number | undefined;
  /** Why the first failing rate failed (its last run). */
  reason?: string;
}

/**
 * The rate to run next, or undefined when the ramp is over. A step over the limit is run once more
 * and the ramp stops only if the repeat fails too: on a shared 2-core machine one pause (a GC, a
 * heartbeat sweep, a neighbour's burst) can spoil a few seconds without being the API's limit.
 */
export function rampNext(
  steps: readonly RampStep[],
  rates: readonly number[],
  limitMs: number,
  maxErrorRatio = 0.01,
): number | undefined {
  const last = steps.at(-1);
  if (!last) return rates[0];
  if (stepOverLimit(last, limitMs, maxErrorRatio)) {
    const runs = steps.filter((s) => s.rate === last.rate).length;
    if (runs < 2) return last.rate;
    return undefined;
  }
  return rates.find((r) => r > last.rate);
}

/** Reads a ramp run by rampNext: a rate fails when every run of it went over the limit. */
export function rampVerdict(steps: readonly RampStep[], limitMs: number, maxErrorRatio = 0.01): RampVerdict {
  let lastWithin: number | undefined;
  const rates = [...new Set(steps.map((s) => s.rate))];
  for (const rate of rates) {
    const runs = steps.filter((s) => s.rate === rate);
    if (runs.some((s) => !stepOverLimit(s, limitMs, maxErrorRatio))) {
      lastWithin = rate;
      continue;
    }
    const s = (runs.at(-1) as RampStep).summary;
    const reason =
      s.ok === 0
        ? 'no request succeeded'
        : errorRatio(s) > maxErrorRatio
          ? `${(errorRatio(s) * 100).toFixed(1)} % of requests failed (${describeErrors(s.errors)})`
          : `p99 ${s.p99.toFixed(0)} ms`;
    return { lastWithin, firstOver: rate, reason };
  }
  return { lastWithin, firstOver: undefined };
}

export function describeErrors(errors: Record<string, number>): string {
  const parts = Object.entries(errors)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${n} ${code}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** Memory one agent connection costs an instance: its RSS growth over the agents it took on. */
export function bytesPerAgent(rssBefore: number, rssAfter: number, agents: number): number {
  return agents > 0 ? (rssAfter - rssBefore) / agents : Number.NaN;
}

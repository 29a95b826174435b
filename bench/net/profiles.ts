/**
 * The network profiles of the impaired-network harness (design/BENCHMARKS.md, "bench:net").
 *
 * `rttMs` and `jitterMs` are what a round trip gains: the router adds half to each direction
 * (rttMs / 2 ± jitterMs / 2), so `ping` across the link reads rttMs ± jitterMs. `loss` and `reorder`
 * apply to every packet in each direction (a round trip loses about twice `loss`). `rate` is a `tbf`
 * on the router's egress towards each side: its queue (`limit`) holds `latencyMs` of traffic at the
 * rate plus the burst, which is how deep a real link's buffer lets delay grow before it drops.
 */
import type { Impairment } from './impairment.js';

export interface RateLimit {
  bitsPerS: number;
  /** Bucket size: what may leave back to back after a pause. */
  burstBytes: number;
  /** How long the queue may hold a packet; sets `limit`. */
  latencyMs: number;
}

export interface NetProfile {
  name: ProfileName;
  rttMs: number;
  jitterMs: number;
  loss: number;
  reorder: number;
  rate?: RateLimit;
}

export const PROFILE_NAMES = ['lan', 'wifi', '4g', 'bad', 'thin'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const PROFILES: Record<ProfileName, NetProfile> = {
  lan: { name: 'lan', rttMs: 0, jitterMs: 0, loss: 0, reorder: 0 },
  wifi: { name: 'wifi', rttMs: 20, jitterMs: 5, loss: 0.005, reorder: 0 },
  '4g': {
    name: '4g',
    rttMs: 60,
    jitterMs: 20,
    loss: 0.01,
    reorder: 0.002,
    rate: { bitsPerS: 8_000_000, burstBytes: 16_000, latencyMs: 80 },
  },
  bad: {
    name: 'bad',
    rttMs: 120,
    jitterMs: 40,
    loss: 0.03,
    reorder: 0.005,
    rate: { bitsPerS: 2_000_000, burstBytes: 6_000, latencyMs: 200 },
  },
  thin: {
    name: 'thin',
    rttMs: 40,
    jitterMs: 0,
    loss: 0,
    reorder: 0,
    rate: { bitsPerS: 1_000_000, burstBytes: 3_000, latencyMs: 250 },
  },
};

export function isProfileName(s: string): s is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(s);
}

/** What the router applies in each direction for a profile. */
export function directionImpairment(p: NetProfile): Impairment {
  return { delayMs: p.rttMs / 2, jitterMs: p.jitterMs / 2, loss: p.loss, reorder: p.reorder };
}

/** tbf's queue size for a rate limit: `latency` worth of traffic at the rate, plus the burst. */
export function tbfLimitBytes(r: RateLimit): number {
  return Math.ceil((r.bitsPerS / 8) * (r.latencyMs / 1000) + r.burstBytes);
}

/** `tc qdisc replace dev DEV root …` arguments for a profile (a plain FIFO when it has no rate). */
export function tbfArgs(dev: string, p: NetProfile): string[] {
  if (!p.rate) return ['qdisc', 'replace', 'dev', dev, 'root', 'pfifo', 'limit', '1000'];
  return [
    'qdisc',
    'replace',
    'dev',
    dev,
    'root',
    'tbf',
    'rate',
    `${p.rate.bitsPerS}bit`,
    'burst',
    `${p.rate.burstBytes}b`,
    'limit',
    `${tbfLimitBytes(p.rate)}b`,
  ];
}

/** One line per profile for the benchmark's text. */
export function describeProfile(p: NetProfile): string {
  const parts: string[] = [];
  parts.push(p.rttMs > 0 ? `RTT +${p.rttMs} ms${p.jitterMs > 0 ? ` ±${p.jitterMs}` : ''}` : 'no delay');
  if (p.loss > 0) parts.push(`${+(p.loss * 100).toFixed(2)} % loss each way`);
  if (p.reorder > 0) parts.push(`${+(p.reorder * 100).toFixed(2)} % reordered`);
  if (p.rate) {
    parts.push(
      `tbf ${p.rate.bitsPerS / 1e6} Mb/s, burst ${p.rate.burstBytes} B, limit ${tbfLimitBytes(p.rate)} B (${p.rate.latencyMs} ms)`,
    );
  }
  return parts.join(', ');
}

/** bench:net's arithmetic and tables, apart from browsers and namespaces so that it is tested. */
import { summarize, type Summary } from '../e2e/measure.js';
import { describeProfile, PROFILES, type ProfileName } from './profiles.js';

/** `porthole (relay)`: the porthole viewer without RTCPeerConnection, over the API's WebSocket relay. */
export const NET_VIEWERS = ['porthole', 'porthole (relay)', 'noVNC'] as const;
export type NetViewer = (typeof NET_VIEWERS)[number];

/** A viewer as `--viewers` names it: its own name, or `relay` for `porthole (relay)` (case ignored). */
export function parseNetViewer(name: string): NetViewer | undefined {
  const n = name.trim().toLowerCase();
  if (n === 'relay') return 'porthole (relay)';
  return NET_VIEWERS.find((v) => v.toLowerCase() === n);
}

export interface NetResult {
  profile: ProfileName;
  viewer: NetViewer;
  connectMs: number;
  latency: Summary;
  fps: number;
  /** The longest time the picture stood still while the screen kept changing (no outage). */
  freezeMs: number;
  /** Outage end → the first displayed frame painted after it; NaN when none came in time. */
  recoveryMs: number;
  /** What reached the router towards the viewer, bits/s: the sender's offered load. */
  offeredBps: number;
  /** What left the router's queue towards the viewer, bytes/s (IP packets). */
  deliveredBytesPerS: number;
  /** Packets the rate limiter (tbf) dropped towards the viewer per second. */
  tbfDropsPerS: number;
  /**
   * The relay only: video frames the API's queue for this viewer dropped while measuring (it fell
   * behind, or waited for a keyframe), of `relayFrames` it forwarded plus dropped.
   */
  relayDroppedFrames?: number;
  relayFrames?: number;
}

/** The longest gap between displayed frames over [fromMs, toMs], its ends counted as frames. */
export function longestFreezeMs(shownAt: readonly number[], fromMs: number, toMs: number): number {
  let last = fromMs;
  let longest = 0;
  for (const t of shownAt) {
    if (t < fromMs || t > toMs) continue;
    longest = Math.max(longest, t - last);
    last = t;
  }
  return Math.max(longest, toMs - last);
}

/**
 * Time from `outageEndMs` to the display of the first frame painted at or after it (a frame's paint
 * time is its display time minus its latency). Frames painted before the end — a backlog delivered
 * late — do not count as a recovered picture. NaN when no such frame was shown.
 */
export function recoveryMs(
  shownAt: readonly number[],
  latencies: readonly number[],
  outageEndMs: number,
): number {
  for (let i = 0; i < shownAt.length; i++) {
    const shown = shownAt[i]!;
    if (shown - latencies[i]! >= outageEndMs) return shown - outageEndMs;
  }
  return Number.NaN;
}

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '–');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');

/** Whether the viewer's stream fits the profile's rate: offered load within it (no rate: always). */
export function withinRate(r: NetResult): boolean | undefined {
  const rate = PROFILES[r.profile].rate;
  return rate ? r.offeredBps <= rate.bitsPerS : undefined;
}

export function profilesText(names: readonly ProfileName[]): string {
  return names.map((n) => `- \`${n}\`: ${describeProfile(PROFILES[n])}`).join('\n');
}

export function netTable(rows: readonly NetResult[]): string {
  const lines = [
    '| profile | viewer | latency median / p95 (ms) | displayed fps | longest freeze (ms) | recovery after 2 s outage (ms) | offered (kb/s) | delivered (kB/s) | tbf drops/s | within the link rate | relay queue drops |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
  ];
  for (const r of rows) {
    const w = withinRate(r);
    const drops =
      r.relayDroppedFrames === undefined ? '' : `${r.relayDroppedFrames} of ${r.relayFrames ?? 0} frames`;
    lines.push(
      `| ${r.profile} | ${r.viewer} | ${f1(r.latency.median)} / ${f1(r.latency.p95)} | ${f1(r.fps)} | ${f0(r.freezeMs)} | ${Number.isFinite(r.recoveryMs) ? f0(r.recoveryMs) : 'none in 15 s'} | ${f0(r.offeredBps / 1000)} | ${f0(r.deliveredBytesPerS / 1000)} | ${f1(r.tbfDropsPerS)} | ${w === undefined ? '(no limit)' : w ? 'yes' : '**no**'} | ${drops} |`,
    );
  }
  return lines.join('\n');
}

export interface NetTarget {
  profile: ProfileName;
  what: string;
  value: string;
  target: string;
  met: boolean;
}

/** The targets for bench:net, from the rows there are. */
export function netTargets(rows: readonly NetResult[]): NetTarget[] {
  const out: NetTarget[] = [];
  const find = (p: ProfileName, v: NetViewer): NetResult | undefined =>
    rows.find((r) => r.profile === p && r.viewer === v);
  for (const p of ['4g', 'bad'] as const) {
    const ph = find(p, 'porthole');
    const nv = find(p, 'noVNC');
    if (ph && nv) {
      out.push({
        profile: p,
        what: 'latency p95, porthole vs noVNC',
        value: `${f1(ph.latency.p95)} vs ${f1(nv.latency.p95)} ms (${(ph.latency.p95 / nv.latency.p95).toFixed(2)} ×)`,
        target: '≤ 0.5 × noVNC',
        met: ph.latency.p95 <= 0.5 * nv.latency.p95,
      });
    }
    if (ph) {
      out.push({
        profile: p,
        what: 'porthole longest freeze (no outage)',
        value: `${f0(ph.freezeMs)} ms`,
        target: '≤ 500 ms',
        met: ph.freezeMs <= 500,
      });
    }
  }
  const ph = find('thin', 'porthole');
  const nv = find('thin', 'noVNC');
  if (ph) {
    out.push({
      profile: 'thin',
      what: 'porthole scrolling text usable',
      value: `${f1(ph.fps)} fps, p95 ${f1(ph.latency.p95)} ms`,
      target: '≥ 10 fps and p95 < 400 ms',
      met: ph.fps >= 10 && ph.latency.p95 < 400,
    });
  }
  if (nv) {
    out.push({
      profile: 'thin',
      what: 'noVNC scrolling text not usable',
      value: `${f1(nv.fps)} fps, p95 ${f1(nv.latency.p95)} ms`,
      target: '< 10 fps or p95 ≥ 400 ms',
      met: !(nv.fps >= 10 && nv.latency.p95 < 400),
    });
  }
  for (const r of rows.filter((x) => x.viewer === 'porthole')) {
    out.push({
      profile: r.profile,
      what: 'porthole recovery after a 2 s outage',
      value: Number.isFinite(r.recoveryMs) ? `${f0(r.recoveryMs)} ms` : 'none in 15 s',
      target: '< 1000 ms',
      met: r.recoveryMs < 1000,
    });
  }
  return out;
}

export function netTargetsTable(checks: readonly NetTarget[]): string {
  return [
    '| profile | measure | value | target | met? |',
    '| --- | --- | --- | --- | --- |',
    ...checks.map(
      (c) => `| ${c.profile} | ${c.what} | ${c.value} | ${c.target} | ${c.met ? 'yes' : '**no**'} |`,
    ),
  ].join('\n');
}

export function netResult(
  base: Omit<NetResult, 'latency' | 'freezeMs'>,
  latencies: readonly number[],
  shownAt: readonly number[],
  fromMs: number,
  toMs: number,
): NetResult {
  return { ...base, latency: summarize(latencies), freezeMs: longestFreezeMs(shownAt, fromMs, toMs) };
}

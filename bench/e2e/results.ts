/** The e2e benchmark's results and how they become the markdown table and the target verdicts. */
import { summarize, type Summary } from './measure.js';

export type Viewer = 'porthole' | 'noVNC';

export interface MotionResult {
  latency: Summary;
  latencies: number[];
  /** Stamp → frame received by the browser (video only; n = 0 for noVNC): the agent + network share. */
  arrival: Summary;
  fps: number;
  /** The painter's rate, from the frame numbers seen: what the viewer could have shown. */
  sourceFps: number;
  bytesPerS: number;
  cpu: number;
  unreadable: number;
}

export interface ViewerResult {
  size: string;
  viewer: Viewer;
  connectMs: number;
  flip: MotionResult;
  scroll: MotionResult;
  staticCpu: number;
  staticBytesPerS: number;
}

export function motionResult(
  latencies: number[],
  frames: number,
  unreadable: number,
  seconds: number,
  bytes: number,
  cpu: number,
  sourceFps = Number.NaN,
  arrivals: readonly number[] = [],
): MotionResult {
  return {
    latency: summarize(latencies),
    latencies,
    arrival: summarize(arrivals),
    fps: frames / seconds,
    sourceFps,
    bytesPerS: bytes / seconds,
    cpu,
    unreadable,
  };
}

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '–');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '–');
const kB = (n: number): string => (Number.isFinite(n) ? (n / 1000).toFixed(0) : '–');

export function resultsTable(rows: readonly ViewerResult[]): string {
  const lines = [
    '| size | viewer | workload | latency median / p95 (ms) | of which until received (ms) | changes timed | displayed fps (painted) | kB/s | agent CPU % |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    for (const [name, m] of [
      ['colour flip', r.flip],
      ['scrolling text', r.scroll],
    ] as const) {
      lines.push(
        `| ${r.size} | ${r.viewer} | ${name} | ${f1(m.latency.median)} / ${f1(m.latency.p95)} | ${m.arrival.n > 0 ? f1(m.arrival.median) : '–'} | ${m.latency.n} | ${f1(m.fps)} (${f0(m.sourceFps)}) | ${kB(m.bytesPerS)} | ${f0(m.cpu)} |`,
      );
    }
    lines.push(
      `| ${r.size} | ${r.viewer} | static | – | – | – | – | ${f1(r.staticBytesPerS / 1000)} | ${f1(r.staticCpu)} |`,
    );
  }
  return lines.join('\n');
}

export interface TargetCheck {
  size: string;
  what: string;
  porthole: string;
  noVNC: string;
  ratio: string;
  target: string;
  met: boolean;
}

/**
 * The targets, per size: latency, fps and bytes under full-screen motion (each of the two
 * motion workloads gets its own verdict: the colour flip is VNC's best case, scrolling text a
 * desktop's usual one), and CPU with a still screen.
 */
export function checkTargets(rows: readonly ViewerResult[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const sizes = [...new Set(rows.map((r) => r.size))];
  for (const size of sizes) {
    const p = rows.find((r) => r.size === size && r.viewer === 'porthole');
    const n = rows.find((r) => r.size === size && r.viewer === 'noVNC');
    if (!p || !n) continue;
    const is720 = size.startsWith('1280');
    const workloads = [
      ['colour flip', p.flip, n.flip],
      ['scrolling text', p.scroll, n.scroll],
    ] as const;
    for (const [name, pm, nm] of workloads) {
      const latRatio = pm.latency.median / nm.latency.median;
      out.push({
        size,
        what: `latency median, ${name}`,
        porthole: `${f1(pm.latency.median)} ms`,
        noVNC: `${f1(nm.latency.median)} ms`,
        ratio: f2(latRatio),
        target: is720 ? '≤ 0.5 × noVNC and ≤ 25 ms' : '≤ 0.5 × noVNC',
        met: latRatio <= 0.5 && (!is720 || pm.latency.median <= 25),
      });
    }
    for (const [name, pm, nm] of workloads) {
      const fpsRatio = pm.fps / nm.fps;
      out.push({
        size,
        what: `displayed fps, ${name}`,
        porthole: f1(pm.fps),
        noVNC: f1(nm.fps),
        ratio: f2(fpsRatio),
        target: '≥ 2 × noVNC',
        met: fpsRatio >= 2,
      });
    }
    for (const [name, pm, nm] of workloads) {
      const byteRatio = pm.bytesPerS / nm.bytesPerS;
      out.push({
        size,
        what: `bytes/s, ${name}`,
        porthole: `${kB(pm.bytesPerS)} kB/s`,
        noVNC: `${kB(nm.bytesPerS)} kB/s`,
        ratio: f2(byteRatio),
        target: '≤ noVNC',
        met: byteRatio <= 1,
      });
    }
    out.push({
      size,
      what: 'agent CPU, static screen',
      porthole: `${f1(p.staticCpu)} %`,
      noVNC: `${f1(n.staticCpu)} %`,
      ratio: f2(p.staticCpu / n.staticCpu),
      target: '< 2 % of a core',
      met: p.staticCpu < 2,
    });
  }
  return out;
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  return [
    '| size | measure | porthole | noVNC | porthole / noVNC | target | met? |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
    ...checks.map(
      (c) =>
        `| ${c.size} | ${c.what} | ${c.porthole} | ${c.noVNC} | ${c.ratio} | ${c.target} | ${c.met ? 'yes' : '**no**'} |`,
    ),
  ].join('\n');
}

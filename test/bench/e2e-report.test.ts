import { describe, expect, it } from 'vitest';
import { cdfPoints, latencyChartSvg } from '../../bench/e2e/chart.js';
import { parseProcStat, treeCpuSeconds } from '../../bench/e2e/proc-cpu.js';
import { checkTargets, motionResult, resultsTable, type ViewerResult } from '../../bench/e2e/results.js';
import {
  fillFlip,
  fillScroll,
  flipColour,
  SCROLL_PX_PER_FRAME,
  textPage,
} from '../../bench/e2e/workloads.js';

describe('latency chart', () => {
  it('builds the CDF of a sample, ascending, ending at 100 %', () => {
    expect(cdfPoints([30, 10, 20, Number.NaN])).toEqual([
      [10, 1 / 3],
      [20, 2 / 3],
      [30, 1],
    ]);
  });

  it('draws one path per series, a legend with counts, and escapes labels', () => {
    const svg = latencyChartSvg(
      [
        { label: 'porthole <720p>', colour: '#00f', values: [10, 20, 30] },
        { label: 'noVNC', colour: '#f80', dashed: true, values: [40, 50] },
      ],
      { title: 'T' },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('porthole &lt;720p&gt; (n=3)');
    expect(svg).toContain('stroke-dasharray');
  });
});

describe('process CPU from /proc', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const line = '1234 (node (tsx) x) S 77 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 11 0 9 0 0';
    expect(parseProcStat(line)).toEqual({ pid: 1234, ppid: 77, ticks: 250 + 50 + 7 + 3 });
  });

  it('counts this process', () => {
    const end = Date.now() + 30;
    while (Date.now() < end); // spend a little CPU
    expect(treeCpuSeconds([process.pid])).toBeGreaterThan(0);
  });
});

describe('painter workloads', () => {
  it('flips the whole screen to a different colour every frame', () => {
    const data = new Uint8Array(16 * 4 * 4);
    fillFlip(data, 16 * 4, 4, 1);
    const first = [...data.subarray(0, 4)];
    expect(first[3]).toBe(255);
    expect([...data.subarray(data.length - 4)]).toEqual(first);
    expect(flipColour(1)).not.toBe(flipColour(2));
  });

  it('scrolls the text page by a fixed step per frame', () => {
    const w = 64;
    const h = 72;
    const stride = w * 4;
    const page = textPage(w, h, stride);
    const a = new Uint8Array(stride * h);
    const b = new Uint8Array(stride * h);
    fillScroll(a, page, stride, h, 0);
    fillScroll(b, page, stride, h, 1);
    expect(b.subarray(0, stride * (h - SCROLL_PX_PER_FRAME))).toEqual(
      a.subarray(stride * SCROLL_PX_PER_FRAME),
    );
    expect(new Set(a).size).toBeGreaterThan(2); // ink and paper
  });
});

describe('targets', () => {
  const m = (median: number, fps: number, bytesPerS: number) =>
    motionResult(Array(100).fill(median) as number[], fps * 10, 0, 10, bytesPerS * 10, 50);
  const row = (
    viewer: 'porthole' | 'noVNC',
    median: number,
    fps: number,
    bytes: number,
    staticCpu: number,
  ): ViewerResult => ({
    size: '1280×720',
    viewer,
    connectMs: 500,
    flip: m(median, fps, bytes),
    scroll: m(median, fps, bytes),
    staticCpu,
    staticBytesPerS: 0,
  });

  it('meets each target only within its bound, and says which missed', () => {
    const checks = checkTargets([row('porthole', 20, 60, 100_000, 1.5), row('noVNC', 40, 30, 100_000, 1)]);
    expect(checks.map((c) => [c.what, c.met])).toEqual([
      ['latency median, colour flip', true],
      ['latency median, scrolling text', true],
      ['displayed fps, colour flip', true],
      ['displayed fps, scrolling text', true],
      ['bytes/s, colour flip', true],
      ['bytes/s, scrolling text', true],
      ['agent CPU, static screen', true],
    ]);
    const missed = checkTargets([row('porthole', 26, 59, 100_001, 2), row('noVNC', 60, 30, 100_000, 1)]);
    expect(missed.map((c) => c.met)).toEqual([false, false, false, false, false, false, false]);
    // Each workload is judged on its own numbers.
    const mixed = checkTargets([
      { ...row('porthole', 30, 60, 100_000, 1), scroll: m(20, 60, 100_000) },
      row('noVNC', 40, 20, 200_000, 1),
    ]);
    expect(mixed.slice(0, 2).map((c) => c.met)).toEqual([false, true]);
  });

  it('prints three rows per viewer and size', () => {
    const table = resultsTable([row('porthole', 20, 60, 100_000, 1.5)]);
    expect(table.split('\n')).toHaveLength(2 + 3);
    expect(table).toContain(
      '| 1280×720 | porthole | colour flip | 20.0 / 20.0 | – | 100 | 60.0 (–) | 100 | 50 |',
    );
  });

  it('shows the stamp → received share when the viewer knew when frames arrived', () => {
    const withArrivals = {
      ...row('porthole', 20, 60, 100_000, 1.5),
      flip: motionResult(Array(100).fill(20) as number[], 600, 0, 10, 1_000_000, 50, 60, [8, 9, 12]),
    };
    expect(resultsTable([withArrivals])).toContain('| colour flip | 20.0 / 20.0 | 9.0 | 100 |');
  });
});

/**
 * Glass to glass in a real browser: one Xvfb display repainted at 60 Hz by a separate painter
 * (bench/e2e/painter.ts, time stamped in the pixels), viewed in headless Chromium through porthole's
 * viewer (WebRTC, H.264) and, in the same run, through noVNC + websockify + x11vnc. The page decodes
 * the stamp of every frame it displays (bench/e2e/page-probe.ts). Per viewer and size: connect → first
 * picture, then colour-flip motion, scrolling text, and a static screen, ~10 s each.
 * Run: `npm run bench:e2e` (installs x11vnc, websockify, novnc through apt when missing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { buildViewer } from '../scripts/build-viewer.js';
import { startDemoStack, type DemoStack } from '../src/demo/demo-stack.js';
import { DEFAULT_ENCODER_KIND } from '../src/helper/encode/encoder.js';
import { launchChromium, type Browser } from '../test/viewer/browser-fixture.js';
import { latencyChartSvg, type ChartSeries } from './e2e/chart.js';
import type { ProbeSnapshot } from './e2e/page-probe.js';
import { findPids, isDescendantOf, TreeCpuMeter } from './e2e/proc-cpu.js';
import { probeScript } from './e2e/probe-bundle.js';
import {
  checkTargets,
  motionResult,
  resultsTable,
  targetsTable,
  type MotionResult,
  type ViewerResult,
} from './e2e/results.js';
import { ensureBenchTools, startVncStack, type VncStack } from './e2e/vnc-stack.js';
import type { Workload } from './e2e/workloads.js';
import { machineLine } from './report.js';

const VIEWERS = (process.env.E2E_VIEWERS ?? 'porthole,noVNC').split(',');
const SIZES = [
  { w: 1280, h: 720 },
  { w: 1920, h: 1080 },
].filter((s) => !process.env.E2E_SIZES || process.env.E2E_SIZES.split(',').includes(String(s.h)));
const PHASE_S = Number(process.env.E2E_PHASE_S ?? 10);
const SETTLE_MS = 1500;
/**
 * `--resolution full`: the probe reads a frame stamp painted into the picture's pixels, which a halved
 * picture (a thin link, design/MEDIA.md "Lower resolution") blurs past reading.
 */
export const HELPER_ARGS = ['--fps', '60', '--resolution', 'full'];
const CHART_FILE = fileURLToPath(new URL('../design/bench-latency.png', import.meta.url));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitUntil<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`e2e bench: timed out waiting for ${what}`);
    await sleep(50);
  }
}

export class Painter {
  private constructor(
    private readonly child: ChildProcess,
    private readonly lines: Interface,
  ) {}
  static async start(display: string): Promise<Painter> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./e2e/painter.ts', import.meta.url)), display, '60'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      lines.once('line', () => resolve());
      child.once('exit', (code) => reject(new Error(`painter exited with ${code}`)));
    });
    return new Painter(child, lines);
  }
  async set(w: Workload): Promise<void> {
    const ok = new Promise<void>((resolve) => this.lines.once('line', () => resolve()));
    this.child.stdin!.write(`${w}\n`);
    await ok;
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

export const snapshot = (page: Page): Promise<ProbeSnapshot> =>
  page.evaluate(() =>
    (window as unknown as { __e2e: { snapshot(): Promise<ProbeSnapshot> } }).__e2e.snapshot(),
  );
export const resetProbe = (page: Page): Promise<void> =>
  page.evaluate(() => (window as unknown as { __e2e: { reset(): void } }).__e2e.reset());

interface ViewerDriver {
  viewer: ViewerResult['viewer'];
  page: Page;
  /** Marks the connect time in the page and starts connecting. */
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  agentPids(): number[];
}

async function motionPhase(d: ViewerDriver, painter: Painter, w: Workload): Promise<MotionResult> {
  await painter.set(w);
  await sleep(SETTLE_MS);
  await resetProbe(d.page);
  const before = await snapshot(d.page);
  const cpu = new TreeCpuMeter(() => d.agentPids());
  await sleep(PHASE_S * 1000);
  const after = await snapshot(d.page);
  const cpuPct = cpu.percent();
  const seconds = (after.wallMs - before.wallMs) / 1000;
  return motionResult(
    after.latencies,
    after.frames,
    after.unreadable,
    seconds,
    after.bytes - before.bytes,
    cpuPct,
    after.sourceFps,
    after.arrivals,
  );
}

async function measureViewer(d: ViewerDriver, painter: Painter, size: string): Promise<ViewerResult> {
  await painter.set('flip');
  await d.connect();
  const first = await waitUntil(
    async () => {
      const s = await snapshot(d.page);
      return Number.isFinite(s.connectToFirstPictureMs) ? s.connectToFirstPictureMs : undefined;
    },
    30_000,
    `${d.viewer}'s first picture`,
  );
  await sleep(2000); // let rate control and the jitter buffer settle
  const flip = await motionPhase(d, painter, 'flip');
  const scroll = await motionPhase(d, painter, 'scroll');
  await painter.set('static');
  await sleep(SETTLE_MS);
  const before = await snapshot(d.page);
  const cpu = new TreeCpuMeter(() => d.agentPids());
  await sleep(PHASE_S * 1000);
  const after = await snapshot(d.page);
  const staticCpu = cpu.percent();
  await d.disconnect();
  return {
    size,
    viewer: d.viewer,
    connectMs: first,
    flip,
    scroll,
    staticCpu,
    staticBytesPerS: ((after.bytes - before.bytes) * 1000) / (after.wallMs - before.wallMs),
  };
}

/** The helper serving the session (a child of the service), found by its command line. */
export function helperPids(stack: DemoStack): number[] {
  return findPids((a) => a.includes('helper') && a.includes('--session') && a.includes('--helper-id')).filter(
    (pid) => isDescendantOf(pid, stack.servicePid),
  );
}

async function portholeDriver(
  browser: Browser,
  stack: DemoStack,
  displayNumber: number,
): Promise<ViewerDriver> {
  const page = await browser.context.newPage();
  await page.goto(await stack.loginUrl('bench'));
  await page
    .locator(`#session option[value="${displayNumber}"]`)
    .waitFor({ state: 'attached', timeout: 30_000 });
  await page.selectOption('#session', String(displayNumber));
  return {
    viewer: 'porthole',
    page,
    connect: () =>
      page.evaluate(() => {
        (window as unknown as { __e2e: { markConnect(): void } }).__e2e.markConnect();
        (document.querySelector('#connect') as HTMLButtonElement).click();
      }),
    disconnect: async () => {
      await page.click('#connect');
      await page.close();
    },
    agentPids: () => helperPids(stack),
  };
}

async function novncDriver(browser: Browser, vnc: VncStack): Promise<ViewerDriver> {
  const page = await browser.context.newPage();
  await page.goto(vnc.pageUrl);
  await page.waitForFunction(() => (window as unknown as { __rfbReady?: boolean }).__rfbReady === true);
  return {
    viewer: 'noVNC',
    page,
    connect: () =>
      page.evaluate(() => {
        const w = window as unknown as { __e2e: { markConnect(): void }; __startRfb(): void };
        w.__e2e.markConnect();
        w.__startRfb();
      }),
    disconnect: async () => {
      await page.evaluate(() => (window as unknown as { __stopRfb(): void }).__stopRfb());
      await page.close();
    },
    agentPids: () => vnc.pids(),
  };
}

async function measureSize(browser: Browser, w: number, h: number): Promise<ViewerResult[]> {
  const size = `${w}×${h}`;
  const stack = await startDemoStack({
    sessions: [{ colour: '#000000', title: 'bench', width: w, height: h, bare: true }],
    helperArgs: HELPER_ARGS,
    logLevel: 'warn',
  });
  const cleanups: (() => Promise<void>)[] = [() => stack.stop()];
  try {
    const display = stack.displays[0]!;
    const painter = await Painter.start(display.display);
    cleanups.push(() => painter.stop());
    await waitUntil(() => (helperPids(stack).length > 0 ? true : undefined), 60_000, 'the helper');
    const vnc = await startVncStack(display.display);
    cleanups.push(() => vnc.stop());
    const out: ViewerResult[] = [];
    if (VIEWERS.includes('porthole')) {
      console.log(`e2e: ${size} porthole…`);
      out.push(await measureViewer(await portholeDriver(browser, stack, display.number), painter, size));
    }
    if (VIEWERS.includes('noVNC')) {
      console.log(`e2e: ${size} noVNC…`);
      out.push(await measureViewer(await novncDriver(browser, vnc), painter, size));
    }
    return out;
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error('e2e cleanup:', err));
  }
}

async function renderChart(browser: Browser, rows: readonly ViewerResult[]): Promise<void> {
  const colours = { porthole: ['#1f5fbf', '#7fa8e6'], noVNC: ['#d9661f', '#f0b080'] };
  const series: ChartSeries[] = rows.flatMap((r) => [
    {
      label: `${r.viewer} ${r.size} flip`,
      colour: colours[r.viewer][0]!,
      dashed: r.size.startsWith('1920'),
      values: r.flip.latencies,
    },
    {
      label: `${r.viewer} ${r.size} scroll`,
      colour: colours[r.viewer][1]!,
      dashed: r.size.startsWith('1920'),
      values: r.scroll.latencies,
    },
  ]);
  const svg = latencyChartSvg(series, {
    title: 'Screen change → displayed in Chromium (CDF)',
    width: 960,
    height: 540,
  });
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1040, height: 540 });
  await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
  mkdirSync(new URL('../design/', import.meta.url), { recursive: true });
  await page.locator('svg').screenshot({ path: CHART_FILE });
  await page.close();
}

export async function run(): Promise<{ title: string; markdown: string }> {
  ensureBenchTools();
  await buildViewer();
  const browser = await launchChromium();
  const rows: ViewerResult[] = [];
  try {
    await browser.context.addInitScript({ content: await probeScript() });
    for (const s of SIZES) rows.push(...(await measureSize(browser, s.w, s.h)));
    if (process.env.BENCH_DRY !== '1') await renderChart(browser, rows);
  } finally {
    await browser.close();
  }
  const connect = rows.map((r) => `${r.viewer} ${r.size}: ${r.connectMs.toFixed(0)} ms`).join('; ');
  const markdown = [
    `${machineLine()}; Chromium headless (software decode and compositing, \`--disable-gpu\`). ` +
      "Two cores shared with other engineers' runs: expect ±20 % between runs.",
    '',
    `Xvfb display per size; a painter process repaints the whole screen at 60 Hz through MIT-SHM with the ` +
      'frame number and wall-clock time stamped in the top-left corner. Workloads, ' +
      `${PHASE_S} s each after ${SETTLE_MS / 1000} s to settle: **colour flip** (every pixel changes every frame), ` +
      '**scrolling text** (a page of glyph rows moving up 4 px a frame), **static** (no change). ' +
      `porthole: \`porthole service\` + helper (\`${HELPER_ARGS.join(' ')}\`, encoder ${DEFAULT_ENCODER_KIND}: ` +
      "x264 ultrafast/zerolatency, bitrate from the display size) → WebRTC → the viewer's `<video>`, read " +
      'with `requestVideoFrameCallback`. noVNC: Debian x11vnc (defaults + `-shared -forever -nopw -localhost`) → ' +
      "websockify → noVNC 1.3 RFB with its defaults, canvas read every animation frame. Latency = the page's " +
      'frame time − the stamp; fps = distinct stamped frames displayed per second; bytes = WebRTC transport ' +
      'bytes received / WebSocket payload bytes; agent CPU = helper + its ffmpeg (porthole) or x11vnc + ' +
      'websockify (noVNC), % of one core, from /proc.',
    '',
    resultsTable(rows),
    '',
    `Connect → first stamped picture: ${connect}.`,
    '',
    targetsTable(checkTargets(rows)),
    '',
    '![latency distributions](bench-latency.png)',
  ].join('\n');
  return { title: 'Glass to glass in Chromium: porthole vs noVNC + x11vnc (e2e)', markdown };
}

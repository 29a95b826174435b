/**
 * Glass to glass over impaired networks (bench/net/harness.ts): the e2e benchmark's painter, probe
 * and viewers, with Chromium in the viewer's network namespace and everything else (API, service,
 * helper, Xvfb, x11vnc, websockify) in the agent's, joined by the impairing router. Per profile and
 * viewer: scrolling text for PHASE_S seconds (latency, displayed fps, longest freeze, bytes), then a
 * 2 s total outage and the time to a fresh picture after it.
 * Viewers: porthole (WebRTC), `porthole (relay)` (the same viewer with no RTCPeerConnection, so it takes
 * the API's WebSocket relay at once; also counts the frames the API's queue for it dropped) and noVNC.
 * The API is served over HTTPS with a test CA (WebCodecs, which the relay viewer decodes with, needs a
 * secure context): Chromium trusts it through its own NSS database, the service and helper through
 * NODE_EXTRA_CA_CERTS.
 * Run: `npm run bench:net` (root: namespaces, TUN, tc, certutil). `-- --profiles lan,thin`,
 * `--viewers porthole,relay,noVNC`, `--phase-s N` (or NET_PROFILES, NET_VIEWERS, NET_PHASE_S) narrow a
 * trial run, which only prints its table (bench/net/options.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { buildViewer } from '../scripts/build-viewer.js';
import { startDemoStack } from '../src/demo/demo-stack.js';
import { privateDisplayNumber } from '../src/demo/x-display.js';
import { DEFAULT_ENCODER_KIND } from '../src/helper/encode/encoder.js';
import { launchChromium, type Browser } from '../test/viewer/browser-fixture.js';
import { CERTUTIL_MISSING, chromiumTrusting, makeCertificates } from '../test/fixtures/test-ca.js';
import { HELPER_ARGS, helperPids, Painter, resetProbe, sleep, snapshot, waitUntil } from './e2e.bench.js';
import { latencyChartSvg, type ChartSeries } from './e2e/chart.js';
import { probeScript } from './e2e/probe-bundle.js';
import { ensureBenchTools, startVncStack } from './e2e/vnc-stack.js';
import { AGENT_IP, startImpairedNetwork, type ImpairedNetwork } from './net/harness.js';
import { harnessUnavailable } from './net/linux-net.js';
import { PROFILES, type ProfileName } from './net/profiles.js';
import { parseNetOptions } from './net/options.js';
import {
  netResult,
  netTable,
  netTargets,
  netTargetsTable,
  profilesText,
  recoveryMs,
  type NetResult,
  type NetViewer,
} from './net/results.js';
import { forwardTcp } from './net/tcp-forward.js';
import { machineLine } from './report.js';

const SETTLE_MS = 3000;
const OUTAGE_MS = 2000;
const RECOVERY_WAIT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 45_000;
const SEED = 19;
const WIDTH = 1280;
const HEIGHT = 720;
const CHART_FILE = fileURLToPath(new URL('../design/bench-net-latency.png', import.meta.url));

interface Driver {
  page: Page;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

interface SenderRow {
  profile: ProfileName;
  framesSent: number;
  keyframesSent: number;
  nacked: number;
  resent: number;
  nackOverBudget: number;
  nackGone: number;
  overflows: number;
  framesSkipped: number;
  fecFrames?: number;
  fecPackets?: number;
}

/** The newest "video sender totals" line of the service's output logged after `sinceMs` (epoch ms). */
function lastSenderTotals(output: string, sinceMs: number): Omit<SenderRow, 'profile'> | undefined {
  for (const line of output.split('\n').reverse()) {
    if (!line.includes('"video sender totals"')) continue;
    try {
      const entry = JSON.parse(line) as { time: number; video: Omit<SenderRow, 'profile'> };
      return entry.time >= sinceMs ? entry.video : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function senderTable(rows: readonly SenderRow[]): string {
  return [
    '| profile | frames sent | keyframes | NACKed | resent | over budget | gone | overflows | frames skipped | frames with FEC | FEC packets |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.profile} | ${r.framesSent} | ${r.keyframesSent} | ${r.nacked} | ${r.resent} | ` +
        `${r.nackOverBudget} | ${r.nackGone} | ${r.overflows} | ${r.framesSkipped} | ` +
        `${r.fecFrames ?? '–'} | ${r.fecPackets ?? '–'} |`,
    ),
  ].join('\n');
}

/** The API relay's counters of video frames forwarded to viewers and dropped by their queues. */
type RelayCounters = () => { forwardedVideo: number; droppedFrames: number };

async function measure(
  viewer: NetViewer,
  profile: ProfileName,
  open: () => Promise<Driver>,
  net: ImpairedNetwork,
  PHASE_S: number,
  afterConnect?: () => Promise<void>,
  relayCounters?: RelayCounters,
): Promise<{ result: NetResult; latencies: number[] }> {
  const d = await open();
  const connectStart = Date.now();
  try {
    await d.connect();
    // A viewer that shows nothing within CONNECT_TIMEOUT_MS is still measured (what it offers the
    // link, and whether it shows anything later): that is the result for that profile.
    const connectMs = await waitUntil(
      async () => {
        const s = await snapshot(d.page);
        if (Number.isFinite(s.connectToFirstPictureMs)) return s.connectToFirstPictureMs;
        return s.wallMs - connectStart > CONNECT_TIMEOUT_MS ? Number.NaN : undefined;
      },
      CONNECT_TIMEOUT_MS + 10_000,
      `${viewer}'s first picture over ${profile}`,
    );
    await afterConnect?.();
    await sleep(SETTLE_MS);
    await resetProbe(d.page);
    const routerBefore = await net.routerStats();
    const tbfBefore = net.tbfStats().down;
    const relayBefore = relayCounters?.();
    const before = await snapshot(d.page);
    await sleep(PHASE_S * 1000);
    const after = await snapshot(d.page);
    const relayAfter = relayCounters?.();
    if (process.env.NET_DEBUG) {
      const rtp = await d.page.evaluate(async () => {
        const out: unknown[] = [];
        for (const pc of (window as unknown as { __e2ePeers?: RTCPeerConnection[] }).__e2ePeers ?? []) {
          (await pc.getStats()).forEach((s: Record<string, unknown>) => {
            if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
            const keep = ['packetsReceived', 'packetsLost', 'nackCount', 'fecPacketsReceived'];
            keep.push('fecPacketsDiscarded', 'retransmittedPacketsReceived', 'framesDecoded', 'freezeCount');
            out.push(Object.fromEntries(keep.map((k) => [k, s[k]])));
          });
        }
        return out;
      });
      console.log(JSON.stringify(rtp), after.frames, after.unreadable, after.sourceFps);
      await d.page.screenshot({ path: `/tmp/net-${viewer}-${profile}.png` });
    }
    const routerAfter = await net.routerStats();
    const tbfAfter = net.tbfStats().down;
    const seconds = (after.wallMs - before.wallMs) / 1000;

    await resetProbe(d.page);
    const outage = await net.outage(OUTAGE_MS);
    const recovered = await waitUntil(
      async () => {
        const s = await snapshot(d.page);
        const ms = recoveryMs(s.shownAt, s.latencies, outage.untilWallMs);
        if (Number.isFinite(ms)) return ms;
        return s.wallMs > outage.untilWallMs + RECOVERY_WAIT_MS ? Number.NaN : undefined;
      },
      OUTAGE_MS + RECOVERY_WAIT_MS + 10_000,
      `${viewer} after the outage`,
    );
    const result = netResult(
      {
        profile,
        viewer,
        connectMs,
        fps: after.frames / seconds,
        recoveryMs: recovered,
        offeredBps: ((routerAfter.down.bytes - routerBefore.down.bytes) * 8) / seconds,
        deliveredBytesPerS: (tbfAfter.sentBytes - tbfBefore.sentBytes) / seconds,
        tbfDropsPerS: (tbfAfter.dropped - tbfBefore.dropped) / seconds,
        ...(relayBefore && relayAfter
          ? {
              relayDroppedFrames: relayAfter.droppedFrames - relayBefore.droppedFrames,
              relayFrames:
                relayAfter.droppedFrames -
                relayBefore.droppedFrames +
                relayAfter.forwardedVideo -
                relayBefore.forwardedVideo,
            }
          : {}),
      },
      after.latencies,
      after.shownAt,
      before.wallMs,
      after.wallMs,
    );
    return { result, latencies: after.latencies };
  } finally {
    await d.disconnect().catch(() => undefined);
  }
}

/**
 * The helper's "being viewed" indicator (src/helper/presence) opens at the top centre of the screen,
 * over the right end of the painter's frame stamp at 1280 px, which then reads as corrupt. Moved to
 * the bottom-right corner it stays in the stream (as for a user) and off the stamp.
 */
async function moveIndicatorAside(display: string): Promise<void> {
  const env = { ...process.env, DISPLAY: display };
  for (let i = 0; i < 30; i++) {
    const found = spawnSync('xdotool', ['search', '--name', 'viewing this screen'], {
      env,
      encoding: 'utf8',
    });
    const ids = found.stdout.split('\n').filter(Boolean);
    if (ids.length > 0) {
      for (const id of ids) {
        spawnSync('xdotool', ['windowmove', id, String(WIDTH - 420), String(HEIGHT - 48)], { env });
      }
      return;
    }
    await sleep(100);
  }
}

async function renderChart(browser: Browser, series: ChartSeries[]): Promise<void> {
  const svg = latencyChartSvg(series, {
    title: 'Screen change → displayed, scrolling text, per network profile (CDF)',
    width: 1000,
    height: 600,
    maxMs: 1000,
  });
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1080, height: 600 });
  await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
  mkdirSync(new URL('../design/', import.meta.url), { recursive: true });
  await page.locator('svg').screenshot({ path: CHART_FILE });
  await page.close();
}

export async function run(flags: string[] = []): Promise<{ title: string; markdown: string; dry: boolean }> {
  // A narrowed run (bench/net/options.ts) is a trial: printed, never written.
  const {
    profiles: PROFILE_LIST,
    viewers: VIEWERS,
    phaseS: PHASE_S,
    trial: TRIAL,
  } = parseNetOptions(flags, process.env);
  const unavailable = harnessUnavailable() ?? CERTUTIL_MISSING;
  if (unavailable) throw new Error(`bench:net cannot run here: ${unavailable}`);
  ensureBenchTools();
  await buildViewer();
  const started = Date.now();
  const net = await startImpairedNetwork({ seed: SEED });
  // The API's certificate: AGENT_IP for the viewer, 127.0.0.1 for the service and helper beside it.
  const certDir = mkdtempSync(join(tmpdir(), 'porthole-net-ca-'));
  const certs = makeCertificates(certDir, [AGENT_IP, '127.0.0.1'], 'api');
  const caBefore = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = certs.ca; // inherited by the service, passed on to its helpers
  // From here the main thread lives in the agent's namespace: the API, the service and its helper,
  // Xvfb, the painter, x11vnc and websockify all start there.
  const leave = net.enterAgent();
  const cleanups: (() => Promise<void>)[] = [];
  const rows: NetResult[] = [];
  const senderRows: SenderRow[] = [];
  const series: ChartSeries[] = [];
  let debugOutput = (): string => '';
  try {
    const stack = await startDemoStack({
      // The agent's namespace: a number of its own, or another job's Xvfb :0 takes the socket file.
      sessions: [
        {
          colour: '#000000',
          title: 'bench',
          width: WIDTH,
          height: HEIGHT,
          bare: true,
          displayNumber: privateDisplayNumber(),
        },
      ],
      helperArgs: HELPER_ARGS,
      // info: the helper's "video sender totals" line per desktop connection is read for the sender table.
      logLevel: 'info',
      tls: { cert: readFileSync(certs.cert), key: readFileSync(certs.key) },
    });
    cleanups.push(() => stack.stop());
    debugOutput = () => stack.serviceOutput();
    const display = stack.displays[0]!;
    const painter = await Painter.start(display.display);
    cleanups.push(() => painter.stop());
    await waitUntil(() => (helperPids(stack).length > 0 ? true : undefined), 60_000, 'the helper');
    const api = await forwardTcp(AGENT_IP, Number(new URL(stack.api.url).port));
    cleanups.push(() => api.close());
    const apiOrigin = `https://${AGENT_IP}:${api.port}`;
    const vnc = await startVncStack(display.display, AGENT_IP);
    cleanups.push(() => vnc.stop());
    // Chromium in the viewer's namespace, trusting the test CA: the viewer is https, the relay wss.
    const browser = await launchChromium({
      executablePath: chromiumTrusting(certDir, net.viewerNs, certs.ca),
    });
    cleanups.push(() => browser.close());
    await browser.context.addInitScript({ content: await probeScript() });
    await painter.set('scroll');

    /** The porthole viewer; `relay`: without RTCPeerConnection, so over the API's WebSocket relay. */
    const portholeDriver = async (relay: boolean): Promise<Driver> => {
      const page = await browser.context.newPage();
      if (relay) {
        await page.addInitScript(() => {
          delete (window as { RTCPeerConnection?: unknown }).RTCPeerConnection;
          delete (window as { webkitRTCPeerConnection?: unknown }).webkitRTCPeerConnection;
        });
      }
      const login = new URL(await stack.loginUrl('bench'));
      // The relayed desktop is drawn on a canvas (WebCodecs), which the probe polls instead of a video.
      await page.goto(`${apiOrigin}/${relay ? '?e2eProbe=canvas' : ''}${login.hash}`);
      // The session list can come up before the helper has reported in: ask again until it has.
      const option = page.locator(`#session option[value="${display.number}"]`);
      await waitUntil(
        async () => {
          if ((await option.count()) > 0) return true;
          await page.click('#refresh').catch(() => undefined);
          await sleep(2000);
          return undefined;
        },
        90_000,
        'the session in the viewer',
      );
      await page.selectOption('#session', String(display.number));
      return {
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
      };
    };
    const novncDriver = async (): Promise<Driver> => {
      const page = await browser.context.newPage();
      await page.goto(vnc.pageUrl);
      await page.waitForFunction(() => (window as unknown as { __rfbReady?: boolean }).__rfbReady === true);
      return {
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
      };
    };

    const colours: Record<NetViewer, string[]> = {
      porthole: ['#0b3d91', '#1f5fbf', '#4f8be0', '#7fa8e6', '#b0c8f0'],
      'porthole (relay)': ['#1b5e20', '#2e7d32', '#43a047', '#81c784', '#c8e6c9'],
      noVNC: ['#8a3a00', '#d9661f', '#e88a4a', '#f0b080', '#f6d2b0'],
    };
    for (const [i, profile] of PROFILE_LIST.entries()) {
      await net.setProfile(PROFILES[profile]);
      for (const viewer of VIEWERS) {
        console.log(`net: ${profile} ${viewer}…`);
        const startedAt = Date.now();
        const porthole = viewer !== 'noVNC';
        const { result, latencies } = await measure(
          viewer,
          profile,
          porthole ? () => portholeDriver(viewer === 'porthole (relay)') : novncDriver,
          net,
          PHASE_S,
          porthole ? () => moveIndicatorAside(display.display) : undefined,
          viewer === 'porthole (relay)' ? () => stack.api.relayTotals() : undefined,
        );
        rows.push(result);
        console.log(netTable([result]).split('\n').at(-1));
        if (viewer === 'porthole') {
          // The helper logs its sender's totals when the desktop closes (the driver disconnected).
          const totals = await waitUntil(
            () => lastSenderTotals(stack.serviceOutput(), startedAt),
            10_000,
            'the helper to log its video sender totals',
          ).catch(() => undefined);
          if (totals) senderRows.push({ profile, ...totals });
        }
        series.push({
          label: `${viewer} ${profile}`,
          colour: colours[viewer][i % 5]!,
          dashed: viewer === 'noVNC',
          values: latencies,
        });
        await sleep(1000);
      }
    }
    if (process.env.BENCH_DRY !== '1' && !TRIAL) await renderChart(browser, series);
  } finally {
    // NET_DEBUG=<file>: the service's and helper's whole log goes there (else its tail is printed).
    if (process.env.NET_DEBUG?.startsWith('/')) writeFileSync(process.env.NET_DEBUG, debugOutput());
    else if (process.env.NET_DEBUG) console.log(debugOutput().slice(-6000));
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error('net cleanup:', err));
    leave();
    await net.stop();
    if (caBefore === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = caBefore;
    rmSync(certDir, { recursive: true, force: true });
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const connect = rows
    .map(
      (r) =>
        `${r.viewer} ${r.profile} ${Number.isFinite(r.connectMs) ? `${r.connectMs.toFixed(0)} ms` : `none in ${CONNECT_TIMEOUT_MS / 1000} s`}`,
    )
    .join('; ');
  const markdown = [
    `${machineLine()}; Chromium headless (software decode), ${WIDTH}×${HEIGHT}. One run of ${minutes} min; ` +
      "two cores shared with other engineers' jobs.",
    '',
    "Three network namespaces: Chromium in the viewer's, the API, `porthole service` + helper " +
      `(\`${HELPER_ARGS.join(' ')}\`, encoder ${DEFAULT_ENCODER_KIND}), Xvfb, the painter, x11vnc and websockify ` +
      "in the agent's, and between them a userspace router that reads every IPv4 packet from a TUN device " +
      'and delays, drops and reorders it (seeded, the same for UDP and TCP), plus `tbf` rate limits ' +
      '(bench/net/). The helper keeps full resolution (`--resolution full`): the probe reads a stamp ' +
      'painted into the pixels, which a halved picture blurs. Profiles (RTT split evenly between the two ' +
      'directions):',
    '',
    profilesText(PROFILE_LIST),
    '',
    `Per profile and viewer: connect, ${SETTLE_MS / 1000} s to settle, then **scrolling text** (the painter's ` +
      `60 Hz page of glyph rows moving 4 px a frame) for ${PHASE_S} s: latency (stamp → displayed), distinct ` +
      'frames displayed per second, the longest gap between displayed frames, the load offered to the link ' +
      "towards the viewer (what reached the router, IP bytes) and what the link delivered (tbf's counters). " +
      `Then a ${OUTAGE_MS / 1000} s total outage (every packet dropped both ways) and the time from its end ` +
      'to the display of the first frame painted after it. "Within the link rate": offered ≤ the profile\'s ' +
      'rate.',
    '',
    "`porthole (relay)` is the same viewer with no RTCPeerConnection: the desktop goes over the API's " +
      'WebSocket relay (TCP, wss: the API is served over TLS with a test CA for every viewer here), ' +
      'decoded with WebCodecs onto a canvas, which the probe polls once per animation frame as for noVNC. ' +
      '"Relay queue drops": video frames the API\'s queue for that viewer dropped while measuring (it fell ' +
      'behind, so the queue skipped to the next keyframe), of the video frames it was given.',
    '',
    netTable(rows),
    '',
    `Connect → first picture: ${connect}.`,
    '',
    netTargetsTable(netTargets(rows)),
    '',
    "What the helper's RTP sender did over each WebRTC connection (connect to disconnect, the outage " +
      'included; its log line "video sender totals"): keyframes sent (a keyframe storm would show here), ' +
      'packets the viewer NACKed, resent, refused over the 25 % budget or gone (older than 1 s), and pacer ' +
      'overflows with the frames skipped to the next keyframe after them.',
    '',
    senderTable(senderRows),
    '',
    '![latency per profile](bench-net-latency.png)',
  ].join('\n');
  return { title: 'Impaired networks: porthole vs noVNC (net)', markdown, dry: TRIAL };
}

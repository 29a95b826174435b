/**
 * Check 3: the service's link to the API comes back after anything the API side does to it: an
 * upgrade refused with 401 (a proxy's or the API's answer during a deploy) or 503, and the API process
 * SIGKILLed and started again, ten times. Guards issue 13 #5 (one refused upgrade and the service
 * never tried again).
 *
 * The API here is a real `porthole api serve` process on a fixed port, sharing the device store the
 * stack registered; the stand-in that refuses is a bare HTTP server on the same port before it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../fixtures/wait-for.js';
import { checkRecorder, medianMax, nowIf } from './results.js';
import { killChild, PORTHOLE_BIN, startSoakStack, type SoakStack } from './stack.js';
import { freePort } from '../fixtures/free-port.js';

/** The API link's backoff (src/service/api-link.ts): its first step waits 0.5–1 s. */
const BACKOFF_BASE_MS = 1000;
/** A link must stay open this long before its backoff starts again from the base (ApiLink). */
const LINK_STABLE_MS = 10_000;
/** Scheduling, the TCP and WebSocket handshakes, and this check's 50 ms polling. */
const SLACK_MS = 500;
const KILLS = 10;

const results = checkRecorder('api-link', 'The service’s link to the API');
let stack: SoakStack;
let port: number;
const apis: ChildProcess[] = [];
let standIn: Server | undefined;

beforeAll(async () => {
  stack = await startSoakStack({ externalApi: true });
  port = await freePort();
  stack.apiOrigin = `http://127.0.0.1:${port}`;
});

afterEach(async () => {
  await closeStandIn();
});

afterAll(async () => {
  results.write();
  await Promise.all(apis.map(killChild));
  await stack?.stop();
});

describe('the API link', () => {
  it('reconnects within its backoff after a 401 and a 503, to the real API on the same port', async () => {
    const rec = results.item(
      'refused upgrades',
      'The agent endpoint answers the upgrade 401, then 503, then the real API takes the port: after each ' +
        'refusal the service tries again within its backoff step (≤ 1 s for the first step, base 1 s), and ' +
        'it is connected at most one backoff step (+0.5 s) after the real API listens.',
    );
    const attempts: { at: number; status: number }[] = [];
    const answers = [
      'HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\ncontent-length: 12\r\nconnection: close\r\n\r\nunauthorized',
      'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
    ];
    standIn = createServer((_req, res) => res.writeHead(404).end());
    standIn.on('upgrade', (_req, socket: Socket) => {
      const answer = answers[Math.min(attempts.length, answers.length - 1)]!;
      attempts.push({ at: Date.now(), status: Number(answer.slice(9, 12)) });
      socket.end(answer);
    });
    standIn.listen(port, '127.0.0.1');
    await once(standIn, 'listening');
    const svc = stack.startService({ apiUrl: agentUrl() });
    const retried = await waitFor(() => attempts.length >= 2, { timeoutMs: 20_000 }).then(
      () => true,
      () => false,
    );
    if (!retried) rec.set('next attempt after the 401 (ms)', 'none within 20 s');
    expect(retried, 'an attempt after the 401').toBe(true);
    await closeStandIn();
    const api = await startApi();
    const connectedAt = await waitConnected(15_000);
    const afterRefusal = (i: number): number => attempts[i + 1]!.at - attempts[i]!.at;
    rec.set('next attempt after the 401 (ms)', afterRefusal(0));
    const steps = backoffSteps(svc.output());
    const retryAfter503 = steps.find((s) => s.status === 503);
    rec.set('next attempt after the 503 (ms, scheduled)', retryAfter503?.delayMs ?? 'none');
    rec.set('real API listening → agent connected (ms)', connectedAt - api.listeningAt);
    rec.set(
      'backoff steps logged (status or error: delay ms)',
      steps.map((s) => `${s.status ?? s.err ?? '?'}: ${s.delayMs}`).join(', '),
    );
    expect(attempts.map((a) => a.status).slice(0, 2)).toEqual([401, 503]);
    expect(afterRefusal(0)).toBeLessThanOrEqual(BACKOFF_BASE_MS + SLACK_MS);
    expect(retryAfter503?.delayMs).toBeLessThanOrEqual(BACKOFF_BASE_MS);
    expect(connectedAt - api.listeningAt).toBeLessThanOrEqual(steps.at(-1)!.delayMs + SLACK_MS);
    rec.passed();
  }, 60_000);

  it(`reconnects after the API process is SIGKILLed and restarted, ${KILLS} times`, async () => {
    const rec = results.item(
      `API SIGKILLed ×${KILLS}`,
      `The API process is SIGKILLed ${KILLS} times, each time after the link had been up ${LINK_STABLE_MS / 1000} s ` +
        '(so each outage starts from the base of the backoff), and started again at once on the same port: ' +
        'each time the service is connected again at most one backoff step (+0.5 s) after the API listens, ' +
        'and a command (list_sessions) goes through.',
    );
    // Runs on after the refusals (or on its own, when only this test is picked).
    if (!apis.some((a) => a.exitCode === null && a.signalCode === null)) await startApi();
    if (!stack.service) stack.startService({ apiUrl: agentUrl() });
    let connectedAt = await waitConnected(30_000);
    const downtime: number[] = [];
    const reconnect: number[] = [];
    const sinceListening: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      await sleep(Math.max(0, connectedAt + LINK_STABLE_MS + 200 - Date.now()));
      const victim = apis.at(-1)!;
      const steps = backoffSteps(stack.service!.output()).length;
      const killedAt = Date.now();
      victim.kill('SIGKILL');
      await once(victim, 'exit');
      const api = await startApi();
      connectedAt = await waitConnected(15_000);
      const step = backoffSteps(stack.service!.output()).slice(steps).at(-1);
      downtime.push(api.listeningAt - killedAt);
      reconnect.push(connectedAt - killedAt);
      sinceListening.push(connectedAt - api.listeningAt);
      expect(step, 'a logged backoff step').toBeDefined();
      expect(connectedAt - api.listeningAt).toBeLessThanOrEqual(step!.delayMs + SLACK_MS);
      expect((await stack.sessions()).length).toBe(1);
      rec.set('reconnected', `${i + 1} of ${KILLS}`);
      rec.set('API down: kill → listening again (ms, median / max)', medianMax(downtime));
      rec.set('kill → service connected (ms, median / max)', medianMax(reconnect));
      rec.set('API listening → service connected (ms, median / max)', medianMax(sinceListening));
    }
    rec.passed();
  }, 240_000);
});

const agentUrl = (): string => `ws://127.0.0.1:${port}/api/agent`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function closeStandIn(): Promise<void> {
  const s = standIn;
  standIn = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise<void>((r) => s.close(() => r()));
}

/** A `porthole api serve` process on the port; resolves once it listens. */
async function startApi(): Promise<{ listeningAt: number }> {
  const child = spawn(
    process.execPath,
    [PORTHOLE_BIN, 'api', 'serve', '--port', String(port), '--data-dir', join(stack.dir, 'api')],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORTHOLE_FROM_SOURCE: '1' } },
  );
  apis.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const listeningAt = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`porthole api serve exited (${code}): ${err}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/listening on/.test(line)) resolve(Date.now());
    });
  });
  return { listeningAt };
}

/** Waits until the API lists the device online, polling every 50 ms; resolves with that moment. */
async function waitConnected(timeoutMs: number): Promise<number> {
  return waitFor(
    async () => {
      const res = await fetch(`${stack.apiOrigin}/api/devices`, {
        headers: { authorization: `Bearer ${stack.viewerToken}` },
      });
      const { devices } = (await res.json()) as { devices: { id: string; online: boolean }[] };
      return nowIf(devices.some((d) => d.id === stack.deviceId && d.online));
    },
    {
      what: 'the service to connect to the API',
      timeoutMs,
      intervalMs: 50,
      detail: () => stack.service?.output().slice(-2000) ?? '',
    },
  );
}

interface BackoffStep {
  status?: number;
  err?: string;
  delayMs: number;
}

/** The API link's log lines, one per failed attempt, with the delay it scheduled. */
function backoffSteps(output: string): BackoffStep[] {
  const steps: BackoffStep[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"delayMs"') || !/API (refused|link)/.test(line)) continue;
    try {
      const o = JSON.parse(line) as { status?: number; err?: string; delayMs: number };
      steps.push({ status: o.status, err: o.err, delayMs: o.delayMs });
    } catch {
      // a partial line at the end of the buffer
    }
  }
  return steps;
}

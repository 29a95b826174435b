/**
 * The whole stack for the soak checks, as real processes: Xvfb displays as sessions, the reference
 * API (in this process, or any URL a check hands over), and `porthole service` spawning real helpers,
 * which spawn real ffmpeg encoders. A viewer is a node-datachannel offerer (test/fixtures/webrtc-offerer.ts)
 * that signs in to the API with a viewer token, as the browser viewer does.
 *
 * Every process started here, and every helper and encoder below a service, is killed by `stop()`,
 * whatever state a failed check left them in (`killTree`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import type { SessionInfo } from '../../src/protocol/api.js';
import type { DesktopStarter } from '../fixtures/desktop-cycles.js';
import { childPids, isAlive, listProcesses } from '../fixtures/processes.js';
import { waitFor } from '../fixtures/wait-for.js';
import { startXvfb, type XvfbHandle } from '../fixtures/xvfb.js';

export const PORTHOLE_BIN = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  /** Everything the service logged (its helpers' lines are forwarded into it), the last 2 MB. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartServiceOptions {
  /** Extra `porthole helper` arguments (`helper.args` in porthole.json). */
  helperArgs?: string[];
  policy?: Record<string, number>;
  /** The agent endpoint; default this stack's API. */
  apiUrl?: string;
}

export interface ApiAnswer {
  status: number;
  body: { sessionId?: string; answer?: string; error?: { code: string; message: string } };
  /** The Retry-After header, in seconds, when there is one. */
  retryAfter: number | undefined;
}

export interface SoakStack {
  xvfb: XvfbHandle[];
  /** The in-process API (absent when the check runs its own, see `externalApi`). */
  api: ApiServer | undefined;
  /** Where viewer requests go: the in-process API's origin, or the one a check sets. */
  apiOrigin: string;
  deviceId: string;
  deviceToken: string;
  /** A viewer token named `soak-viewer`. */
  viewerToken: string;
  dir: string;
  service: ServiceProcess | undefined;
  startService(opts?: StartServiceOptions): ServiceProcess;
  /** Waits until the session of display `i` has a ready helper and returns the helper's pid. */
  readyHelper(i?: number, timeoutMs?: number): Promise<number>;
  /** The live helper processes of display `i`'s session (any service's). */
  helperPids(i?: number): number[];
  issueViewerToken(name: string): Promise<string>;
  startDesktop(offer: string, opts?: { token?: string; display?: number }): Promise<ApiAnswer>;
  stopDesktop(desktopId: string, token?: string): Promise<ApiAnswer>;
  sessions(): Promise<SessionInfo[]>;
  /** A runDesktopCycles starter going viewer → API → service → helper. */
  starter(display?: number): DesktopStarter;
  /**
   * SIGKILLs every service started here and everything below them (helpers, encoders), and any helper
   * of these displays that outlived its service; waits until they are gone.
   */
  killService(): Promise<void>;
  stop(): Promise<void>;
}

export interface SoakStackOptions {
  displays?: number;
  screen?: { w: number; h: number };
  /** Don't start an API here: the check runs one of its own (its device store is `dir/api`). */
  externalApi?: boolean;
}

export async function startSoakStack(opts: SoakStackOptions = {}): Promise<SoakStack> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-soak-'));
  const cleanups: (() => Promise<unknown> | unknown)[] = [
    () => rmSync(dir, { recursive: true, force: true }),
  ];
  const runCleanups = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        console.warn(`soak cleanup: ${String(err)}`);
      }
    }
  };
  try {
    const screen = opts.screen ?? { w: 320, h: 240 };
    const xvfb: XvfbHandle[] = [];
    for (let i = 0; i < (opts.displays ?? 1); i++) {
      const x = await startXvfb({ screens: [screen] });
      cleanups.push(() => x.stop());
      xvfb.push(x);
    }
    const dataDir = join(dir, 'api');
    // The store is a directory of files: an API process started later on the same directory (the
    // reconnect check) finds the device and tokens registered here.
    const api = await startApiServer({ dataDir, port: 0 });
    cleanups.push(() => api.close()); // idempotent
    const device = await api.addDevice('soak');
    const viewerToken = await api.issueViewerToken('soak-viewer');
    if (opts.externalApi) await api.close();
    const tokenFile = join(dir, 'device.token');
    writeFileSync(tokenFile, device.token, { mode: 0o600 });
    let serviceSeq = 0;
    const services: ServiceProcess[] = [];
    const killServices = async (): Promise<void> => {
      await Promise.all(services.map((s) => killChild(s.child)));
      // A helper that outlived its service (ppid 1) is no longer in the service's tree.
      await Promise.all(xvfb.flatMap((x) => helperPidsOf(x.displayNumber)).map(killTree));
    };
    cleanups.push(killServices);

    const stack: SoakStack = {
      xvfb,
      api: opts.externalApi ? undefined : api,
      apiOrigin: api.url,
      deviceId: device.id,
      deviceToken: device.token,
      viewerToken,
      dir,
      service: undefined,
      startService(o = {}) {
        const configPath = join(dir, `porthole-${++serviceSeq}.json`);
        writeFileSync(
          configPath,
          JSON.stringify({
            logLevel: 'info',
            sessions: { pollMs: 1000, configured: xvfb.map((x) => ({ display: x.display })) },
            helper: { args: o.helperArgs ?? [] },
            policy: { backoffBaseMs: 250, backoffMaxMs: 2000, stopGraceMs: 2000, ...o.policy },
          }),
        );
        const apiUrl = o.apiUrl ?? api.agentUrl;
        const child = spawn(
          process.execPath,
          [
            PORTHOLE_BIN,
            'service',
            '--config',
            configPath,
            '--api-url',
            apiUrl,
            '--device-id',
            device.id,
            '--token-file',
            tokenFile,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORTHOLE_FROM_SOURCE: '1' } },
        );
        let out = '';
        const keep = (d: Buffer): void => {
          out = (out + d.toString()).slice(-2_000_000);
        };
        child.stdout?.on('data', keep);
        child.stderr?.on('data', keep);
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
          child.once('exit', (code, signal) => resolve({ code, signal })),
        );
        const svc: ServiceProcess = { child, pid: child.pid ?? -1, output: () => out, exited };
        services.push(svc);
        stack.service = svc;
        return svc;
      },
      async readyHelper(i = 0, timeoutMs = 30_000) {
        const display = xvfb[i]?.displayNumber;
        await waitFor(
          async () =>
            (await stack.sessions()).find((s) => s.sessionId === display)?.helperState === 'ready' &&
            stack.helperPids(i).length === 1,
          {
            what: `a ready helper on :${display}`,
            timeoutMs,
            intervalMs: 100,
            detail: () => stack.service?.output().slice(-3000) ?? '',
          },
        );
        return stack.helperPids(i)[0] as number;
      },
      helperPids(i = 0) {
        return helperPidsOf(xvfb[i]?.displayNumber ?? -1);
      },
      issueViewerToken: (name) => api.issueViewerToken(name),
      async startDesktop(offer, o = {}) {
        const display = xvfb[o.display ?? 0]?.displayNumber;
        return request(stack.apiOrigin, 'POST', `/api/devices/${device.id}/desktop`, o.token ?? viewerToken, {
          offer,
          targetSessionId: display,
        });
      },
      stopDesktop(desktopId, token) {
        return request(
          stack.apiOrigin,
          'DELETE',
          `/api/devices/${device.id}/desktop/${encodeURIComponent(desktopId)}`,
          token ?? viewerToken,
        );
      },
      async sessions() {
        const r = await request(stack.apiOrigin, 'GET', `/api/devices/${device.id}/sessions`, viewerToken);
        if (r.status !== 200) throw new Error(`GET sessions: ${r.status} ${JSON.stringify(r.body)}`);
        return (r.body as { sessions: SessionInfo[] }).sessions;
      },
      starter(display = 0) {
        return async (offer) => {
          const r = await stack.startDesktop(offer, { display });
          if (r.status !== 200 || !r.body.answer || !r.body.sessionId) {
            throw new Error(`start_desktop: ${r.status} ${JSON.stringify(r.body)}`);
          }
          const id = r.body.sessionId;
          return {
            answer: r.body.answer,
            stop: async () => {
              const s = await stack.stopDesktop(id);
              if (s.status !== 200) throw new Error(`stop_desktop: ${s.status} ${JSON.stringify(s.body)}`);
            },
          };
        };
      },
      killService: killServices,
      stop: runCleanups,
    };
    return stack;
  } catch (err) {
    await runCleanups();
    throw err;
  }
}

/** `porthole helper` processes serving OS session (display number) `session`. */
export function helperPidsOf(session: number): number[] {
  return listProcesses(
    (argv) => argv.includes('helper') && argv[argv.indexOf('--session') + 1] === String(session),
  ).map((p) => p.pid);
}

/** `pid` and every live descendant, parents first. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    out.push(p);
    for (const c of childPids(p)) walk(c);
  };
  if (isAlive(pid)) walk(pid);
  return out;
}

/**
 * SIGKILLs a child process of this one and its descendants, unless it has exited already (its pid
 * may belong to someone else by now).
 */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    await killTree(child.pid);
  }
}

/**
 * SIGKILLs a process and its descendants (collected first: a helper whose service dies may outlive it
 * with ppid 1 on a broken build, and must not escape the cleanup) and waits until they are gone.
 */
export async function killTree(pid: number): Promise<void> {
  const pids = processTree(pid);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitFor(() => pids.every((p) => !isAlive(p)), { what: `processes ${pids.join(',')} to die` });
}

async function request(
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const retryAfter = res.headers.get('retry-after');
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as ApiAnswer['body']) : {},
    retryAfter: retryAfter === null ? undefined : Number(retryAfter),
  };
}

/**
 * Everything porthole needs on one machine, started together: X displays (Xvfb) as sessions, the
 * reference API on localhost, and `porthole service` brokering helpers into those displays. Used by
 * `porthole demo` and by the end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer, type ApiServer } from '../api/server.js';
import type { IceConfig } from '../api/turn-credentials.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { requirePrograms } from './system-tools.js';
import { decorateDisplay, startXvfb, stopChild, type XDisplay } from './x-display.js';
import { errorMessage } from '../errors/error-text.js';

export interface DemoSessionSpec {
  /** Background colour of the display (an X colour name or #rrggbb). */
  colour: string;
  title: string;
  /** Start an existing display instead of a new Xvfb (e.g. the user's own $DISPLAY). */
  display?: string;
  /** The new Xvfb's display number (default: a free one Xvfb picks); see `privateDisplayNumber`. */
  displayNumber?: number;
  width?: number;
  height?: number;
  /** Skip the xterm clock and shell. */
  bare?: boolean;
  /** The session's user (as the service config's `username`); default: whoever owns the display. */
  username?: string;
}

export interface DemoStackOptions {
  sessions: DemoSessionSpec[];
  port?: number;
  ice?: IceConfig;
  log?: Logger;
  /** Extra `porthole helper` arguments (e.g. ['--fps', '30']). */
  helperArgs?: string[];
  /** Keep helpers as root instead of the session user (the service config's `helper.keepRoot`). */
  keepRoot?: boolean;
  logLevel?: string;
  /** The service config's `access` section (consent, session limits: design/SESSION-POLICY.md). */
  access?: Record<string, unknown>;
  /** The service config's `audio` section (`{enabled: false}` turns the session's sound off). */
  audio?: Record<string, unknown>;
  /**
   * Serve the API over HTTPS/wss with this certificate. The service (and its helpers) must trust it:
   * a private CA goes in NODE_EXTRA_CA_CERTS of this process, which they inherit.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface DemoStack {
  api: ApiServer;
  deviceId: string;
  /** Display per session, in the order given. */
  displays: { display: string; number: number }[];
  /** A one-time URL that signs the viewer in. */
  loginUrl(name?: string): Promise<string>;
  serviceOutput(): string;
  servicePid: number;
  stop(): Promise<void>;
}

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));

export async function startDemoStack(opts: DemoStackOptions): Promise<DemoStack> {
  const log = opts.log ?? silentLogger;
  const needsXvfb = opts.sessions.some((s) => !s.display);
  requirePrograms([
    ...(needsXvfb ? ['Xvfb'] : []),
    'ffmpeg',
    ...(opts.sessions.some((s) => !s.bare) ? ['xterm', 'xsetroot'] : []),
  ]);

  const dir = mkdtempSync(join(tmpdir(), 'porthole-demo-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'demo cleanup step failed');
      }
    }
  };
  try {
    const displays: { display: string; number: number }[] = [];
    for (const s of opts.sessions) {
      let x: Pick<XDisplay, 'display' | 'number'>;
      if (s.display) {
        x = { display: s.display, number: Number(/^:(\d+)/.exec(s.display)?.[1] ?? 0) };
      } else {
        const started = await startXvfb(s.width ?? 1280, s.height ?? 720, s.displayNumber);
        cleanups.push(() => started.stop());
        x = started;
      }
      if (!s.bare) {
        const extras = decorateDisplay(x.display, s.colour, s.title);
        cleanups.push(() => Promise.all(extras.map((c) => stopChild(c, 1000))).then(() => undefined));
      }
      displays.push({ display: x.display, number: x.number });
    }

    const api = await startApiServer({
      dataDir: join(dir, 'api'),
      port: opts.port ?? 0,
      ice: opts.ice,
      log,
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    cleanups.push(() => api.close());
    const device = await api.addDevice('demo');
    const tokenFile = join(dir, 'device.token');
    writeFileSync(tokenFile, device.token, { mode: 0o600 });
    const configFile = join(dir, 'porthole.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        logLevel: opts.logLevel ?? 'info',
        sessions: {
          pollMs: 1000,
          configured: displays.map((d, i) => ({
            display: d.display,
            ...(opts.sessions[i]?.username ? { username: opts.sessions[i].username } : {}),
          })),
        },
        helper: { args: opts.helperArgs ?? [], ...(opts.keepRoot ? { keepRoot: true } : {}) },
        ...(opts.access ? { access: opts.access } : {}),
        ...(opts.audio ? { audio: opts.audio } : {}),
      }),
    );
    const service: ChildProcess = spawn(
      process.execPath,
      [
        bin,
        'service',
        '--config',
        configFile,
        '--api-url',
        api.agentUrl,
        '--device-id',
        device.id,
        '--token-file',
        tokenFile,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const keep = (d: Buffer): void => {
      output = (output + d.toString()).slice(-200_000);
    };
    service.stdout?.on('data', keep);
    service.stderr?.on('data', keep);
    cleanups.push(() => stopChild(service, 8000));

    return {
      api,
      deviceId: device.id,
      displays,
      servicePid: service.pid ?? -1,
      loginUrl: async (name = 'demo') => `${api.url}/#login=${await api.issueLoginToken(name)}`,
      serviceOutput: () => output,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

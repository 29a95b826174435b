import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Logger } from '../log/logger.js';
import { ApiLink } from '../service/api-link.js';
import { SessionBroker } from '../service/broker.js';
import { loadServiceConfig, type ServiceConfig } from '../service/config.js';
import { ipcLinkOpener } from '../service/ipc-link.js';
import type { SessionDetector } from '../service/sessions/session-detector.js';
import { X11SessionDetector } from '../service/sessions/x11-session-detector.js';
import type { HelperSpawner } from '../service/spawn/helper-spawner.js';
import { X11HelperSpawner } from '../service/spawn/x11-helper-spawner.js';
import { helperConsentPrompter } from '../service/consent/helper-consent-prompter.js';
import { EXIT_OK, type Command } from './command.js';
import { waitForStopSignal } from './stop-signal.js';
import {
  runServiceSubcommand,
  runUnderScm,
  SERVICE_WINDOWS_OPTIONS,
  serviceSubcommandHelp,
} from './service-windows.js';
import {
  isLinuxServiceSubcommand,
  linuxServiceSubcommandHelp,
  runLinuxServiceSubcommand,
  SERVICE_LINUX_OPTIONS,
} from './service-linux.js';
import { createLogger } from '../log/pino-logger.js';
import { serviceConfigFile } from '../service/install-paths.js';
import {
  checkEnrollOnlyFlags,
  enrollHelp,
  runServiceEnroll,
  SERVICE_ENROLL_OPTIONS,
} from './service-enroll.js';

/**
 * argv that starts this same porthole (node + bin/porthole.js), for spawning helpers and for the
 * installed service's ImagePath. This file runs from src/cli (tsx) or dist/src/cli (a build): bin/ is
 * next to src/ and dist/ at the package root either way.
 */
export function portholeCommand(): string[] {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const fromDist = basename(dirname(dirname(here))) === 'dist';
  const root = resolve(here, fromDist ? '../../..' : '../..');
  return [process.execPath, join(root, 'bin', 'porthole.js')];
}

export const serviceCommand: Command = {
  name: 'service',
  summary: 'Run the agent service (Session 0 / root daemon) that brokers per-session helpers',
  usage:
    'porthole service [enroll | install | uninstall | status | start | stop] [--config porthole.json] [--api-url wss://…] [--device-id ID] [--token-file FILE]',
  options: {
    config: {
      type: 'string',
      short: 'c',
      description:
        'Config file (JSON); env PORTHOLE_CONFIG; default /etc/porthole/porthole.json (Windows: %ProgramData%\\porthole\\porthole.json) when it exists',
    },
    'api-url': {
      type: 'string',
      description:
        'API agent endpoint (ws:// or wss://), or several separated by commas, tried in turn; env PORTHOLE_API_URL',
    },
    'device-id': { type: 'string', description: 'This device id at the API; env PORTHOLE_DEVICE_ID' },
    'token-file': {
      type: 'string',
      description: 'File holding the device token (env PORTHOLE_TOKEN_FILE, or PORTHOLE_TOKEN itself)',
    },
    direct: { type: 'boolean', description: 'Dev mode: run desktops in this process, without helpers' },
    'log-level': { type: 'string', description: 'debug | info | warn | error | silent (default info)' },
    ...SERVICE_WINDOWS_OPTIONS,
    ...SERVICE_LINUX_OPTIONS,
    ...SERVICE_ENROLL_OPTIONS,
  },
  helpFor: (positionals) =>
    enrollHelp(positionals) ??
    (process.platform === 'linux' ? linuxServiceSubcommandHelp(positionals) : undefined) ??
    serviceSubcommandHelp(positionals),
  async run(values, positionals) {
    const [sub, ...extra] = positionals;
    if (sub === 'enroll') return runServiceEnroll(extra, values);
    checkEnrollOnlyFlags(values);
    if (sub !== undefined && process.platform === 'linux' && isLinuxServiceSubcommand(sub))
      return runLinuxServiceSubcommand(sub, extra, values, { portholeCommand: portholeCommand() });
    if (sub !== undefined)
      return runServiceSubcommand(sub, extra, values, { portholeCommand: portholeCommand() });
    const loadConfig = () =>
      loadServiceConfig({
        file: serviceConfigFile(values.config as string | undefined, process.env),
        env: process.env,
        flags: {
          apiUrl: values['api-url'] as string | undefined,
          deviceId: values['device-id'] as string | undefined,
          tokenFile: values['token-file'] as string | undefined,
          direct: values.direct as boolean | undefined,
          logLevel: values['log-level'] as string | undefined,
        },
      });
    // Under the SCM a bad config must still reach the SCM as a failed start, not as a process that
    // never connected: the host loads it.
    if (values.scm === true) return runUnderScm(loadConfig, values, createServiceAgent);
    const config = loadConfig();
    const log = createLogger('porthole-service', config.logLevel);
    // --direct runs desktops in this process; without it, the service never loads helper code.
    if (config.direct) return (await import('./direct-mode.js')).runDirectMode(config, log);

    const agent = createServiceAgent(config, log);
    await agent.start();
    const signal = await waitForStopSignal();
    log.info({ signal }, 'service stopping');
    await agent.stop();
    log.info({}, 'service stopped');
    return EXIT_OK;
  },
};

/**
 * The Windows parts (WTS detector, SYSTEM spawner, named pipes) declare their koffi types when
 * evaluated, which loads koffi's native library: they are imported on Windows only, so the Linux
 * service carries none of it.
 */
const win32 =
  process.platform === 'win32'
    ? {
        ...(await import('../service/sessions/win32-session-detector.js')),
        ...(await import('../service/spawn/win32-helper-spawner.js')),
        ...(await import('../service/windows/pipe-link.js')),
        ...(await import('../service/windows/win32-secure-attention.js')),
        ...(await import('../service/windows/win32-consent-prompt.js')),
      }
    : undefined;

/** The service's parts (detector, spawner, broker, API link), started and stopped as one. */
export interface ServiceAgent {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Feeds a SERVICE_CONTROL_SESSIONCHANGE notice to the Windows detector (ignored elsewhere). */
  sessionChange(kind: string, sessionId: number): void;
}

export function createServiceAgent(
  config: ServiceConfig,
  log: Logger,
  opts: { helperLogDir?: string; underScm?: boolean } = {},
): ServiceAgent {
  const wts = win32 && config.sessions.detector !== 'x11' ? win32 : undefined;
  if (!wts && process.platform !== 'linux' && config.sessions.detector !== 'x11') {
    throw new Error(`no session detector for platform '${process.platform}'`);
  }
  const detector: SessionDetector = wts
    ? new wts.Win32SessionDetector({ pollMs: config.sessions.pollMs, log })
    : new X11SessionDetector({
        pollMs: config.sessions.pollMs,
        ...(config.sessions.socketDir ? { socketDir: config.sessions.socketDir } : {}),
        ...(config.sessions.configured ? { configured: config.sessions.configured } : {}),
        log,
      });
  const win32Spawner = win32
    ? new win32.Win32HelperSpawner({
        command: portholeCommand(),
        helperArgs: config.helper.args,
        log,
        ...(opts.helperLogDir ? { logDir: opts.helperLogDir } : {}),
      })
    : undefined;
  const spawner: HelperSpawner =
    win32Spawner ??
    new X11HelperSpawner({
      command: portholeCommand(),
      helperArgs: config.helper.args,
      keepRoot: config.helper.keepRoot,
      log,
    });
  const broker = new SessionBroker({
    detector,
    spawner,
    openLink: win32 ? win32.pipeLinkOpener(log) : ipcLinkOpener(log),
    log,
    policy: config.policy,
    spawnOnLogon: config.sessions.spawnOnLogon,
    access: config.access,
    audio: config.audio,
    // The prompt in the target session: a message box from the service on Windows, a window the
    // session's helper shows as its user on X11.
    consentPrompter: wts ? wts.createWin32ConsentPrompter() : helperConsentPrompter,
    affinity: config.sessions.affinity,
    requestTimeoutMs: config.policy.requestTimeoutMs,
    // Ctrl+Alt+Del: SendSAS works only from a service (secure-attention.ts); elsewhere `unsupported`.
    ...(win32
      ? { secureAttention: win32.createWin32SecureAttention({ underScm: opts.underScm === true }) }
      : {}),
    // Metadata from inside desktops (a file moved), on to the API's audit log.
    onAudit: (targetSessionId, event) => {
      if (!link?.sendEvent({ type: 'event', targetSessionId, event })) {
        log.info(
          { sessionId: targetSessionId, kind: event.kind, desktop: event.desktop },
          'audit event not sent: no API link',
        );
      }
    },
  });
  const link = config.api
    ? new ApiLink({
        ...config.api,
        log,
        handler: async (cmd, progress) => {
          switch (cmd.type) {
            case 'list_sessions':
              return { sessions: broker.listSessions() };
            case 'start_desktop':
              return broker.startDesktop(cmd.payload, {
                onWaiting: (timeoutMs) => progress.waitingForConsent(timeoutMs),
              });
            case 'stop_desktop':
              return broker.stopDesktop(cmd.payload);
            case 'add_peer':
              return broker.addPeer(cmd.payload);
          }
        },
      })
    : undefined;
  return {
    async start() {
      await broker.start();
      if (link) link.start();
      else log.warn({}, 'no API configured (--api-url, --device-id, --token-file): running sessions only');
    },
    async stop() {
      await link?.stop();
      await broker.stop();
      win32Spawner?.close();
    },
    sessionChange(kind, sessionId) {
      if (wts && detector instanceof wts.Win32SessionDetector) detector.notify(kind, sessionId);
    },
  };
}

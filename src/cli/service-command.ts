import { fileURLToPath } from 'node:url';
import { createLogger } from '../log/logger.js';
import { ApiLink } from '../service/api-link.js';
import { SessionBroker } from '../service/broker.js';
import { loadServiceConfig } from '../service/config.js';
import { ipcLinkOpener } from '../service/ipc-link.js';
import { createSessionDetector } from '../service/sessions/index.js';
import { Win32HelperSpawner } from '../service/spawn/win32-helper-spawner.js';
import { X11HelperSpawner } from '../service/spawn/x11-helper-spawner.js';
import { pipeLinkOpener } from '../service/windows/pipe-link.js';
import { EXIT_OK, UsageError, type Command } from './command.js';
import { runDirectMode } from './direct-mode.js';

/** argv that starts this same porthole (node + bin/porthole.js), for spawning helpers. */
export function portholeCommand(): string[] {
  return [process.execPath, fileURLToPath(new URL('../../bin/porthole.js', import.meta.url))];
}

export const serviceCommand: Command = {
  name: 'service',
  summary: 'Run the agent service (Session 0 / root daemon) that brokers per-session helpers',
  usage: 'porthole service [--config porthole.json] [--api-url wss://…] [--device-id ID] [--token-file FILE]',
  options: {
    config: { type: 'string', short: 'c', description: 'Config file (JSON); env PORTHOLE_CONFIG' },
    'api-url': { type: 'string', description: 'API agent endpoint (ws:// or wss://); env PORTHOLE_API_URL' },
    'device-id': { type: 'string', description: 'This device id at the API; env PORTHOLE_DEVICE_ID' },
    'token-file': {
      type: 'string',
      description: 'File holding the device token (env PORTHOLE_TOKEN_FILE, or PORTHOLE_TOKEN itself)',
    },
    direct: { type: 'boolean', description: 'Dev mode: run desktops in this process, without helpers' },
    'log-level': { type: 'string', description: 'debug | info | warn | error | silent (default info)' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const config = loadServiceConfig({
      file: (values.config as string | undefined) ?? process.env.PORTHOLE_CONFIG,
      env: process.env,
      flags: {
        apiUrl: values['api-url'] as string | undefined,
        deviceId: values['device-id'] as string | undefined,
        tokenFile: values['token-file'] as string | undefined,
        direct: values.direct as boolean | undefined,
        logLevel: values['log-level'] as string | undefined,
      },
    });
    const log = createLogger('porthole-service', config.logLevel);
    if (config.direct) return runDirectMode(config, log);

    const detector = createSessionDetector({
      kind: config.sessions.detector === 'x11' ? 'x11' : 'auto',
      pollMs: config.sessions.pollMs,
      ...(config.sessions.socketDir ? { socketDir: config.sessions.socketDir } : {}),
      ...(config.sessions.configured ? { configured: config.sessions.configured } : {}),
      log,
    });
    const windows = process.platform === 'win32';
    const spawner = windows
      ? new Win32HelperSpawner({ command: portholeCommand(), helperArgs: config.helper.args, log })
      : new X11HelperSpawner({
          command: portholeCommand(),
          helperArgs: config.helper.args,
          keepRoot: config.helper.keepRoot,
          log,
        });
    const broker = new SessionBroker({
      detector,
      spawner,
      openLink: windows ? pipeLinkOpener(log) : ipcLinkOpener(log),
      log,
      policy: config.policy,
      spawnOnLogon: config.sessions.spawnOnLogon,
      affinity: config.sessions.affinity,
      requestTimeoutMs: config.policy.requestTimeoutMs,
    });
    await broker.start();

    const link = config.api
      ? new ApiLink({
          ...config.api,
          log,
          handler: async (cmd) => {
            switch (cmd.type) {
              case 'list_sessions':
                return { sessions: broker.listSessions() };
              case 'start_desktop':
                return broker.startDesktop(cmd.payload);
              case 'stop_desktop':
                return broker.stopDesktop(cmd.payload);
            }
          },
        })
      : undefined;
    if (link) link.start();
    else log.warn({}, 'no API configured (--api-url, --device-id, --token-file): running sessions only');

    const signal = await waitForStopSignal();
    log.info({ signal }, 'service stopping');
    await link?.stop();
    await broker.stop();
    if (spawner instanceof Win32HelperSpawner) spawner.close();
    log.info({}, 'service stopped');
    return EXIT_OK;
  },
};

export function waitForStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
}

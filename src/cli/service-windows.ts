/**
 * The Windows side of `porthole service`: `install | uninstall | status | start | stop` through the
 * SCM API, and `--scm`, the hidden flag the installed ImagePath passes so that the process knows at
 * once that the SCM started it (StartServiceCtrlDispatcherW would only say otherwise after ~10 s
 * under Wine). Without `--scm` the service runs in the console, as on Linux.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { LOG_LEVELS, silentLogger, type Logger } from '../log/logger.js';
import type { ServiceConfig } from '../service/config.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, type OptionSpec } from './command.js';
import { errorMessage } from '../errors/error-text.js';

export const DEFAULT_SERVICE_NAME = 'porthole';

export const SERVICE_WINDOWS_OPTIONS: Record<string, OptionSpec> = {
  name: {
    type: 'string',
    description: `The service name (Windows service / systemd unit; default ${DEFAULT_SERVICE_NAME})`,
  },
  'log-dir': {
    type: 'string',
    description: 'Windows, under the SCM: folder of service.log (default %ProgramData%\\porthole\\logs)',
  },
  json: { type: 'boolean', description: 'status: print JSON' },
  scm: { type: 'boolean', hidden: true, description: 'Set by the installed service: run under the SCM' },
};

const SUBCOMMANDS: Record<string, string> = {
  install: [
    'Usage: porthole service install [--name porthole] [--config FILE] [--log-dir DIR] [--log-level LEVEL]',
    '',
    'Windows, as administrator: installs (or updates) the service: LocalSystem, auto-start, restarted',
    '5 s after a failure. Its command line runs this node.exe and porthole with `service --scm` and the',
    'given --config/--log-dir/--log-level (paths made absolute and quoted). Running it twice updates the',
    'service; a service still marked for delete is waited for (up to 15 s). First it creates (or checks',
    'and repairs) %ProgramData%\\porthole so that only SYSTEM and Administrators can use it, and refuses',
    'to go on if that folder belongs to someone else.',
  ].join('\n'),
  uninstall: [
    'Usage: porthole service uninstall [--name porthole]',
    '',
    'Windows, as administrator: stops the service if it runs, then deletes it. Nothing installed is',
    'not an error.',
  ].join('\n'),
  status: [
    'Usage: porthole service status [--name porthole] [--json]',
    '',
    'Windows: prints the service state, process id, start type, account and command line, or',
    '"not installed".',
  ].join('\n'),
  start:
    'Usage: porthole service start [--name porthole]\n\nWindows: starts the service and waits until it runs.',
  stop: 'Usage: porthole service stop [--name porthole]\n\nWindows: stops the service and waits until it has stopped.',
};

/** Help for `porthole service <sub> --help`; undefined for the service itself. */
export function serviceSubcommandHelp(positionals: string[]): string | undefined {
  const sub = positionals[0];
  return sub === undefined ? undefined : SUBCOMMANDS[sub];
}

export async function runServiceSubcommand(
  sub: string,
  extra: string[],
  values: Record<string, unknown>,
  deps: { portholeCommand: string[] },
): Promise<number> {
  if (!(sub in SUBCOMMANDS))
    throw new UsageError(`unknown sub-command '${sub}' (install, uninstall, status, start, stop)`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (process.platform !== 'win32') {
    throw new UsageError(`'service ${sub}' is for Windows; on Linux run 'porthole service' under systemd`);
  }
  const { installService, queryService, startService, stopService, uninstallService } =
    await import('../service/windows/service-manager.js');
  const name = (values.name as string | undefined) ?? DEFAULT_SERVICE_NAME;
  switch (sub) {
    case 'install': {
      const { portholeDataDir, secureDataDir, win32DataDirApi } =
        await import('../service/windows/data-dir.js');
      const dataDir = portholeDataDir();
      const secured = secureDataDir(dataDir, win32DataDirApi);
      console.log(`${name}: data folder ${dataDir} ${DATA_DIR_OUTCOME[secured]}`);
      const command = [...deps.portholeCommand, 'service', '--scm'];
      if (name !== DEFAULT_SERVICE_NAME) command.push('--name', name);
      const config = values.config as string | undefined;
      if (config !== undefined) command.push('--config', absolute(config));
      const logDir = values['log-dir'] as string | undefined;
      if (logDir !== undefined) command.push('--log-dir', absolute(logDir));
      const level = values['log-level'] as string | undefined;
      if (level !== undefined) command.push('--log-level', level);
      const outcome = await installService(
        {
          name,
          displayName: name === DEFAULT_SERVICE_NAME ? 'porthole' : `porthole (${name})`,
          description: 'porthole remote-desktop agent: brokers a capture helper in each user session',
          command,
        },
        { warn: (message) => console.error(`${name}: warning: ${message}`) },
      );
      console.log(`${name}: ${outcome}`);
      return EXIT_OK;
    }
    case 'uninstall': {
      const outcome = await uninstallService(name);
      console.log(`${name}: ${outcome === 'removed' ? 'removed' : 'not installed'}`);
      return EXIT_OK;
    }
    case 'start':
      await startService(name);
      console.log(`${name}: running`);
      return EXIT_OK;
    case 'stop':
      await stopService(name);
      console.log(`${name}: stopped`);
      return EXIT_OK;
    default: {
      const st = queryService(name);
      if (values.json === true) {
        console.log(JSON.stringify({ name, ...st }));
      } else if (!st.installed) {
        console.log(`${name}: not installed`);
      } else {
        const lines = [
          `${name}: ${st.state}`,
          `  pid:        ${st.pid || '-'}`,
          `  start type: ${st.startType}`,
          `  account:    ${st.account}`,
          `  command:    ${st.binaryPath}`,
          `  on failure: ${describeFailureActions(st.restartDelaysMs)}${describeNonCrash(st.failureActionsOnNonCrashFailures)}`,
        ];
        if (st.serviceExitCode !== 0) lines.push(`  last exit:  service-specific ${st.serviceExitCode}`);
        else if (st.win32ExitCode !== 0) lines.push(`  last exit:  win32 ${st.win32ExitCode}`);
        console.log(lines.join('\n'));
      }
      return EXIT_OK;
    }
  }
}

/** What install says about %ProgramData%\porthole. */
const DATA_DIR_OUTCOME = {
  created: 'created (SYSTEM and Administrators only)',
  fixed: 'repaired (SYSTEM and Administrators only)',
  ok: 'checked (SYSTEM and Administrators only)',
} as const;

function describeFailureActions(delays: number[] | null): string {
  if (delays === null) return 'unknown (not readable here)';
  if (delays.length === 0) return 'nothing';
  return delays.map((d) => `restart after ${d / 1000} s`).join(', ');
}

function describeNonCrash(flag: boolean | null): string {
  if (flag === null) return ' (after a reported failure: unknown)';
  return flag ? ' (also after a reported failure)' : ' (only after a crash)';
}

/** Whether `path` is `dir` or below it (Windows paths compare without case). */
function isInside(path: string, dir: string): boolean {
  const rel = relative(dir.toLowerCase(), path.toLowerCase());
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function absolute(p: string): string {
  return isAbsolute(p) ? p : resolve(p);
}

export interface ScmAgent {
  start(): Promise<void>;
  stop(): Promise<void>;
  sessionChange(kind: string, sessionId: number): void;
}

/**
 * `porthole service --scm`: logs to service.log (+ Event Log), runs the agent under ScmServiceHost,
 * turns uncaught errors into a service-specific exit code, and exits once the SCM has the last status.
 */
export async function runUnderScm(
  loadConfig: () => ServiceConfig,
  values: Record<string, unknown>,
  createAgent: (
    config: ServiceConfig,
    log: Logger,
    opts: { helperLogDir?: string; underScm?: boolean },
  ) => ScmAgent,
): Promise<number> {
  if (process.platform !== 'win32') throw new UsageError('--scm is for the Windows service manager');
  // The Win32 parts load koffi's native library when evaluated: imported here, on Windows only.
  const [
    { ScmServiceHost },
    { createServiceFileLogger, defaultServiceLogDir, reportServiceEvent },
    { portholeDataDir, secureDataDir, win32DataDirApi },
  ] = await Promise.all([
    import('../service/windows/service-host.js'),
    import('../service/windows/service-log.js'),
    import('../service/windows/data-dir.js'),
  ]);
  const name = (values.name as string | undefined) ?? DEFAULT_SERVICE_NAME;
  const logDir = (values['log-dir'] as string | undefined) ?? defaultServiceLogDir();
  // The data folder is made safe before anything is written into it; what that says is logged once
  // the log exists. A folder that cannot be trusted fails the start (the SCM and the Event Log say
  // why), and no log is written into it.
  const dataDir = portholeDataDir();
  const early: { level: 'info' | 'warn'; obj: object; msg?: string }[] = [];
  let unsafeDataDir: unknown;
  try {
    const outcome = secureDataDir(dataDir, win32DataDirApi, {
      info: (obj, msg) => early.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => early.push({ level: 'warn', obj, msg }),
    });
    early.push({ level: 'info', obj: { dataDir, outcome }, msg: 'data folder checked' });
  } catch (err) {
    unsafeDataDir = err;
  }
  let config: ServiceConfig | undefined;
  let configError: unknown;
  try {
    config = loadConfig();
    if (config.direct) throw new Error('--direct cannot run under the SCM');
  } catch (err) {
    configError = err;
  }
  const level = config?.logLevel ?? LOG_LEVELS.find((l) => l === values['log-level']) ?? 'info';
  const { log } =
    unsafeDataDir !== undefined && isInside(logDir, dataDir)
      ? { log: silentLogger }
      : createServiceFileLogger(logDir, level);
  log.info({ name, logDir, node: process.version, argv: process.argv.slice(1) }, 'service process started');
  for (const line of early) log[line.level](line.obj, line.msg);
  const host = new ScmServiceHost({
    name,
    log,
    events: {
      started: () => reportServiceEvent(name, 'started', `${name} service started (pid ${process.pid})`, log),
      stopped: () => reportServiceEvent(name, 'stopped', `${name} service stopped`, log),
      failed: (err, code) =>
        reportServiceEvent(
          name,
          'failed',
          `${name} service failed (service-specific exit code ${code}): ${errorMessage(err)}`,
          log,
        ),
    },
  });
  const onFatal = (err: unknown) => host.fail(err);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  let exitCode: number;
  try {
    let agent: ScmAgent | undefined;
    ({ exitCode } = await host.run({
      start: async () => {
        if (unsafeDataDir !== undefined) throw unsafeDataDir;
        if (!config) throw new Error(`configuration: ${errorMessage(configError)}`);
        agent = createAgent(config, log, { helperLogDir: logDir, underScm: true });
        await agent.start();
      },
      stop: async () => agent?.stop(),
      sessionChange: (kind, sessionId) => agent?.sessionChange(kind, sessionId),
    }));
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'not running under the service manager');
    console.error(`porthole service --scm: ${errorMessage(err)}`);
    exitCode = EXIT_FAILURE;
  } finally {
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
  }
  log.info({ exitCode }, 'service process exiting');
  // Whatever still holds the event loop (a helper's pipe, a timer) must not keep a stopped service's
  // process alive: the SCM already has its last status.
  setTimeout(() => process.exit(exitCode), 3000).unref();
  return exitCode === 0 ? EXIT_OK : exitCode;
}

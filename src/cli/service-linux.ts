/**
 * The Linux side of `porthole service`: `install | uninstall | status | start | stop` write and drive
 * a systemd unit (src/service/linux). The unit runs `porthole service` itself, in the console mode,
 * with the journal as its log.
 */
import { isAbsolute, resolve } from 'node:path';
import { renderAgentUnit } from '../service/linux/systemd-unit.js';
import {
  installUnit,
  queryUnit,
  realSystemd,
  startUnit,
  stopUnit,
  uninstallUnit,
  unitName,
  unitPath,
  type SystemdDeps,
} from '../service/linux/systemd-manager.js';
import { EXIT_OK, UsageError, type OptionSpec } from './command.js';
import { DEFAULT_SERVICE_NAME } from './service-windows.js';

export const SERVICE_LINUX_OPTIONS: Record<string, OptionSpec> = {
  root: {
    type: 'string',
    description: 'Linux: install into the image rooted at DIR (systemctl --root); nothing is started',
  },
};

const SUBCOMMANDS: Record<string, string> = {
  install: [
    'Usage: porthole service install [--name porthole] [--config FILE] [--log-level LEVEL] [--root DIR]',
    '',
    'Linux, as root: writes the systemd unit /etc/systemd/system/porthole.service (restarted 5 s after',
    'a failure, sandboxed as design/DEPLOY.md explains) that runs this porthole with `service` and the',
    'given --config/--log-level (paths made absolute), reloads systemd and enables it at boot; start it',
    'with `porthole service start`. Running it again updates the unit. Without --config the service',
    'reads /etc/porthole/porthole.json when that file exists. It logs to the journal',
    '(`journalctl -u porthole`). A unit of the same name installed by the porthole package is',
    'overridden by this one until `porthole service uninstall`.',
  ].join('\n'),
  uninstall: [
    'Usage: porthole service uninstall [--name porthole] [--root DIR]',
    '',
    'Linux, as root: stops and disables the unit, then deletes the file `install` wrote. Nothing',
    'installed is not an error. A unit installed by the porthole package is left to the package.',
  ].join('\n'),
  status: [
    'Usage: porthole service status [--name porthole] [--json]',
    '',
    'Linux: prints the unit state, main process id, whether it starts at boot, its file and command',
    'line, or "not installed" (from `systemctl show`).',
  ].join('\n'),
  start: 'Usage: porthole service start [--name porthole]\n\nLinux: `systemctl start porthole`.',
  stop: 'Usage: porthole service stop [--name porthole]\n\nLinux: `systemctl stop porthole`.',
};

/** Help for `porthole service <sub> --help` on Linux; undefined for anything else. */
export function linuxServiceSubcommandHelp(positionals: string[]): string | undefined {
  const sub = positionals[0];
  return sub === undefined ? undefined : SUBCOMMANDS[sub];
}

export function isLinuxServiceSubcommand(sub: string): boolean {
  return sub in SUBCOMMANDS;
}

export async function runLinuxServiceSubcommand(
  sub: string,
  extra: string[],
  values: Record<string, unknown>,
  deps: { portholeCommand: string[]; systemd?: SystemdDeps },
): Promise<number> {
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const systemd = deps.systemd ?? realSystemd;
  const name = (values.name as string | undefined) ?? DEFAULT_SERVICE_NAME;
  let unit: string;
  try {
    unit = unitName(name);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const root = values.root as string | undefined;
  if (root !== undefined && sub !== 'install' && sub !== 'uninstall')
    throw new UsageError(`--root is for install and uninstall`);
  if (values['log-dir'] !== undefined)
    throw new UsageError('--log-dir is for Windows; on Linux the service logs to the journal');
  const target = { unit, ...(root !== undefined ? { root: absolute(root) } : {}) };
  if ((sub === 'install' || sub === 'uninstall') && root === undefined && process.getuid?.() !== 0)
    throw new Error(`'service ${sub}' writes /etc/systemd/system: run it as root (sudo)`);

  switch (sub) {
    case 'install': {
      const serviceArgs: string[] = [];
      const config = values.config as string | undefined;
      if (config !== undefined) serviceArgs.push('--config', absolute(config));
      const level = values['log-level'] as string | undefined;
      if (level !== undefined) serviceArgs.push('--log-level', level);
      const text = renderAgentUnit({
        command: deps.portholeCommand,
        serviceArgs,
        origin: `${unit}: written by \`porthole service install\`; \`porthole service uninstall\` removes it.`,
      });
      const r = await installUnit(target, text, systemd);
      const lines = [
        `${name}: ${r.outcome} ${r.path}, ${r.enabled === 'enabled' ? 'enabled at boot' : 'enabled at boot (offline: systemd not told)'}`,
      ];
      if (r.overrides) lines.push(`${name}: note: this unit overrides the packaged ${r.overrides}`);
      if (r.restartNeeded)
        lines.push(`${name}: running the previous unit: \`systemctl restart ${unit}\` to apply`);
      else if (r.enabled === 'enabled') lines.push(`${name}: start it with \`porthole service start\``);
      console.log(lines.join('\n'));
      return EXIT_OK;
    }
    case 'uninstall': {
      const outcome = await uninstallUnit(target, systemd);
      console.log(`${name}: ${outcome === 'removed' ? `removed ${unitPath(target)}` : 'not installed'}`);
      return EXIT_OK;
    }
    case 'start':
      await startUnit(unit, systemd);
      console.log(`${name}: started`);
      return EXIT_OK;
    case 'stop':
      await stopUnit(unit, systemd);
      console.log(`${name}: stopped`);
      return EXIT_OK;
    default: {
      const st = await queryUnit(unit, systemd);
      if (values.json === true) console.log(JSON.stringify({ name, unit, ...st }));
      else if (!st.installed) console.log(`${name}: not installed`);
      else
        console.log(
          [
            `${name}: ${st.state} (${st.subState})`,
            `  pid:        ${st.pid || '-'}`,
            `  at boot:    ${st.startType}`,
            `  unit file:  ${st.path}`,
            `  command:    ${st.command}`,
            `  restarts:   ${st.restarts}`,
            ...(st.lastExit !== 0 ? [`  last exit:  ${st.lastExit}`] : []),
          ].join('\n'),
        );
      return EXIT_OK;
    }
  }
}

function absolute(p: string): string {
  return isAbsolute(p) ? p : resolve(p);
}

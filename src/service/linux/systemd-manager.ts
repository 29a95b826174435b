/**
 * Installs, removes and drives a systemd unit: the unit file written atomically into
 * `<root>/etc/systemd/system`, then `systemctl` does the rest. With `root` (an image being built) or
 * on a machine where systemd is not running, `systemctl --root`/offline mode only creates or removes
 * the [Install] symlinks; nothing is started or reloaded.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PortholeError } from '../../errors/porthole-error.js';

export type SystemdErrorCode = 'systemctl_failed' | 'bad_unit_name';

export class SystemdError extends PortholeError<SystemdErrorCode> {
  override name = 'SystemdError';
}

export interface SystemctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SystemdDeps {
  /** Runs `systemctl` with these arguments. */
  systemctl(args: string[]): Promise<SystemctlResult>;
  /** Whether systemd is the running init (sd_booted(3): /run/systemd/system exists). */
  booted(): boolean;
}

export const realSystemd: SystemdDeps = {
  systemctl: (args) =>
    new Promise((resolve) => {
      execFile('systemctl', args, { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
        resolve({ code, stdout, stderr: stderr || (err && code === 127 ? err.message : '') });
      });
    }),
  booted: () => existsSync('/run/systemd/system'),
};

/** Where units shipped by packages live; one of the same name in /etc overrides them. */
export const PACKAGED_UNIT_DIRS = ['/lib/systemd/system', '/usr/lib/systemd/system'];

export function unitName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name))
    throw new SystemdError('bad_unit_name', `'${name}' is not a valid service name (letters, digits, _ . -)`);
  return `${name}.service`;
}

export interface UnitTarget {
  /** `porthole.service`. */
  unit: string;
  /** An image's root directory instead of this machine. */
  root?: string;
}

export function unitPath(t: UnitTarget): string {
  return join(t.root ?? '/', 'etc', 'systemd', 'system', t.unit);
}

export type InstallOutcome = 'installed' | 'updated' | 'unchanged';

export interface InstallResult {
  outcome: InstallOutcome;
  path: string;
  /** `enabled` (systemd told), `enabled offline` (symlinks only: --root, or systemd not running). */
  enabled: 'enabled' | 'enabled offline';
  /** A packaged unit of the same name that this file now overrides. */
  overrides?: string;
  /** The unit is running the previous file: it needs a restart to use the new one. */
  restartNeeded: boolean;
}

export async function installUnit(t: UnitTarget, text: string, deps: SystemdDeps): Promise<InstallResult> {
  const path = unitPath(t);
  const before = readOrUndefined(path);
  const outcome: InstallOutcome =
    before === undefined ? 'installed' : before === text ? 'unchanged' : 'updated';
  if (outcome !== 'unchanged') {
    if (t.root !== undefined) mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.porthole-tmp`;
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  }
  const online = t.root === undefined && deps.booted();
  if (online) await systemctl(deps, ['daemon-reload']);
  await systemctl(deps, [...rootArgs(t), 'enable', t.unit]);
  const restartNeeded = online && outcome === 'updated' && (await isActive(t.unit, deps));
  const overrides =
    t.root === undefined ? PACKAGED_UNIT_DIRS.map((d) => join(d, t.unit)).find(existsSync) : undefined;
  return {
    outcome,
    path,
    enabled: online ? 'enabled' : 'enabled offline',
    restartNeeded,
    ...(overrides ? { overrides } : {}),
  };
}

export type UninstallOutcome = 'removed' | 'not installed';

/** Stops and disables the unit, then deletes the file `installUnit` wrote. */
export async function uninstallUnit(t: UnitTarget, deps: SystemdDeps): Promise<UninstallOutcome> {
  const path = unitPath(t);
  if (!existsSync(path)) return 'not installed';
  const online = t.root === undefined && deps.booted();
  await systemctl(deps, [...rootArgs(t), 'disable', ...(online ? ['--now'] : []), t.unit]);
  rmSync(path, { force: true });
  if (online) await systemctl(deps, ['daemon-reload']);
  return 'removed';
}

export async function startUnit(unit: string, deps: SystemdDeps): Promise<void> {
  await systemctl(deps, ['start', unit]);
}

export async function stopUnit(unit: string, deps: SystemdDeps): Promise<void> {
  await systemctl(deps, ['stop', unit]);
}

/** What `systemctl show` says about a unit (the properties `porthole service status` prints). */
export interface UnitStatus {
  installed: boolean;
  /** `active`, `inactive`, `failed`, `activating`, … */
  state: string;
  subState: string;
  pid: number;
  /** `enabled`, `disabled`, … */
  startType: string;
  path: string;
  command: string;
  restarts: number;
  lastExit: number;
}

const STATUS_PROPERTIES = [
  'LoadState',
  'ActiveState',
  'SubState',
  'MainPID',
  'UnitFileState',
  'FragmentPath',
  'ExecStart',
  'NRestarts',
  'ExecMainStatus',
];

export async function queryUnit(unit: string, deps: SystemdDeps): Promise<UnitStatus> {
  const out = await systemctl(deps, [
    'show',
    unit,
    '--no-pager',
    ...STATUS_PROPERTIES.map((p) => `--property=${p}`),
  ]);
  return parseShow(out);
}

/** Parses `systemctl show` output (`Key=value` lines). Exported for tests. */
export function parseShow(text: string): UnitStatus {
  const props = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const get = (k: string) => props.get(k) ?? '';
  const num = (k: string) => (/^\d+$/.test(get(k)) ? Number(get(k)) : 0);
  // ExecStart is shown as `{ path=… ; argv[]=… ; … }`: the argv is what a reader wants.
  const argv = /argv\[\]=([^;]*);/.exec(get('ExecStart'))?.[1]?.trim() ?? '';
  return {
    installed: get('LoadState') === 'loaded',
    state: get('ActiveState'),
    subState: get('SubState'),
    pid: num('MainPID'),
    startType: get('UnitFileState'),
    path: get('FragmentPath'),
    command: argv,
    restarts: num('NRestarts'),
    lastExit: num('ExecMainStatus'),
  };
}

async function isActive(unit: string, deps: SystemdDeps): Promise<boolean> {
  const r = await deps.systemctl(['is-active', '--quiet', unit]);
  return r.code === 0;
}

function rootArgs(t: UnitTarget): string[] {
  return t.root === undefined ? [] : [`--root=${t.root}`];
}

async function systemctl(deps: SystemdDeps, args: string[]): Promise<string> {
  const r = await deps.systemctl(args);
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').pop() || `exit code ${r.code}`;
    throw new SystemdError('systemctl_failed', `systemctl ${args.join(' ')}: ${why}`);
  }
  return r.stdout;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

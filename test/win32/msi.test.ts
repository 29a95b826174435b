import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { portholeDataDir } from '../../src/service/windows/data-dir.js';
import { queryService } from '../../src/service/windows/service-manager.js';
import { waitFor } from '../fixtures/wait-for.js';

// The MSI (scripts/package-win.ts) installed, upgraded and removed by Wine's msiexec, against a real
// `porthole api serve` (Linux node) on loopback. scripts/test-win32.sh builds both MSIs and starts the
// API before the suite, and passes them in PORTHOLE_MSI_*. What Wine shows: the MSI's tables, sequence
// and DLL custom actions run (deferred, with CustomActionData), the bundled node.exe installs, enrolls
// and starts the service through its own SCM API, and MajorUpgrade removes the old product first. What it
// cannot show (no LocalSystem, no session 0, no DACLs, every property written to its verbose log): the
// VM script's MSI steps (scripts/windows-vm-check.ps1).
const env = process.env;
const dir = env.PORTHOLE_MSI_DIR ?? '';
const oldMsi = join(dir, env.PORTHOLE_MSI_OLD ?? '');
const newMsi = join(dir, env.PORTHOLE_MSI_NEW ?? '');
const apiUrl = env.PORTHOLE_MSI_API ?? '';
const key = env.PORTHOLE_MSI_KEY ?? '';
const viewerToken = env.PORTHOLE_MSI_VIEWER_TOKEN ?? '';
/** A device made with `porthole api device add` (for when Wine cannot enroll: see below). */
const ready = Boolean(dir && apiUrl && key && viewerToken);

const installDir = join(env.ProgramW6432 ?? env.ProgramFiles ?? 'C:\\Program Files', 'porthole');
const dataDir = portholeDataDir();
const configFile = join(dataDir, 'porthole.json');
const tokenFile = join(dataDir, 'device-token');
const logFile = (name: string) => join(dir, `${name}.log`);

interface Run {
  code: number | null;
  out: string;
}

function run(file: string, args: string[]): Promise<Run> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((r) => child.on('close', (code) => r({ code, out })));
}

/** Wine writes the verbose log as UTF-16 or ANSI depending on the version: read either. */
function readLog(name: string): string {
  if (!existsSync(logFile(name))) return '';
  const raw = readFileSync(logFile(name));
  return raw[0] === 0xff && raw[1] === 0xfe ? raw.toString('utf16le') : raw.toString('latin1');
}

/** The lines the custom actions wrote (msi-actions.c prefixes them). */
const actionLines = (log: string) => log.split(/\r?\n/).filter((l) => l.includes('porthole: '));

async function msiexec(name: string, ...args: string[]): Promise<{ code: number | null; log: string }> {
  const r = await run('msiexec', [...args, '/qn', '/l*v', logFile(name)]);
  return { code: r.code, log: readLog(name) };
}

const serviceState = () => {
  const st = queryService('porthole');
  return st.installed ? st.state : 'not installed';
};

interface Device {
  id: string;
  name: string;
  online: boolean;
}

/**
 * GET /api/devices through node:http: under Wine 8 node.exe's fetch() cannot connect (undici sets
 * keep-alive on the socket before connecting, which Wine refuses; the enroll client avoids fetch too).
 */
function devices(): Promise<Device[]> {
  return new Promise((resolve, reject) => {
    const req = get(
      `${apiUrl}/api/devices`,
      { headers: { authorization: `Bearer ${viewerToken}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`GET /api/devices: ${res.statusCode} ${body}`));
          else resolve((JSON.parse(body) as { devices: Device[] }).devices);
        });
      },
    );
    req.on('error', reject);
  });
}

const enrolledId = () =>
  (JSON.parse(readFileSync(configFile, 'utf8')) as { api?: { deviceId?: string } }).api?.deviceId;
const polling = (what: string, log: string) => ({
  timeoutMs: 60_000,
  intervalMs: 250,
  what,
  detail: () => actionLines(log).join('\n'),
});

describe.skipIf(!ready)('the MSI under Wine msiexec (install, enroll, upgrade, uninstall)', () => {
  let deviceId = '';

  beforeAll(async () => {
    // Leftovers of an interrupted run: remove both products (1605 = not installed) and the data.
    await run('msiexec', ['/x', newMsi, '/qn']);
    await run('msiexec', ['/x', oldMsi, '/qn']);
    rmSync(dataDir, { recursive: true, force: true });
  }, 180_000);
  afterAll(async () => {
    if (serviceState() !== 'not installed') await run('msiexec', ['/x', newMsi, '/qn', 'REMOVE_DATA=1']);
  }, 180_000);

  test('a silent install with SERVER_URL and ENROLL_KEY installs the tree, enrolls, and starts the service; the device comes online', async () => {
    const { code, log } = await msiexec('install', '/i', oldMsi, `SERVER_URL=${apiUrl}`, `ENROLL_KEY=${key}`);
    expect(code, actionLines(log).join('\n')).toBe(0);

    // The self-contained tree.
    for (const f of ['node.exe', 'porthole.cmd', 'porthole-events.dll', 'package.json']) {
      expect(existsSync(join(installDir, f)), f).toBe(true);
    }
    expect(existsSync(join(installDir, 'bin', 'porthole.js'))).toBe(true);
    expect(existsSync(join(installDir, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(installDir, 'node_modules', '@koromix', 'koffi-win32-x64'))).toBe(true);
    expect(existsSync(join(installDir, 'node_modules', '@node-datachannel', 'win32-x64-msvc'))).toBe(true);
    const notices = readFileSync(join(installDir, 'licenses', 'THIRD-PARTY-NOTICES.txt'), 'utf8');
    expect(notices).toContain('node-datachannel 0.33.4');
    expect(notices).toContain('Node.js');

    // The custom actions ran the bundled porthole: install, enroll, start (their output is in the log).
    const lines = actionLines(log).join('\n');
    expect(lines).toContain('"service" "install" "--config"');
    expect(lines).toMatch(/porthole: created/);
    expect(lines).toMatch(/Enrolled as device /);
    expect(lines).toContain('"service" "start"');
    // The key never reaches a command line or the custom actions' output.
    expect(lines).not.toContain(key);

    await waitFor(() => serviceState() === 'running', polling('the service running', log));
    const st = queryService('porthole');
    expect(st).toMatchObject({ installed: true, startType: 'auto' });
    if (!st.installed) return;
    expect(st.binaryPath).toContain(`"${join(installDir, 'node.exe')}"`);
    expect(st.binaryPath).toContain(`"--config" "${configFile}"`);

    deviceId = enrolledId() ?? '';
    expect(deviceId).not.toBe('');
    expect(existsSync(tokenFile)).toBe(true);
    await waitFor(async () => (await devices()).some((d) => d.id === deviceId && d.online), {
      ...polling('the device online in GET /api/devices', log),
    });

    // The key is stored nowhere: not in the data folder, not in the registry.
    const stored = (readdirSync(dataDir, { recursive: true }) as string[])
      .map((f) => join(dataDir, f))
      .filter((p) => statSync(p).isFile());
    expect(stored.length).toBeGreaterThan(1);
    for (const p of stored) expect(readFileSync(p, 'utf8'), p).not.toContain(key);
    if (env.WINEPREFIX) {
      for (const hive of ['system.reg', 'user.reg']) {
        expect(readFileSync(`Z:${env.WINEPREFIX.replace(/\//g, '\\')}\\${hive}`, 'utf8')).not.toContain(key);
      }
    }

    // The Event Log source and its message file.
    const reg = await run('reg', [
      'query',
      'HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\porthole',
    ]);
    expect(reg.out).toMatch(/EventMessageFile\s+REG_EXPAND_SZ\s+.*porthole-events\.dll/);
    expect(reg.out).toMatch(/TypesSupported\s+REG_DWORD\s+0x7/);
  }, 240_000);

  test('an upgrade to a higher version (same command line again) keeps the enrollment and the device id', async () => {
    const { code, log } = await msiexec('upgrade', '/i', newMsi, `SERVER_URL=${apiUrl}`, `ENROLL_KEY=${key}`);
    expect(code, actionLines(log).join('\n')).toBe(0);
    // MajorUpgrade: the old product is removed first (its uninstall removes the service), then this one
    // installs it again; the enrollment is left as it was (enroll's exit code 3).
    expect(log).toMatch(/RemoveExistingProducts/);
    const lines = actionLines(log).join('\n');
    expect(lines).toMatch(/porthole: created/);
    expect(lines).toContain('already enrolled, kept as it is');
    expect(lines).not.toContain(key);
    await waitFor(() => serviceState() === 'running', polling('the service running', log));
    expect(enrolledId()).toBe(deviceId);
    await waitFor(async () => (await devices()).some((d) => d.id === deviceId && d.online), {
      ...polling('the device online again', log),
    });
    // One device: the upgrade enrolled nothing new.
    expect((await devices()).map((d) => d.id)).toEqual([deviceId]);
  }, 240_000);

  test('msiexec /x stops and removes the service and the program files, and keeps the data folder', async () => {
    const { code, log } = await msiexec('uninstall', '/x', newMsi);
    expect(code, actionLines(log).join('\n')).toBe(0);
    expect(actionLines(log).join('\n')).toMatch(/"service" "uninstall"/);
    // Its node.exe waited for, not just SERVICE_STOPPED: a running node.exe cannot be deleted.
    expect(actionLines(log).join('\n')).toMatch(/the process of service porthole has exited/);
    expect(serviceState()).toBe('not installed');
    expect(existsSync(join(installDir, 'node.exe'))).toBe(false);
    expect(existsSync(join(installDir, 'node_modules'))).toBe(false);
    expect(existsSync(configFile)).toBe(true);
    expect(existsSync(tokenFile)).toBe(true);
    const reg = await run('reg', [
      'query',
      'HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\porthole',
    ]);
    expect(reg.code).not.toBe(0);
    await waitFor(async () => !(await devices()).some((d) => d.id === deviceId && d.online), {
      ...polling('the device offline', log),
    });
  }, 240_000);

  test('installing again without properties reuses the kept enrollment; /x REMOVE_DATA=1 deletes the data folder', async () => {
    const install = await msiexec('reinstall', '/i', newMsi);
    expect(install.code, actionLines(install.log).join('\n')).toBe(0);
    expect(actionLines(install.log).join('\n')).toContain('SERVER_URL and ENROLL_KEY not given');
    await waitFor(() => serviceState() === 'running', polling('the service running', install.log));
    await waitFor(async () => (await devices()).some((d) => d.id === deviceId && d.online), {
      ...polling('the device online with its kept enrollment', install.log),
    });

    const removed = await msiexec('remove-data', '/x', newMsi, 'REMOVE_DATA=1');
    expect(removed.code, actionLines(removed.log).join('\n')).toBe(0);
    expect(actionLines(removed.log).join('\n')).toContain('remove-data: ');
    expect(serviceState()).toBe('not installed');
    expect(existsSync(dataDir)).toBe(false);
  }, 240_000);
});

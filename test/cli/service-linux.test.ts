import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { systemdVerify } from '../fixtures/systemd-verify.js';

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));
const run = (args: string[], opts: { uid?: number; cwd?: string } = {}) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000, ...opts });

/** The CLI in this process (each spawn costs ~1.5 s of tsx start-up on a loaded runner). */
async function runHere(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const status = await main(args);
    return { status, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const root = mkdtempSync(join(tmpdir(), 'porthole-root-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const unitFile = join(root, 'etc/systemd/system/porthole.service');
const wants = join(root, 'etc/systemd/system/multi-user.target.wants/porthole.service');

// The real `porthole service install` and the real systemctl, into an image root (`--root`): systemd
// is not PID 1 here, so what a running systemd would do (daemon-reload, start) cannot run; the unit
// file, its [Install] symlink and `systemd-analyze verify` can.
describe.runIf(process.platform === 'linux')('porthole service install | uninstall on Linux', () => {
  it('writes a unit that verifies, enables it, and runs this porthole with the config made absolute', () => {
    const r = run(
      ['service', 'install', '--root', root, '--config', 'conf/porthole.json', '--log-level', 'debug'],
      {
        cwd: root,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      `porthole: installed ${unitFile}, enabled at boot (offline: systemd not told)`,
    );
    const unit = readFileSync(unitFile, 'utf8');
    expect(unit).toContain(
      `\nExecStart=${process.execPath} ${bin} service --config ${join(root, 'conf/porthole.json')} --log-level debug\n`,
    );
    expect(readlinkSync(wants)).toBe('/etc/systemd/system/porthole.service');
    expect(systemdVerify([unitFile])).toEqual({ code: 0, output: '' });
  });

  it('says unchanged on a second identical install and updated when the flags change', async () => {
    const config = join(root, 'conf/porthole.json');
    const again = await runHere([
      'service',
      'install',
      '--root',
      root,
      '--config',
      config,
      '--log-level',
      'debug',
    ]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('porthole: unchanged');
    const changed = await runHere(['service', 'install', '--root', root]);
    expect(changed.status).toBe(0);
    expect(changed.stdout).toContain('porthole: updated');
    expect(readFileSync(unitFile, 'utf8')).toContain(`\nExecStart=${process.execPath} ${bin} service\n`);
  });

  it('uninstall removes the unit and its symlink; a second uninstall says not installed', async () => {
    const r = await runHere(['service', 'uninstall', '--root', root]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`porthole: removed ${unitFile}`);
    expect(existsSync(unitFile)).toBe(false);
    expect(existsSync(wants)).toBe(false);
    const again = await runHere(['service', 'uninstall', '--root', root]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('porthole: not installed');
  });

  it('names a unit after --name and refuses a name systemd would not take', async () => {
    const r = await runHere(['service', 'install', '--root', root, '--name', 'porthole-test']);
    expect(r.status).toBe(0);
    expect(existsSync(join(root, 'etc/systemd/system/porthole-test.service'))).toBe(true);
    expect((await runHere(['service', 'uninstall', '--root', root, '--name', 'porthole-test'])).status).toBe(
      0,
    );
    const bad = await runHere(['service', 'install', '--root', root, '--name', '../evil']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/'..\/evil' is not a valid service name/);
  });

  it('refuses Windows-only flags and --root where it means nothing', async () => {
    const logDir = await runHere(['service', 'install', '--root', root, '--log-dir', '/x']);
    expect(logDir.status).toBe(2);
    expect(logDir.stderr).toMatch(/--log-dir is for Windows/);
    const status = await runHere(['service', 'status', '--root', root]);
    expect(status.status).toBe(2);
    expect(status.stderr).toMatch(/--root is for install and uninstall/);
  });

  it.runIf(process.getuid?.() === 0)('refuses to install into /etc without root', () => {
    const r = run(['service', 'install'], { uid: 65534 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/run it as root \(sudo\)/);
  });

  it.runIf(!existsSync('/run/systemd/system'))(
    'says why status cannot work where systemd is not running',
    async () => {
      const r = await runHere(['service', 'status']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^porthole service: systemctl show porthole.service .*: .+/);
    },
  );
});

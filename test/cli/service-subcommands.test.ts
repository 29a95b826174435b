import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });

// The Windows behaviour of these sub-commands is tested under Wine (test/win32/service.test.ts), the
// Linux one in test/cli/service-linux.test.ts; here, what every platform shares: their help.
describe('porthole service install | uninstall | status | start | stop', () => {
  it.each(['install', 'uninstall', 'status', 'start', 'stop'])(
    'gives `service %s --help` its own text',
    (sub) => {
      const r = run('service', sub, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: porthole service ${sub} `));
    },
  );

  it('lists the sub-commands in `service --help`', () => {
    const r = run('service', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('install | uninstall | status | start | stop');
    expect(r.stdout).toContain('--name');
    // --scm is for the installed service's command line only.
    expect(r.stdout).not.toContain('--scm');
  });

  it('exits 2 on an unknown sub-command, naming it', () => {
    const r = run('service', 'reinstall');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown sub-command 'reinstall'/);
  });

  // On Linux they drive a systemd unit instead: test/cli/service-linux.test.ts.
  it.runIf(process.platform !== 'win32')('refuses --scm outside Windows', () => {
    const scm = run('service', '--scm');
    expect(scm.status).toBe(2);
    expect(scm.stderr).toMatch(/--scm is for the Windows service manager/);
  });
});

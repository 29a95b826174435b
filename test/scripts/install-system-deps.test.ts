/**
 * scripts/install-system-deps.sh, which `npm test` and `npm run demo` run first. apt-get and sudo are
 * stand-ins on PATH that record their arguments: the point is which commands the script runs (never
 * a sudo that could ask for a password, no apt-get at all when nothing is missing), and installing
 * packages for real would change the machine the suite runs on.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/install-system-deps.sh', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'porthole-apt-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A copy of the script beside its own package lists: `present` (installed here), `absent` (not).
const scripts = join(dir, 'scripts');
mkdirSync(join(scripts, 'apt'), { recursive: true });
cpSync(script, join(scripts, 'install-system-deps.sh'));
writeFileSync(join(scripts, 'apt', 'present.txt'), '# installed on every Debian\ndpkg\nbash  # the shell\n');
writeFileSync(
  join(scripts, 'apt', 'absent.txt'),
  '# a list with a package nobody has\ndpkg\nporthole-no-such-package   # stands in for Xvfb: the sessions\n',
);

/** apt-get and sudo that append their argv to calls.log; sudo then runs the command. */
const bin = join(dir, 'bin');
const calls = join(dir, 'calls.log');
mkdirSync(bin);
writeFileSync(join(bin, 'apt-get'), `#!/bin/sh\necho "apt-get $*" >>${calls}\n`, { mode: 0o755 });
writeFileSync(
  join(bin, 'sudo'),
  `#!/bin/sh\necho "sudo $*" >>${calls}\n[ "$1" = -n ] && shift\nexec "$@"\n`,
  {
    mode: 0o755,
  },
);
writeFileSync(calls, '');
chmodSync(calls, 0o666); // the stand-ins also run as nobody

function run(suites: string[], opts: { uid?: number; env?: Record<string, string>; sudo?: boolean } = {}) {
  writeFileSync(calls, '');
  const path = opts.sudo === false ? `${join(dir, 'nosudo')}:/usr/bin:/bin` : `${bin}:/usr/bin:/bin`;
  if (opts.sudo === false) {
    mkdirSync(join(dir, 'nosudo'), { recursive: true });
    cpSync(join(bin, 'apt-get'), join(dir, 'nosudo', 'apt-get'));
  }
  const r = spawnSync('bash', [join(scripts, 'install-system-deps.sh'), ...suites], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: path, ...opts.env },
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
  });
  return { ...r, calls: readFileSync(calls, 'utf8') };
}

describe.runIf(process.platform === 'linux' && existsSync('/usr/bin/dpkg-query'))(
  'install-system-deps.sh',
  () => {
    it('does nothing, without apt-get or sudo, when every package is installed', () => {
      const r = run(['present']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('system packages (present): all present\n');
      expect(r.calls).toBe('');
    });

    it('is silent and does nothing with PORTHOLE_SKIP_APT=1', () => {
      const r = run(['absent'], { env: { PORTHOLE_SKIP_APT: '1' } });
      expect(r.status).toBe(0);
      expect(r.stdout + r.stderr).toBe('');
      expect(r.calls).toBe('');
    });

    it.runIf(process.getuid?.() === 0)(
      'as root, installs only what is missing, saying what it is for',
      () => {
        const r = run(['absent']);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain('installing porthole-no-such-package');
        expect(r.stdout).toContain('stands in for Xvfb: the sessions');
        expect(r.calls).toBe(
          'apt-get update -qq\napt-get install -y -qq --no-install-recommends porthole-no-such-package\n',
        );
      },
    );

    it.runIf(process.getuid?.() === 0)(
      'as a user, installs through sudo -n when sudo needs no password',
      () => {
        const r = run(['absent'], { uid: 65534 });
        expect(r.status).toBe(0);
        // Every sudo call carries -n: sudo fails instead of prompting.
        expect(r.calls.split('\n').filter((l) => l.startsWith('sudo'))).toEqual([
          'sudo -n true',
          'sudo -n apt-get update -qq',
          'sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends porthole-no-such-package',
        ]);
      },
    );

    it.runIf(process.getuid?.() === 0)(
      'as a user without sudo, stops with the command to run and what each package is for',
      () => {
        const r = run(['absent'], { uid: 65534, sudo: false });
        expect(r.status).toBe(1);
        expect(r.calls).toBe('');
        expect(r.stderr).toMatch(/porthole-no-such-package +stands in for Xvfb: the sessions/);
        expect(r.stderr).toContain(
          'sudo apt-get update && sudo apt-get install -y --no-install-recommends porthole-no-such-package',
        );
        expect(r.stderr).toContain('PORTHOLE_SKIP_APT=1');
      },
    );

    it('refuses an unknown list', () => {
      const r = run(['nonexistent']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/no package list/);
    });
  },
);

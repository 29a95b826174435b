/**
 * The .deb as a user gets it: built by `npm run package:deb` (test:package runs it first), checked by
 * lintian, installed with apt-get (which resolves its Depends from Debian), its files, units and
 * `porthole --version` checked, its postinst seen to enable the agent only once a config exists,
 * then purged. It changes this machine (a package, a system user), so it runs as root in its own
 * suite and refuses to run where an /etc/porthole it did not create would be purged.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemdVerify } from '../fixtures/systemd-verify.js';
import { ACCEPTED_LINTIAN_WARNINGS, OVERRIDDEN_LINTIAN_TAGS } from './lintian-accepted.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const deb = join(ROOT, 'dist', `porthole-agent_${version}_amd64.deb`);

function sh(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  cwd = '/',
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...env },
  });
  if (r.error) throw r.error;
  return r;
}
const ok = (r: SpawnSyncReturns<string>) => {
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
};
const installed = () =>
  sh('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', 'porthole-agent']).stdout.trim() === 'ii';
const wants = '/etc/systemd/system/multi-user.target.wants/porthole.service';

describe.runIf(process.platform === 'linux' && process.getuid?.() === 0)('porthole-agent .deb', () => {
  beforeAll(() => {
    expect(existsSync(deb), `${deb}: run npm run package:deb first (npm run test:package does)`).toBe(true);
    if (!installed() && existsSync('/etc/porthole'))
      throw new Error(
        '/etc/porthole exists without the package: this suite would purge it; move it away first',
      );
    if (installed()) ok(sh('apt-get', ['purge', '-y', '-qq', 'porthole-agent']));
  });

  it('has the control fields and the files the package promises', () => {
    const info = ok(sh('dpkg-deb', ['--field', deb]));
    expect(info).toContain('Package: porthole-agent');
    expect(info).toContain(`Version: ${version}`);
    expect(info).toContain('Architecture: amd64');
    expect(info).toMatch(/Depends: .*\bffmpeg\b.*\bxclip\b/);
    const files = ok(sh('dpkg-deb', ['--contents', deb]));
    for (const f of [
      './usr/bin/porthole',
      './usr/lib/porthole/node/bin/node',
      './usr/lib/porthole/app/bin/porthole.js',
      './usr/lib/porthole/app/dist/src/cli/main.js',
      './usr/lib/porthole/app/dist/viewer/index.html',
      './usr/lib/porthole/app/node_modules/node-datachannel/package.json',
      './usr/lib/porthole/app/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node',
      './lib/systemd/system/porthole.service',
      './lib/systemd/system/porthole-api.service',
      './usr/share/porthole/examples/porthole.json',
      './usr/share/doc/porthole-agent/copyright',
      './usr/share/doc/porthole-agent/third-party/node/LICENSE',
    ]) {
      expect(files).toContain(` ${f}\n`);
    }
    // No dev dependencies, no other platform's binaries, no musl builds.
    expect(files).not.toMatch(/node_modules\/(vitest|typescript|esbuild|tsx)\//);
    const natives = files.split('\n').filter((l) => l.endsWith('.node'));
    expect(natives.length).toBeGreaterThan(0);
    for (const line of natives) expect(line).not.toMatch(/win32|darwin|musl|arm64/);
    expect(files).not.toMatch(/node_modules\/@\S*-(win32|darwin)-/);
    // No link into the machine that built it (a copy that resolved node_modules/.bin's relative links).
    const links = files.split('\n').filter((l) => l.includes(' -> '));
    expect(links.filter((l) => / -> \//.test(l) && !/ -> \/(usr|etc|lib)\//.test(l))).toEqual([]);
  });

  it('lintian reports no error, and no warning or override beyond the accepted ones (design/DEPLOY.md)', () => {
    const r = sh('lintian', ['--tag-display-limit', '0', '--show-overrides', '--allow-root', deb]);
    const tags = r.stdout
      .split('\n')
      .filter((l) => /^[EWO]: /.test(l))
      .map((l) => l.replace(/^([EWO]): porthole-agent: /, '$1: '));
    expect(tags.filter((t) => t.startsWith('E: '))).toEqual([]);
    expect(tags.filter((t) => t.startsWith('W: ')).sort()).toEqual(
      ACCEPTED_LINTIAN_WARNINGS.map((w) => `W: ${w}`).sort(),
    );
    expect(tags.filter((t) => t.startsWith('O: ')).sort()).toEqual(
      OVERRIDDEN_LINTIAN_TAGS.map((w) => `O: ${w}`).sort(),
    );
  });

  it('installs with apt-get, which resolves its dependencies, and is not started before enrollment', () => {
    const out = ok(sh('apt-get', ['install', '-y', '--no-install-recommends', deb]));
    expect(installed()).toBe(true);
    expect(out).toContain('this machine is not enrolled yet');
    expect(out).toContain('porthole service enroll --server');
    expect(existsSync(wants)).toBe(false);
    // Every Depends is installed: apt-get would have refused or pulled them in.
    const depends = ok(sh('dpkg-query', ['-W', '-f=${Depends}', 'porthole-agent']));
    for (const dep of depends.split(',').map((d) => d.trim().split(' ')[0] as string)) {
      expect(sh('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', dep]).stdout.trim(), dep).toBe('ii');
    }
  });

  it('runs `porthole --version` on its own Node, and its units verify', () => {
    expect(ok(sh('/usr/bin/porthole', ['--version'])).trim()).toBe(version);
    expect(ok(sh('/usr/lib/porthole/node/bin/node', ['--version'])).trim()).toMatch(/^v(2[0-9])\./);
    // Every production module loads on the bundled (stripped) Node, native parts included.
    const load = sh(
      '/usr/lib/porthole/node/bin/node',
      [
        '--input-type=module',
        '-e',
        "for (const m of ['koffi', 'node-datachannel', 'pino', 'ws', 'msgpackr']) await import(m); console.log('loaded');",
      ],
      {},
      '/usr/lib/porthole/app',
    );
    expect(load.stderr).toBe('');
    expect(load.stdout.trim()).toBe('loaded');
    expect(ok(sh('/usr/bin/porthole', ['service', 'enroll', '--help']))).toMatch(
      /^Usage: porthole service enroll/,
    );
    expect(
      systemdVerify(['/lib/systemd/system/porthole.service', '/lib/systemd/system/porthole-api.service']),
    ).toEqual({ code: 0, output: '' });
    const unit = readFileSync('/lib/systemd/system/porthole.service', 'utf8');
    expect(unit).toContain('\nExecStart=/usr/bin/porthole service\n');
    expect(statSync('/etc/porthole').mode & 0o777).toBe(0o700);
    expect(sh('getent', ['passwd', 'porthole-api']).status).toBe(0);
  });

  it('enables the agent once a config exists (reinstall runs postinst again)', () => {
    writeFileSync('/etc/porthole/porthole.json', '{ "logLevel": "info" }\n', { mode: 0o600 });
    const out = ok(sh('apt-get', ['install', '-y', '--reinstall', '--no-install-recommends', deb]));
    expect(out).not.toContain('not enrolled yet');
    expect(existsSync(wants)).toBe(true);
  });

  it("keeps an administrator's `systemctl disable` across upgrades", () => {
    ok(sh('systemctl', ['disable', 'porthole.service']));
    expect(existsSync(wants)).toBe(false);
    ok(sh('apt-get', ['install', '-y', '--reinstall', '--no-install-recommends', deb]));
    expect(existsSync(wants)).toBe(false);
  });

  it('purges: the program, the unit links and /etc/porthole are gone', () => {
    ok(sh('apt-get', ['purge', '-y', 'porthole-agent']));
    expect(installed()).toBe(false);
    for (const p of [
      '/usr/bin/porthole',
      '/usr/lib/porthole',
      '/lib/systemd/system/porthole.service',
      wants,
      '/etc/porthole',
    ]) {
      expect(existsSync(p), p).toBe(false);
    }
  });
});

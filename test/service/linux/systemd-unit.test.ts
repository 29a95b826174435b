import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execLine, renderAgentUnit, renderApiUnit } from '../../../src/service/linux/systemd-unit.js';
import { parseShow } from '../../../src/service/linux/systemd-manager.js';
import { systemdVerify } from '../../fixtures/systemd-verify.js';

const dir = mkdtempSync(join(tmpdir(), 'porthole-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function verify(name: string, text: string) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return systemdVerify([path]);
}

/** The [Service] settings of a unit, as `key → values` (a key may repeat). */
function settings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1] as string, [...(out.get(m[1] as string) ?? []), m[2] as string]);
  }
  return out;
}

describe('the agent unit', () => {
  const unit = renderAgentUnit({
    command: [process.execPath, '/work/main/bin/porthole.js'],
    serviceArgs: ['--config', '/etc/porthole/porthole.json'],
    origin: 'test',
  });

  it('passes systemd-analyze verify without a single complaint', () => {
    expect(verify('porthole.service', unit)).toEqual({ code: 0, output: '' });
  });

  it('restarts on failure and keeps X sockets, homes and /run/user reachable', () => {
    const s = settings(unit);
    expect(s.get('Restart')).toEqual(['on-failure']);
    expect(s.get('ExecStart')).toEqual([
      `${process.execPath} /work/main/bin/porthole.js service --config /etc/porthole/porthole.json`,
    ]);
    // Helpers inherit the sandbox: /tmp/.X11-unix and the users' Xauthority files must stay visible.
    expect(s.has('PrivateTmp')).toBe(false);
    expect(s.has('ProtectHome')).toBe(false);
    expect(s.has('PrivateNetwork')).toBe(false); // abstract X sockets live in the network namespace
    // Hardware encoders need /dev/dri and /dev/nvidia*: nothing that closes the device list.
    expect(s.has('PrivateDevices')).toBe(false);
    expect(s.has('DeviceAllow')).toBe(false);
    expect(s.has('ProtectClock')).toBe(false); // implies DeviceAllow=char-rtc on systemd 252
    expect(s.get('ProtectSystem')).toEqual(['strict']);
    expect(s.get('ReadWritePaths')).toEqual(['-/home -/run/user /tmp']);
    expect(s.get('StateDirectory')).toEqual(['porthole']);
    expect(s.get('LogsDirectory')).toEqual(['porthole']);
    expect(s.get('RestrictAddressFamilies')?.[0]?.split(' ').sort()).toEqual(
      ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX'].sort(),
    );
    expect(s.get('CapabilityBoundingSet')?.[0]).toContain('CAP_SETUID');
    expect(s.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('verifies with a command path that holds a space, a % and a $', () => {
    const odd = join(dir, 'my 100% $HOME node');
    writeFileSync(odd, '#!/bin/sh\n', { mode: 0o755 });
    const text = renderAgentUnit({ command: [odd, '/opt/p/bin/porthole.js'], origin: 'test' });
    expect(text).toContain(`ExecStart="${dir}/my 100%% $HOME node" /opt/p/bin/porthole.js service`);
    expect(verify('odd.service', text)).toEqual({ code: 0, output: '' });
  });

  it('is what systemd-analyze rejects when ExecStart names no program (the check is real)', () => {
    const text = renderAgentUnit({ command: [join(dir, 'absent')], origin: 'test' });
    const r = verify('absent.service', text);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/absent/);
  });
});

describe('the API unit', () => {
  it('passes systemd-analyze verify and runs as its own user with its store in /var/lib', () => {
    const text = renderApiUnit({ command: [process.execPath, '/work/main/bin/porthole.js'], origin: 'test' });
    expect(verify('porthole-api.service', text)).toEqual({ code: 0, output: '' });
    const s = settings(text);
    expect(s.get('User')).toEqual(['porthole-api']);
    expect(s.get('StateDirectory')).toEqual(['porthole-api']);
    expect(s.get('ExecStart')?.[0]).toMatch(
      / api serve --data-dir \/var\/lib\/porthole-api \$PORTHOLE_API_ARGS$/,
    );
  });
});

describe('execLine', () => {
  it('leaves plain words alone and quotes the others', () => {
    expect(execLine(['/usr/bin/porthole', 'service', '--log-level', 'debug'])).toBe(
      '/usr/bin/porthole service --log-level debug',
    );
    expect(execLine(['/a b/c', 'say "hi"', 'back\\slash'])).toBe('"/a b/c" "say \\"hi\\"" "back\\\\slash"');
  });

  it('doubles specifiers and variables so that nothing expands', () => {
    expect(execLine(['/x/%n', '$USER', '${HOME}'])).toBe('/x/%%n $$USER "$${HOME}"');
  });

  it('refuses empty arguments and line breaks', () => {
    expect(() => execLine(['/bin/x', ''])).toThrow(TypeError);
    expect(() => execLine(['/bin/x', 'a\nb'])).toThrow(TypeError);
  });
});

describe('parseShow', () => {
  it('reads the properties status prints, the argv of ExecStart among them', () => {
    const st = parseShow(
      [
        'LoadState=loaded',
        'ActiveState=active',
        'SubState=running',
        'MainPID=4242',
        'UnitFileState=enabled',
        'FragmentPath=/etc/systemd/system/porthole.service',
        'ExecStart={ path=/usr/bin/porthole ; argv[]=/usr/bin/porthole service ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }',
        'NRestarts=3',
        'ExecMainStatus=0',
      ].join('\n'),
    );
    expect(st).toEqual({
      installed: true,
      state: 'active',
      subState: 'running',
      pid: 4242,
      startType: 'enabled',
      path: '/etc/systemd/system/porthole.service',
      command: '/usr/bin/porthole service',
      restarts: 3,
      lastExit: 0,
    });
  });

  it('says not installed for a unit systemd cannot find', () => {
    expect(parseShow('LoadState=not-found\nActiveState=inactive\nMainPID=0\n').installed).toBe(false);
  });
});

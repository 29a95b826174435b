import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authArgument, findXServerAuthFile } from '../../../src/service/sessions/x-server-auth.js';

describe('findXServerAuthFile in a recorded /proc', () => {
  let proc: string;

  const recordProcess = async (pid: string, argv: string[]): Promise<void> => {
    await mkdir(join(proc, pid));
    await writeFile(join(proc, pid, 'cmdline'), argv.join('\0') + '\0');
  };

  beforeAll(async () => {
    proc = await mkdtemp(join(tmpdir(), 'porthole-proc-'));
    await recordProcess('100', [
      'xinit',
      '/etc/X11/xinit/xinitrc',
      '--',
      ':0',
      '-auth',
      '/tmp/not-the-server',
    ]);
    await recordProcess('101', [
      '/usr/lib/xorg/Xorg',
      ':0',
      '-seat',
      'seat0',
      '-auth',
      '/var/run/lightdm/root/:0',
    ]);
    await recordProcess('102', ['Xvnc', ':10', '-geometry', '1024x768']);
    await recordProcess('103', [
      '/usr/bin/Xtigervnc',
      ':11',
      '-auth',
      '/home/bob/.Xauthority',
      '-rfbport',
      '5911',
    ]);
    await mkdir(join(proc, 'self')); // not a pid: skipped
    await mkdir(join(proc, '104')); // gone while scanning: no cmdline
  });

  afterAll(async () => {
    await rm(proc, { recursive: true, force: true });
  });

  it("finds the X server for the display and returns its -auth file, not another program's", async () => {
    expect(await findXServerAuthFile(0, proc)).toBe('/var/run/lightdm/root/:0');
    expect(await findXServerAuthFile(11, proc)).toBe('/home/bob/.Xauthority');
  });

  it('gives nothing for a server without -auth, an unknown display or an unreadable /proc', async () => {
    expect(await findXServerAuthFile(10, proc)).toBeUndefined();
    expect(await findXServerAuthFile(1, proc)).toBeUndefined();
    expect(await findXServerAuthFile(0, join(proc, 'missing'))).toBeUndefined();
  });
});

describe('authArgument', () => {
  it('takes the word after -auth, if there is one', () => {
    expect(authArgument(['Xorg', '-auth', '/a'])).toBe('/a');
    expect(authArgument(['Xorg', '-auth'])).toBeUndefined();
    expect(authArgument(['Xorg', '-auth', ''])).toBeUndefined();
    expect(authArgument(['Xorg', ':0'])).toBeUndefined();
  });
});

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('porthole CLI', () => {
  it('lists every sub-command in --help and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const cmd of ['service', 'helper', 'api', 'demo']) expect(r.stdout).toContain(cmd);
  });

  it('exits 2 with a clear message on an unknown command', () => {
    const r = run('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('exits 2 on an unknown flag of a sub-command, naming it', () => {
    const r = run('service', '--no-such-flag');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--no-such-flag/);
  });

  it('gives each sub-command its own --help', () => {
    const r = run('helper', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: porthole helper/);
    expect(r.stdout).toMatch(/--codec/);
  });

  it('refuses an unknown --codec, and --codec with the webcodecs encoder, before starting', () => {
    const bad = run('helper', '--session', '1', '--helper-id', 'h', '--codec', 'h265_magic');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--codec/);
    const mixed = run(
      'helper',
      '--session',
      '1',
      '--helper-id',
      'h',
      '--encoder',
      'webcodecs',
      '--codec',
      'auto',
    );
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toMatch(/does not apply to --encoder webcodecs/);
  });

  it('takes --encoder auto|mf|ffmpeg|webcodecs, refusing others and --codec with mf, before starting', () => {
    const bad = run('helper', '--session', '1', '--helper-id', 'h', '--encoder', 'x264');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--encoder/);
    const mixed = run(
      'helper',
      '--session',
      '1',
      '--helper-id',
      'h',
      '--encoder',
      'mf',
      '--codec',
      'libx264',
    );
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toMatch(/does not apply to --encoder mf/);
    expect(run('helper', '--help').stdout).toMatch(/auto \| mf \| ffmpeg \| webcodecs/);
  });

  it('takes --resolution auto|full, refusing others before starting', () => {
    const bad = run('helper', '--session', '1', '--helper-id', 'h', '--resolution', 'half');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--resolution/);
    expect(run('helper', '--help').stdout).toMatch(/--resolution/);
  });
});

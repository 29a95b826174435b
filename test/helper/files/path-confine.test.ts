import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInside, resolveInRoot } from '../../../src/helper/files/path-confine.js';

let base: string;
let home: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'porthole-confine-'));
  home = join(base, 'home');
  mkdirSync(join(home, 'docs'), { recursive: true });
  writeFileSync(join(home, 'docs', 'a.txt'), 'a');
  writeFileSync(join(base, 'secret.txt'), 's');
  mkdirSync(join(base, 'outside'));
  symlinkSync(join(base, 'secret.txt'), join(home, 'escape-file'));
  symlinkSync(join(base, 'outside'), join(home, 'escape-dir'));
  symlinkSync('../secret.txt', join(home, 'relative-escape'));
  symlinkSync(join(home, 'docs'), join(home, 'docs-link'));
  symlinkSync('/', join(home, 'root-link'));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code: string }) => e.code,
  );

describe('path confinement', () => {
  it('resolves a plain path inside the root, and the root itself', async () => {
    expect(await resolveInRoot(home, ['docs', 'a.txt'])).toMatch(/home\/docs\/a\.txt$/);
    expect(await resolveInRoot(home, [])).toMatch(/home$/);
  });

  it('follows a link that stays inside the root', async () => {
    expect(await resolveInRoot(home, ['docs-link', 'a.txt'])).toMatch(/home\/docs\/a\.txt$/);
  });

  it.each([['escape-file'], ['escape-dir'], ['relative-escape'], ['root-link']])(
    'refuses a symlink out of the root (%s)',
    async (name) => {
      expect(await code(resolveInRoot(home, [name]))).toBe('outside_root');
    },
  );

  it('refuses a path through a link out of the root', async () => {
    expect(await code(resolveInRoot(home, ['root-link', 'etc', 'passwd']))).toBe('outside_root');
  });

  it('refuses .. and separators even when called directly', async () => {
    expect(await code(resolveInRoot(home, ['..', 'secret.txt']))).toBe('bad_message');
    expect(await code(resolveInRoot(home, ['docs/../../secret.txt']))).toBe('bad_message');
  });

  it('says not_found for a path that does not exist', async () => {
    expect(await code(resolveInRoot(home, ['nope']))).toBe('not_found');
  });

  it('compares whole components: /home/al is not inside /home/a', () => {
    expect(isInside('/home/a', '/home/al')).toBe(false);
    expect(isInside('/home/a', '/home/a/x')).toBe(true);
    expect(isInside('/home/a', '/home/a')).toBe(true);
    expect(isInside('/home/a', '/home/a/..x')).toBe(true);
  });
});

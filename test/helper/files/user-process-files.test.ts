/**
 * A root helper's file access for real (Linux, as root): every operation runs in a files worker
 * started as a non-root user the test creates, so files land owned by that user, what only root may
 * read stays unreadable, and a symlink out of the home is refused.
 */
import { createHash } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserProcessFileAccess } from '../../../src/helper/files/user-process-file-access.js';
import { canCreateUsers, createTestUser, type TestUser } from '../../fixtures/test-user.js';

const bin = fileURLToPath(new URL('../../../bin/porthole.js', import.meta.url));
const run = canCreateUsers() ? describe : describe.skip;
let user: TestUser;
let access: UserProcessFileAccess;
const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code: string }) => e.code,
  );

beforeAll(() => {
  if (!canCreateUsers()) return;
  process.env.PORTHOLE_FROM_SOURCE = '1';
  user = createTestUser('phfiles');
  access = new UserProcessFileAccess({
    user: { uid: user.uid, gid: user.gid, home: user.home, name: user.name },
    maxUploadBytes: 10 * 1024 * 1024,
    command: [process.execPath, bin],
  });
  writeFileSync('/tmp/porthole-root-only.txt', 'root secret', { mode: 0o600 });
  symlinkSync('/tmp/porthole-root-only.txt', join(user.home, 'escape'));
  symlinkSync('/etc', join(user.home, 'etc-link'));
  mkdirSync(join(user.home, 'docs'));
  writeFileSync(join(user.home, 'docs', 'mine.txt'), 'my words');
  chownSync(join(user.home, 'docs'), user.uid, user.gid);
  chownSync(join(user.home, 'docs', 'mine.txt'), user.uid, user.gid);
  // Inside the home but root's alone: a root reader would leak it, the user's identity may not read it.
  writeFileSync(join(user.home, 'root-owned.txt'), 'not yours', { mode: 0o600 });
});

afterAll(() => {
  user?.remove();
  rmSync('/tmp/porthole-root-only.txt', { force: true });
});

run('file access through a worker running as the session user (as root)', () => {
  it('writes an upload into ~/Downloads owned by the user, numbering a second one', async () => {
    const data = Buffer.from('uploaded bytes');
    const sink = await access.createUpload('note.txt', data.length);
    expect(sink.name).toBe('note.txt');
    await sink.write(data);
    await sink.finish();
    const path = join(user.home, 'Downloads', 'note.txt');
    expect(readFileSync(path)).toEqual(data);
    expect(statSync(path)).toMatchObject({ uid: user.uid, gid: user.gid });
    expect(statSync(join(user.home, 'Downloads'))).toMatchObject({ uid: user.uid });

    const again = await access.createUpload('note.txt', 1);
    expect(again.name).toBe('note (1).txt');
    await again.write(Buffer.from('x'));
    await again.finish();
  }, 60_000);

  it('a cancelled upload leaves no partial file', async () => {
    const sink = await access.createUpload('partial.bin', 1000);
    await sink.write(Buffer.alloc(100));
    await sink.abort();
    expect(existsSync(join(user.home, 'Downloads', 'partial.bin'))).toBe(false);
  }, 60_000);

  it('refuses a bad name and a size over the limit before any process starts', async () => {
    expect(await code(access.createUpload('../x', 1))).toBe('bad_name');
    expect(await code(access.createUpload('CON', 1))).toBe('bad_name');
    expect(await code(access.createUpload('a:b', 1))).toBe('bad_name');
    expect(await code(access.createUpload('big', 11 * 1024 * 1024))).toBe('too_large');
  });

  it('lists the home and reads the user own file', async () => {
    const { entries } = await access.list(0, []);
    const names = entries.map((e) => `${e.name}:${e.kind}`);
    expect(names).toEqual(expect.arrayContaining(['docs:dir', 'escape:link', 'Downloads:dir']));
    const src = await access.openDownload(0, ['docs', 'mine.txt']);
    expect(src.size).toBe(8);
    const parts: Uint8Array[] = [];
    for await (const c of src.chunks()) parts.push(c);
    expect(Buffer.concat(parts).toString()).toBe('my words');
  }, 60_000);

  it('refuses a symlink out of the home, for reading and for listing', async () => {
    expect(await code(access.openDownload(0, ['escape']))).toBe('outside_root');
    expect(await code(access.list(0, ['etc-link']))).toBe('outside_root');
  }, 60_000);

  it('reads with the user identity: a root-only file in the home is denied', async () => {
    expect(await code(access.openDownload(0, ['root-owned.txt']))).toBe('denied');
  }, 60_000);

  it('streams a larger file both ways intact', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const sink = await access.createUpload('big.bin', data.length);
    for (let o = 0; o < data.length; o += 65536) await sink.write(data.subarray(o, o + 65536));
    await sink.finish();
    const src = await access.openDownload(0, ['Downloads', 'big.bin']);
    const h = createHash('sha256');
    for await (const c of src.chunks()) h.update(c);
    expect(h.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(readdirSync(join(user.home, 'Downloads')).sort()).toEqual(['big.bin', 'note (1).txt', 'note.txt']);
  }, 60_000);
});

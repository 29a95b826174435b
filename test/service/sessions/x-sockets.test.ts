import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isListening, readXSocketFiles } from '../../../src/service/sessions/x-sockets.js';

describe('X socket files', () => {
  let dir: string;
  let server: Server;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porthole-xsock-'));
    server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(join(dir, 'X12'), resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('reads X<n> entries sorted by number, with owner and kind, and ignores other names', async () => {
    await writeFile(join(dir, 'X4'), '');
    await mkdir(join(dir, 'X7x'));
    await writeFile(join(dir, 'notes'), '');
    const files = await readXSocketFiles(dir);
    expect(files.map((f) => [f.display, f.isSocket])).toEqual([
      [4, false],
      [12, true],
    ]);
    expect(files[1]).toMatchObject({
      path: join(dir, 'X12'),
      uid: process.getuid!(),
      gid: process.getgid!(),
    });
  });

  it('reports a symlink as what it is, not as the file it points to', async () => {
    await symlink(join(dir, 'X12'), join(dir, 'X13'));
    const link = (await readXSocketFiles(dir)).find((f) => f.display === 13);
    expect(link?.isSocket).toBe(false);
  });

  it('gives no entries for a directory that does not exist', async () => {
    expect(await readXSocketFiles(join(dir, 'missing'))).toEqual([]);
  });

  it('tells a listening socket from a plain file, a missing path and a socket whose owner died', async () => {
    expect(await isListening(join(dir, 'X12'))).toBe(true);
    expect(await isListening(join(dir, 'X4'))).toBe(false);
    expect(await isListening(join(dir, 'X99'))).toBe(false);

    // A process that listens and is then killed leaves its socket file with nobody accepting on it.
    const stale = join(dir, 'X20');
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`,
    ]);
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect((await readXSocketFiles(dir)).find((f) => f.display === 20)?.isSocket).toBe(true);
    expect(await isListening(stale)).toBe(false);
  });
});

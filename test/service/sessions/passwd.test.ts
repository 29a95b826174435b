import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PasswdTable, parsePasswd, readPasswd } from '../../../src/service/sessions/passwd.js';

describe('parsePasswd', () => {
  it('reads name, uid, gid and home of each account', () => {
    const text = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh\n';
    expect(parsePasswd(text)).toEqual([
      { name: 'root', uid: 0, gid: 0, home: '/root' },
      { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
    ]);
  });

  it('skips comments, NIS lines, blank lines and malformed entries', () => {
    const text = [
      '# comment',
      '+@netgroup::::::',
      '-bob:::::::',
      '',
      'short:x:1:1',
      'badid:x:abc:1::/h:/bin/sh',
      ':x:5:5::/h:/bin/sh',
      'ok:x:7:8::/home/ok:/bin/sh',
    ].join('\n');
    expect(parsePasswd(text).map((e) => e.name)).toEqual(['ok']);
  });
});

describe('PasswdTable', () => {
  it('finds accounts by uid and by name, the first entry winning', () => {
    const table = new PasswdTable(parsePasswd('a:x:5:5::/a:/s\nb:x:5:6::/b:/s\na:x:9:9::/c:/s\n'));
    expect(table.byUid(5)?.name).toBe('a');
    expect(table.byName('a')?.uid).toBe(5);
    expect(table.byUid(42)).toBeUndefined();
  });
});

describe('readPasswd', () => {
  it('reads the real /etc/passwd, which has root as uid 0', async () => {
    expect((await readPasswd()).byUid(0)?.name).toBe('root');
  });

  it('gives an empty table for a missing file and reads a given one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'porthole-passwd-'));
    try {
      expect((await readPasswd(join(dir, 'none'))).byUid(0)).toBeUndefined();
      await writeFile(join(dir, 'passwd'), 'carol:x:2000:2001::/home/carol:/bin/sh\n');
      expect((await readPasswd(join(dir, 'passwd'))).byName('carol')).toEqual({
        name: 'carol',
        uid: 2000,
        gid: 2001,
        home: '/home/carol',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

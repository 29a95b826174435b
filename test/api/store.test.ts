import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonApiStore, STORE_FILE } from '../../src/api/json-store.js';
import { StoreError } from '../../src/api/store.js';
import { describeStoreContract } from './store-contract.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'porthole-store-'));
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describeStoreContract('JSON', {
  open: async () => JsonApiStore.open(tempDir()),
  reopen: async (store) => JsonApiStore.open((store as JsonApiStore).dir),
  cleanup: async () => undefined,
});

describe('JsonApiStore: the file', () => {
  it('creates the data dir 0700 and the file 0600, holding only SHA-256 hashes of tokens', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const store = JsonApiStore.open(dir);
    const { device, token } = await store.addDevice('kitchen pc');
    const viewer = await store.issueViewerToken('alice');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    const text = readFileSync(store.file, 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain(viewer.token);
    expect(device.tokenHash).toBe(sha256(token));
    expect(JSON.parse(text).viewerTokens[0].tokenHash).toBe(sha256(viewer.token));
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('replaces the file by rename: a reader of the old file still sees a complete old version', async () => {
    const store = JsonApiStore.open(tempDir());
    await store.addDevice('first');
    const before = readFileSync(store.file, 'utf8');
    const oldInode = statSync(store.file).ino;
    const fd = openSync(store.file, 'r');
    try {
      await store.addDevice('second');
      const buf = Buffer.alloc(before.length + 100);
      const n = readSync(fd, buf, 0, buf.length, 0);
      expect(buf.subarray(0, n).toString('utf8')).toBe(before);
    } finally {
      closeSync(fd);
    }
    expect(statSync(store.file).ino).not.toBe(oldInode);
    expect(JSON.parse(readFileSync(store.file, 'utf8')).devices).toHaveLength(2);
    expect(readdirSync(store.dir).sort()).toEqual([STORE_FILE]);
  });

  it('refuses a corrupt file with an error naming it, and leaves the file untouched', () => {
    const dir = tempDir();
    const file = join(dir, STORE_FILE);
    writeFileSync(file, '{"version": 1, "devices": [');
    expect(() => JsonApiStore.open(dir)).toThrow(StoreError);
    expect(() => JsonApiStore.open(dir)).toThrow(file);
    expect(readFileSync(file, 'utf8')).toBe('{"version": 1, "devices": [');
  });

  it('names the bad field of a store file with the wrong shape', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, STORE_FILE),
      JSON.stringify({ version: 1, devices: [{ id: 'x' }], viewerTokens: [] }),
    );
    expect(() => JsonApiStore.open(dir)).toThrow(/devices\[0\]\.name: is required/);
  });

  it('keeps both changes when two store handles write one after the other', async () => {
    const dir = tempDir();
    const a = JsonApiStore.open(dir);
    const b = JsonApiStore.open(dir);
    await a.addDevice('from a');
    await b.addDevice('from b');
    expect((await JsonApiStore.open(dir).devices()).map((d) => d.name)).toEqual(['from a', 'from b']);
  });

  it('breaks a lock file left behind by a crashed process', async () => {
    const dir = tempDir();
    const store = JsonApiStore.open(dir);
    const lock = `${store.file}.lock`;
    writeFileSync(lock, '999999');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    await store.addDevice('after crash');
    expect(await store.devices()).toHaveLength(1);
  });

  it('drops tokens from the file once they expired, at the next write', async () => {
    const store = JsonApiStore.open(tempDir());
    await store.issueViewerToken('bob', { ttlMs: 60_000 });
    await store.issueViewerToken('named-one');
    expect(readFileSync(store.file, 'utf8')).toContain('bob');
    // A write stamped two minutes later (the key's clock) prunes as of then.
    await store.createEnrollKey({ maxUses: 1, ttlMs: 3_600_000 }, Date.now() + 120_000);
    const text = readFileSync(store.file, 'utf8');
    expect(text).not.toContain('bob');
    expect(text).toContain('named-one');
  });
});

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
import { ApiStore, StoreError, STORE_FILE, viewerTokenKind } from '../../src/api/store.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'porthole-store-'));
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('ApiStore', () => {
  it('creates the data dir 0700 and the file 0600, holding only SHA-256 hashes of tokens', () => {
    const dir = join(tempDir(), 'nested', 'data');
    const store = ApiStore.open(dir);
    const { device, token } = store.addDevice('kitchen pc');
    const viewer = store.issueViewerToken('alice');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    const text = readFileSync(store.file, 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain(viewer.token);
    expect(device.tokenHash).toBe(sha256(token));
    expect(JSON.parse(text).viewerTokens[0].tokenHash).toBe(sha256(viewer.token));
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('authenticates a device only with its own token', () => {
    const store = ApiStore.open(tempDir());
    const a = store.addDevice('a');
    const b = store.addDevice('b');
    expect(store.authenticateDevice(a.device.id, a.token)?.name).toBe('a');
    expect(store.authenticateDevice(a.device.id, b.token)).toBeUndefined();
    expect(store.authenticateDevice('dev-missing', a.token)).toBeUndefined();
  });

  it('replaces the file by rename: a reader of the old file still sees a complete old version', () => {
    const store = ApiStore.open(tempDir());
    store.addDevice('first');
    const before = readFileSync(store.file, 'utf8');
    const oldInode = statSync(store.file).ino;
    const fd = openSync(store.file, 'r');
    try {
      store.addDevice('second');
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
    expect(() => ApiStore.open(dir)).toThrow(StoreError);
    expect(() => ApiStore.open(dir)).toThrow(file);
    expect(readFileSync(file, 'utf8')).toBe('{"version": 1, "devices": [');
  });

  it('names the bad field of a store file with the wrong shape', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, STORE_FILE),
      JSON.stringify({ version: 1, devices: [{ id: 'x' }], viewerTokens: [] }),
    );
    expect(() => ApiStore.open(dir)).toThrow(/devices\[0\]\.name: is required/);
  });

  it('sees changes another process made to the file (the CLI while the server runs)', () => {
    const dir = tempDir();
    const server = ApiStore.open(dir);
    const cli = ApiStore.open(dir);
    expect(server.devices()).toHaveLength(0);
    const { device } = cli.addDevice('added by cli');
    expect(server.device(device.id)?.name).toBe('added by cli');
    cli.removeDevice(device.id);
    expect(server.device(device.id)).toBeUndefined();
  });

  it('keeps both changes when two store handles write one after the other', () => {
    const dir = tempDir();
    const a = ApiStore.open(dir);
    const b = ApiStore.open(dir);
    a.addDevice('from a');
    b.addDevice('from b');
    expect(
      ApiStore.open(dir)
        .devices()
        .map((d) => d.name),
    ).toEqual(['from a', 'from b']);
  });

  it('breaks a lock file left behind by a crashed process', () => {
    const dir = tempDir();
    const store = ApiStore.open(dir);
    const lock = `${store.file}.lock`;
    writeFileSync(lock, '999999');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    store.addDevice('after crash');
    expect(store.devices()).toHaveLength(1);
  });

  it('refuses a second named token with the same name but allows several login tokens', () => {
    const store = ApiStore.open(tempDir());
    store.issueViewerToken('alice');
    expect(() => store.issueViewerToken('alice')).toThrow(/already exists/);
    store.issueViewerToken('alice', { once: true, ttlMs: 60_000 });
    store.issueViewerToken('alice', { once: true, ttlMs: 60_000 });
    expect(store.viewerTokens().map(viewerTokenKind)).toEqual(['named', 'login', 'login']);
  });

  it('finds a token by value, not after it expires, and prunes expired ones on the next write', () => {
    const store = ApiStore.open(tempDir());
    const live = store.issueViewerToken('bob', { ttlMs: 60_000 });
    const dead = store.issueViewerToken('carol', { ttlMs: -1 });
    expect(store.findViewerToken(live.token)?.name).toBe('bob');
    expect(store.findViewerToken(dead.token)).toBeUndefined();
    store.addDevice('any write');
    expect(readFileSync(store.file, 'utf8')).not.toContain('carol');
  });

  it('consumes a one-time token exactly once', () => {
    const store = ApiStore.open(tempDir());
    const { token } = store.issueViewerToken('dave', { once: true, ttlMs: 60_000 });
    const record = store.findViewerToken(token);
    expect(record && store.consumeViewerToken(record)).toBe(true);
    expect(record && store.consumeViewerToken(record)).toBe(false);
    expect(store.findViewerToken(token)).toBeUndefined();
  });

  it('revokes every token of a name and reports how many', () => {
    const store = ApiStore.open(tempDir());
    store.issueViewerToken('erin');
    store.issueViewerToken('erin', { ttlMs: 60_000 });
    store.issueViewerToken('frank');
    expect(store.revokeViewerTokens('erin')).toBe(2);
    expect(store.viewerTokens().map((t) => t.name)).toEqual(['frank']);
    expect(store.revokeViewerTokens('erin')).toBe(0);
  });

  it('rejects names that do not fit the store’s patterns', () => {
    const store = ApiStore.open(tempDir());
    expect(() => store.issueViewerToken('has space')).toThrow(/^name: does not match/);
    expect(() => store.addDevice('')).toThrow(/^name: must have at least 1/);
    expect(() => store.addDevice('bell\u0007')).toThrow(/^name: does not match/);
  });
});

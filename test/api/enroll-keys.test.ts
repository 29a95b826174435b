/** Enrollment keys in the store: uses, expiry on an injected clock, revocation, replay, hashing at rest. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnrollKeyError, ENROLL_KEY_KEEP_MS, uniqueDeviceName } from '../../src/api/enroll-keys.js';
import { ApiStore, StoreError } from '../../src/api/store.js';
import { hashToken } from '../../src/api/tokens.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const machine = { hostname: 'office-pc', os: 'linux', arch: 'x64', agentVersion: '0.1.0' };

function freshStore(): ApiStore {
  return ApiStore.open(mkdtempSync(join(tmpdir(), 'porthole-enroll-keys-')));
}

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(EnrollKeyError);
    return (err as EnrollKeyError).code;
  }
  throw new Error('expected the key to be refused');
}

describe('enrollment keys', () => {
  it('enrolls as many machines as the key has uses, then refuses it as used up, also on replay', () => {
    const store = freshStore();
    const { key, record } = store.createEnrollKey({ name: 'rollout', maxUses: 2, ttlMs: 7 * DAY }, T0);
    const a = store.enrollDevice(key, machine, T0 + 1000);
    const b = store.enrollDevice(key, { ...machine, hostname: 'lab-1' }, T0 + 2000);
    expect(a.keyId).toBe(record.id);
    expect(store.devices().map((d) => d.id)).toEqual([a.device.id, b.device.id]);
    expect(refusal(() => store.enrollDevice(key, { ...machine, hostname: 'third' }, T0 + 3000))).toBe(
      'enroll_key_used_up',
    );
    // A replay of a request that worked, after the key ran out: refused, no device added.
    expect(refusal(() => store.enrollDevice(key, machine, T0 + 4000))).toBe('enroll_key_used_up');
    expect(store.devices()).toHaveLength(2);
    expect(store.enrollKeys()[0]).toMatchObject({ id: record.id, uses: 2, maxUses: 2 });
  });

  it('stays used up for another process that opens the store (the use is written before the answer)', () => {
    const store = freshStore();
    const { key } = store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0);
    store.enrollDevice(key, machine, T0);
    const other = ApiStore.open(store.dir);
    expect(refusal(() => other.enrollDevice(key, machine, T0 + 1))).toBe('enroll_key_used_up');
  });

  it('refuses a key once it expired, by the clock it is given', () => {
    const store = freshStore();
    const { key } = store.createEnrollKey({ maxUses: 5, ttlMs: DAY }, T0);
    expect(store.enrollDevice(key, machine, T0 + DAY - 1).device.name).toBe('office-pc');
    expect(refusal(() => store.enrollDevice(key, machine, T0 + DAY))).toBe('enroll_key_expired');
    expect(store.devices()).toHaveLength(1);
  });

  it('refuses a revoked key, which stays listed as revoked', () => {
    const store = freshStore();
    const { key, record } = store.createEnrollKey({ maxUses: 5, ttlMs: DAY }, T0);
    expect(store.revokeEnrollKey(record.id, T0 + 10)).toBe(true);
    expect(refusal(() => store.enrollDevice(key, machine, T0 + 20))).toBe('enroll_key_revoked');
    expect(store.enrollKeys()[0]?.revokedAt).toBe(new Date(T0 + 10).toISOString());
    expect(store.revokeEnrollKey('ek-aaaaaaaaaa')).toBe(false);
  });

  it('refuses an unknown key, and a device token is no enrollment key', () => {
    const store = freshStore();
    store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0);
    const { token } = store.addDevice('manual');
    expect(refusal(() => store.enrollDevice(token, machine, T0))).toBe('enroll_key_invalid');
    expect(refusal(() => store.enrollDevice('x'.repeat(43), machine, T0))).toBe('enroll_key_invalid');
  });

  it('keeps only the hash: the store file never holds the key, nor the device token', () => {
    const store = freshStore();
    const { key } = store.createEnrollKey({ name: 'k', maxUses: 3, ttlMs: DAY }, T0);
    const { token } = store.enrollDevice(key, machine, T0);
    for (const name of readdirSync(store.dir)) {
      const text = readFileSync(join(store.dir, name), 'utf8');
      expect(text).not.toContain(key);
      expect(text).not.toContain(token);
    }
    expect(readFileSync(store.file, 'utf8')).toContain(hashToken(key));
  });

  it('names the device after the host name, with a suffix when another device has that name', () => {
    const store = freshStore();
    store.addDevice('Office-PC');
    const { key } = store.createEnrollKey({ maxUses: 3, ttlMs: DAY }, T0);
    const first = store.enrollDevice(key, machine, T0);
    const second = store.enrollDevice(key, machine, T0);
    expect([first.device.name, second.device.name]).toEqual(['office-pc (2)', 'office-pc (3)']);
    expect(first.device.enrolled).toMatchObject({ ...machine, at: new Date(T0).toISOString() });
    expect(uniqueDeviceName('  x  ', [])).toBe('x');
    expect(uniqueDeviceName('h'.repeat(253), []).length).toBe(120);
  });

  it('renames a device, refusing a name another device has and an unknown id', () => {
    const store = freshStore();
    const a = store.addDevice('a').device;
    store.addDevice('b');
    expect(store.renameDevice(a.id, 'reception').name).toBe('reception');
    expect(() => store.renameDevice(a.id, 'B')).toThrow(StoreError);
    expect(() => store.renameDevice('dev-nope', 'x')).toThrow(/no device/);
    expect(() => store.renameDevice(a.id, 'bad\nname')).toThrow(/name/);
  });

  it('forgets keys 30 days after they stopped working, and keeps active ones', () => {
    const store = freshStore();
    const old = store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0).record;
    const active = store.createEnrollKey({ maxUses: 1, ttlMs: 300 * DAY }, T0).record;
    store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0 + DAY + ENROLL_KEY_KEEP_MS - 1);
    expect(store.enrollKeys().map((k) => k.id)).toContain(old.id);
    store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0 + DAY + ENROLL_KEY_KEEP_MS);
    const ids = store.enrollKeys().map((k) => k.id);
    expect(ids).not.toContain(old.id);
    expect(ids).toContain(active.id);
  });

  it('reads a store written before enrollment existed', () => {
    const store = freshStore();
    store.addDevice('old');
    const again = ApiStore.open(store.dir);
    expect(again.enrollKeys()).toEqual([]);
    expect(again.devices()).toHaveLength(1);
  });
});

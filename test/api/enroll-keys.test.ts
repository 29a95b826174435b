/**
 * Enrollment keys in the JSON store: hashing at rest in the file, and stores written before enrollment.
 * Uses, expiry, revocation, replay, races, names and pruning are in the store contract
 * (test/api/store-contract.ts), run against every backend.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uniqueDeviceName } from '../../src/api/enroll-keys.js';
import { JsonApiStore } from '../../src/api/json-store.js';
import { hashToken } from '../../src/api/tokens.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const machine = { hostname: 'office-pc', os: 'linux', arch: 'x64', agentVersion: '0.1.0' };

function freshStore(): JsonApiStore {
  return JsonApiStore.open(mkdtempSync(join(tmpdir(), 'porthole-enroll-keys-')));
}

describe('enrollment keys in the JSON store', () => {
  it('keeps only the hash: the store file never holds the key, nor the device token', async () => {
    const store = freshStore();
    const { key } = await store.createEnrollKey({ name: 'k', maxUses: 3, ttlMs: DAY }, T0);
    const { token } = await store.enrollDevice(key, machine, T0);
    for (const name of readdirSync(store.dir)) {
      const text = readFileSync(join(store.dir, name), 'utf8');
      expect(text).not.toContain(key);
      expect(text).not.toContain(token);
    }
    expect(readFileSync(store.file, 'utf8')).toContain(hashToken(key));
  });

  it('keeps a used key used across a reopen (a restart)', async () => {
    const store = freshStore();
    const { key } = await store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0);
    await store.enrollDevice(key, machine, T0);
    await expect(JsonApiStore.open(store.dir).enrollDevice(key, machine, T0)).rejects.toMatchObject({
      code: 'enroll_key_used_up',
    });
  });

  it('caps an enrolled device name at 120 characters of its host name', () => {
    expect(uniqueDeviceName('h'.repeat(253), []).length).toBe(120);
  });

  it('reads a store written before enrollment existed', async () => {
    const store = freshStore();
    await store.addDevice('old');
    const again = JsonApiStore.open(store.dir);
    expect(await again.enrollKeys()).toEqual([]);
    expect(await again.devices()).toHaveLength(1);
  });
});

/**
 * The behaviour every ApiStore backend must have, as one `describe` run against each: the JSON file
 * (test/api/store.test.ts, in the fast suite) and PostgreSQL (test/api/postgres/store.pg.test.ts, in
 * `npm run test:postgres`). A backend factory opens a fresh, empty store and can open a second handle
 * on the same data (another process, or another API instance).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EnrollKeyError, ENROLL_KEY_KEEP_MS, uniqueDeviceName } from '../../src/api/enroll-keys.js';
import { StoreError, viewerTokenKind, type ApiStore } from '../../src/api/store.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  open(): Promise<ApiStore>;
  /** A second, independent handle on the data of `store`. */
  reopen(store: ApiStore): Promise<ApiStore>;
  /** Releases everything opened since the last cleanup (called after each test). */
  cleanup(): Promise<void>;
}

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const machine = { hostname: 'office-pc', os: 'linux', arch: 'x64', agentVersion: '0.1.0' };

async function refusal(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (err) {
    expect(err).toBeInstanceOf(EnrollKeyError);
    return (err as EnrollKeyError).code;
  }
  throw new Error('expected the key to be refused');
}

export function describeStoreContract(backend: string, factory: StoreFactory): void {
  describe(`ApiStore contract (${backend})`, () => {
    afterEach(() => factory.cleanup());

    it('authenticates a device only with its own token, and keeps only the token’s SHA-256', async () => {
      const store = await factory.open();
      const a = await store.addDevice('a');
      const b = await store.addDevice('b');
      expect((await store.authenticateDevice(a.device.id, a.token))?.name).toBe('a');
      expect(await store.authenticateDevice(a.device.id, b.token)).toBeUndefined();
      expect(await store.authenticateDevice('dev-missing', a.token)).toBeUndefined();
      expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(a.device.tokenHash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(await store.devices())).not.toContain(a.token);
    });

    it('lists devices in the order they were added and finds one by id', async () => {
      const store = await factory.open();
      const names = ['first', 'second', 'third'];
      const added = [];
      for (const n of names) added.push((await store.addDevice(n)).device);
      expect((await store.devices()).map((d) => d.name)).toEqual(names);
      expect(await store.device(added[1]!.id)).toEqual(added[1]);
      expect(await store.device('dev-nope')).toBeUndefined();
    });

    it('tells which of a list of ids are still registered devices', async () => {
      const store = await factory.open();
      const a = await store.addDevice('a');
      const b = await store.addDevice('b');
      expect(await store.presentDevices([])).toEqual(new Set());
      expect(await store.presentDevices([a.device.id, b.device.id, 'dev-unknown'])).toEqual(
        new Set([a.device.id, b.device.id]),
      );
      await (await factory.reopen(store)).removeDevice(a.device.id);
      expect(await store.presentDevices([a.device.id, b.device.id])).toEqual(new Set([b.device.id]));
    });

    it('removes a device, after which its token no longer authenticates', async () => {
      const store = await factory.open();
      const { device, token } = await store.addDevice('gone soon');
      expect(await store.removeDevice(device.id)).toBe(true);
      expect(await store.removeDevice(device.id)).toBe(false);
      expect(await store.authenticateDevice(device.id, token)).toBeUndefined();
      expect(await store.devices()).toEqual([]);
    });

    it('sees the changes another handle makes (the CLI, or another API instance)', async () => {
      const server = await factory.open();
      const cli = await factory.reopen(server);
      expect(await server.devices()).toHaveLength(0);
      const { device } = await cli.addDevice('added by cli');
      expect((await server.device(device.id))?.name).toBe('added by cli');
      await server.addDevice('added by server');
      expect((await cli.devices()).map((d) => d.name)).toEqual(['added by cli', 'added by server']);
      await cli.removeDevice(device.id);
      expect(await server.device(device.id)).toBeUndefined();
    });

    it('refuses a second named token with the same name but allows several login tokens', async () => {
      const store = await factory.open();
      await store.issueViewerToken('alice');
      await expect(store.issueViewerToken('alice')).rejects.toThrow(/already exists/);
      await expect(store.issueViewerToken('alice')).rejects.toBeInstanceOf(StoreError);
      await store.issueViewerToken('alice', { once: true, ttlMs: 60_000 });
      await store.issueViewerToken('alice', { once: true, ttlMs: 60_000 });
      await store.issueViewerToken('alice', { ttlMs: 60_000 });
      expect((await store.viewerTokens()).map(viewerTokenKind)).toEqual([
        'named',
        'login',
        'login',
        'session',
      ]);
    });

    it('finds a token by value until it expires, with its kind and view-only flag', async () => {
      const store = await factory.open();
      const live = await store.issueViewerToken('bob', { ttlMs: 60_000, viewOnly: true });
      const dead = await store.issueViewerToken('carol', { ttlMs: -1 });
      const found = await store.findViewerToken(live.token);
      expect(found).toEqual(live.record);
      expect(found && viewerTokenKind(found)).toBe('session');
      expect(found?.viewOnly).toBe(true);
      expect(await store.findViewerToken(dead.token)).toBeUndefined();
      expect(await store.findViewerToken('x'.repeat(43))).toBeUndefined();
      const later = Date.parse(live.record.expiresAt ?? '') + 1;
      expect(await store.findViewerToken(live.token, later)).toBeUndefined();
      expect((await store.viewerTokens()).map((t) => t.name)).toEqual(['bob']);
    });

    it('consumes a one-time token exactly once, also through another handle', async () => {
      const store = await factory.open();
      const other = await factory.reopen(store);
      const { token } = await store.issueViewerToken('dave', { once: true, ttlMs: 60_000 });
      const record = await store.findViewerToken(token);
      expect(record).toBeDefined();
      expect(await store.consumeViewerToken(record!)).toBe(true);
      expect(await other.consumeViewerToken(record!)).toBe(false);
      expect(await store.findViewerToken(token)).toBeUndefined();
    });

    it('lets exactly one of many concurrent consumers spend a one-time token', async () => {
      const store = await factory.open();
      const other = await factory.reopen(store);
      const { record } = await store.issueViewerToken('racer', { once: true, ttlMs: 60_000 });
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? store : other).consumeViewerToken(record)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('revokes every token of a name and reports how many', async () => {
      const store = await factory.open();
      await store.issueViewerToken('erin');
      await store.issueViewerToken('erin', { ttlMs: 60_000 });
      await store.issueViewerToken('frank');
      expect(await store.revokeViewerTokens('erin')).toBe(2);
      expect((await store.viewerTokens()).map((t) => t.name)).toEqual(['frank']);
      expect(await store.revokeViewerTokens('erin')).toBe(0);
    });

    it('rejects names that do not fit the store’s patterns', async () => {
      const store = await factory.open();
      await expect(store.issueViewerToken('has space')).rejects.toThrow(/^name: does not match/);
      await expect(store.addDevice('')).rejects.toThrow(/^name: must have at least 1/);
      await expect(store.addDevice('bell\u0007')).rejects.toThrow(/^name: does not match/);
      await expect(store.createEnrollKey({ name: 'a b', maxUses: 1, ttlMs: DAY })).rejects.toThrow(/name/);
      expect(await store.devices()).toEqual([]);
    });

    it('enrolls as many machines as a key has uses, then refuses it as used up, also on replay', async () => {
      const store = await factory.open();
      const { key, record } = await store.createEnrollKey(
        { name: 'rollout', maxUses: 2, ttlMs: 7 * DAY },
        T0,
      );
      const a = await store.enrollDevice(key, machine, T0 + 1000);
      const b = await store.enrollDevice(key, { ...machine, hostname: 'lab-1' }, T0 + 2000);
      expect(a.keyId).toBe(record.id);
      expect((await store.devices()).map((d) => d.id)).toEqual([a.device.id, b.device.id]);
      expect(await refusal(() => store.enrollDevice(key, { ...machine, hostname: 'third' }, T0 + 3000))).toBe(
        'enroll_key_used_up',
      );
      const other = await factory.reopen(store);
      expect(await refusal(() => other.enrollDevice(key, machine, T0 + 4000))).toBe('enroll_key_used_up');
      expect(await store.devices()).toHaveLength(2);
      expect((await store.enrollKeys())[0]).toMatchObject({
        id: record.id,
        name: 'rollout',
        uses: 2,
        maxUses: 2,
      });
      expect((await store.authenticateDevice(a.device.id, a.token))?.enrolled).toEqual({
        ...machine,
        keyId: record.id,
        at: new Date(T0 + 1000).toISOString(),
      });
    });

    it('enrolls exactly one machine when many race for a key with one use left', async () => {
      const store = await factory.open();
      const other = await factory.reopen(store);
      const { key } = await store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? store : other).enrollDevice(key, { ...machine, hostname: `pc-${i}` }, T0 + 1),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect((o.reason as EnrollKeyError).code).toBe('enroll_key_used_up');
      }
      expect(await store.devices()).toHaveLength(1);
      expect((await store.enrollKeys())[0]?.uses).toBe(1);
    });

    it('refuses an expired key at its expiry instant, and a revoked key, without adding a device', async () => {
      const store = await factory.open();
      const { key } = await store.createEnrollKey({ maxUses: 5, ttlMs: DAY }, T0);
      expect((await store.enrollDevice(key, machine, T0 + DAY - 1)).device.name).toBe('office-pc');
      expect(await refusal(() => store.enrollDevice(key, machine, T0 + DAY))).toBe('enroll_key_expired');
      const revoked = await store.createEnrollKey({ maxUses: 5, ttlMs: DAY }, T0);
      expect(await store.revokeEnrollKey(revoked.record.id, T0 + 10)).toBe(true);
      expect(await store.revokeEnrollKey(revoked.record.id, T0 + 20)).toBe(true);
      expect(await refusal(() => store.enrollDevice(revoked.key, machine, T0 + 30))).toBe(
        'enroll_key_revoked',
      );
      const listed = (await store.enrollKeys()).find((k) => k.id === revoked.record.id);
      expect(listed?.revokedAt).toBe(new Date(T0 + 10).toISOString());
      expect(await store.revokeEnrollKey('ek-aaaaaaaaaa')).toBe(false);
      expect(await store.devices()).toHaveLength(1);
    });

    it('refuses an unknown key, a device token presented as a key, and uses no key for it', async () => {
      const store = await factory.open();
      const { record } = await store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0);
      const { token } = await store.addDevice('manual');
      expect(await refusal(() => store.enrollDevice(token, machine, T0))).toBe('enroll_key_invalid');
      expect(await refusal(() => store.enrollDevice('x'.repeat(43), machine, T0))).toBe('enroll_key_invalid');
      expect((await store.enrollKeys()).find((k) => k.id === record.id)?.uses).toBe(0);
    });

    it('names an enrolled device after its host, with a suffix when the name is taken (any case)', async () => {
      const store = await factory.open();
      await store.addDevice('Office-PC');
      const { key } = await store.createEnrollKey({ maxUses: 3, ttlMs: DAY }, T0);
      const first = await store.enrollDevice(key, machine, T0);
      const second = await store.enrollDevice(key, machine, T0);
      expect([first.device.name, second.device.name]).toEqual(['office-pc (2)', 'office-pc (3)']);
      expect(uniqueDeviceName('  x  ', [])).toBe('x');
    });

    it('gives concurrent enrollments of one host name distinct names', async () => {
      const store = await factory.open();
      const other = await factory.reopen(store);
      const { key } = await store.createEnrollKey({ maxUses: 8, ttlMs: DAY }, T0);
      const enrolled = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).enrollDevice(key, machine, T0)),
      );
      expect(new Set(enrolled.map((e) => e.device.name.toLowerCase())).size).toBe(8);
    });

    it('renames a device, refusing a name another device has and an unknown id', async () => {
      const store = await factory.open();
      const a = (await store.addDevice('a')).device;
      await store.addDevice('b');
      expect((await store.renameDevice(a.id, 'reception')).name).toBe('reception');
      expect((await store.device(a.id))?.name).toBe('reception');
      await expect(store.renameDevice(a.id, 'B')).rejects.toMatchObject({ code: 'exists' });
      await expect(store.renameDevice('dev-nope', 'x')).rejects.toMatchObject({ code: 'not_found' });
      await expect(store.renameDevice(a.id, 'bad\nname')).rejects.toThrow(/name/);
      expect((await store.device(a.id))?.name).toBe('reception');
    });

    it('forgets keys 30 days after they stopped working, and keeps active ones', async () => {
      const store = await factory.open();
      const old = (await store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0)).record;
      const active = (await store.createEnrollKey({ maxUses: 1, ttlMs: 300 * DAY }, T0)).record;
      const revoked = (await store.createEnrollKey({ maxUses: 1, ttlMs: 300 * DAY }, T0)).record;
      await store.revokeEnrollKey(revoked.id, T0 + 2 * DAY);
      await store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0 + DAY + ENROLL_KEY_KEEP_MS - 1);
      expect((await store.enrollKeys()).map((k) => k.id)).toEqual(
        expect.arrayContaining([old.id, revoked.id]),
      );
      await store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0 + DAY + ENROLL_KEY_KEEP_MS);
      let ids = (await store.enrollKeys()).map((k) => k.id);
      expect(ids).not.toContain(old.id);
      expect(ids).toContain(revoked.id);
      expect(ids).toContain(active.id);
      await store.createEnrollKey({ maxUses: 1, ttlMs: DAY }, T0 + 2 * DAY + ENROLL_KEY_KEEP_MS);
      ids = (await store.enrollKeys()).map((k) => k.id);
      expect(ids).not.toContain(revoked.id);
      expect(ids).toContain(active.id);
    });
  });
}

/** `porthole api enroll-key …`, `device rename` and `serve --trusted-proxy` as real processes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JsonApiStore } from '../../src/api/json-store.js';

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));
const SEVERAL_PROCESSES = { timeout: 120_000 };

function api(dir: string, ...args: string[]) {
  return spawnSync(process.execPath, [bin, 'api', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PORTHOLE_API_DATA: dir },
  });
}

describe('porthole api enroll-key', SEVERAL_PROCESSES, () => {
  it('creates a key printed once, lists it without the key, revokes it; all audited', () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-enroll-cli-'));
    const create = api(dir, 'enroll-key', 'create', '--name', 'rollout', '--uses', '25', '--expires', '2d');
    expect(create.status, create.stderr).toBe(0);
    const key = /key: (pek_[A-Za-z0-9_-]{43})/.exec(create.stdout)?.[1];
    const id = /(ek-[a-z2-9]{10})/.exec(create.stdout)?.[1];
    expect(key).toBeDefined();
    expect(create.stdout).toMatch(/25 uses, expires/);
    expect(create.stdout).toContain('porthole service enroll --server');

    const list = api(dir, 'enroll-key', 'list', '--json');
    const [listed] = (JSON.parse(list.stdout) as { enrollKeys: Record<string, unknown>[] }).enrollKeys;
    expect(listed).toMatchObject({ id, name: 'rollout', state: 'active', usesLeft: 25, maxUses: 25 });
    expect(Date.parse(String(listed?.expiresAt)) - Date.parse(String(listed?.createdAt))).toBe(
      2 * 86_400_000,
    );
    expect(list.stdout).not.toContain(key);

    expect(api(dir, 'enroll-key', 'revoke', id ?? '').status).toBe(0);
    const text = api(dir, 'enroll-key', 'list').stdout;
    expect(text).toMatch(new RegExp(`${id}  rollout  25/25 uses left  expires \\S+  revoked`));
    const missing = api(dir, 'enroll-key', 'revoke', 'ek-aaaaaaaaaa');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no enrollment key with id/);

    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    expect(audit).toContain('"action":"enroll_key_created"');
    expect(audit).toContain('"action":"enroll_key_revoked"');
    expect(audit).not.toContain(key);
    expect(readFileSync(join(dir, 'store.json'), 'utf8')).not.toContain(key);
  });

  it('refuses bad --uses, --expires and --name with exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-enroll-cli-'));
    for (const args of [
      ['--uses', '0'],
      ['--uses', 'many'],
      ['--expires', '7'],
      ['--expires', '400d'],
      ['--name', 'has space'],
    ]) {
      const r = api(dir, 'enroll-key', 'create', ...args);
      expect(r.status, args.join(' ')).toBe(2);
    }
    expect(await JsonApiStore.open(dir).enrollKeys()).toHaveLength(0);
  });
});

describe('porthole api device rename', SEVERAL_PROCESSES, () => {
  it('renames a device, refusing a taken name and an unknown id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-enroll-cli-'));
    const store = JsonApiStore.open(dir);
    const a = (await store.addDevice('lab-1')).device;
    await store.addDevice('lab-2');
    const ok = api(dir, 'device', 'rename', a.id, 'front desk');
    expect(ok.status, ok.stderr).toBe(0);
    expect((await JsonApiStore.open(dir).device(a.id))?.name).toBe('front desk');
    const taken = api(dir, 'device', 'rename', a.id, 'LAB-2');
    expect([taken.status, taken.stderr]).toEqual([1, expect.stringMatching(/already named 'lab-2'/)]);
    expect(api(dir, 'device', 'rename', 'dev-nope', 'x').status).toBe(1);
    expect(api(dir, 'device', 'rename', a.id).status).toBe(2);
    expect(readFileSync(join(dir, 'audit.jsonl'), 'utf8')).toContain('"action":"device_renamed"');
  });

  it('serve refuses a malformed --trusted-proxy with exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-enroll-cli-'));
    const r = api(dir, 'serve', '--port', '0', '--trusted-proxy', 'proxy.internal');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--trusted-proxy 'proxy\.internal' is not an IP address or CIDR/);
  });
});

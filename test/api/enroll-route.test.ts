/**
 * `POST /api/enroll` on a real server: the answer and its codes, the per-address rate limit on a fake
 * clock with Retry-After, the client address behind a trusted proxy, and the audit lines.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../fixtures/fake-clock.js';
import { startHarness, type Harness } from './harness.js';
import { TrustedProxies, parseCidr } from '../../src/api/client-address.js';
import { AddressRateLimiter } from '../../src/api/rate-limit.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const machine = { hostname: 'office-pc', os: 'linux', arch: 'x64', agentVersion: '0.1.0' };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the shape is what the test checks
}

/** A POST with headers fetch would refuse to set (X-Forwarded-For, Host). */
function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const req = httpRequest(
      `${url}/api/enroll`,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(data) as unknown }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

async function start(opts: Parameters<typeof startHarness>[0] = {}) {
  const clock = new FakeClock(0);
  let wall = T0;
  h = await startHarness({ timers: clock, now: () => wall, ...opts });
  return {
    h,
    clock,
    setWall: (t: number) => (wall = t),
    key: async (maxUses = 5, ttlMs = DAY) =>
      (await h!.server.store.createEnrollKey({ maxUses, ttlMs }, T0)).key,
  };
}

describe('POST /api/enroll', () => {
  it('enrolls a machine: 201 with the device id, its token and the agent URL; the device is listed', async () => {
    const { h, key } = await start();
    const k = await key();
    const r = await post(h.server.url, { key: k, ...machine });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      deviceId: expect.stringMatching(/^dev-[a-z2-9]{10}$/),
      deviceToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      agentUrl: h.server.agentUrl,
      name: 'office-pc',
    });
    const devices = (await h.request('GET', '/api/devices')).body.devices as { id: string; name: string }[];
    expect(devices).toContainEqual(expect.objectContaining({ id: r.body.deviceId, name: 'office-pc' }));
    expect(await h.server.store.authenticateDevice(r.body.deviceId, r.body.deviceToken)).toBeDefined();
    const line = (await h.audit()).find((l) => l.action === 'enroll');
    expect(line).toMatchObject({ ok: true, device: r.body.deviceId, remote: '127.0.0.1', name: 'office-pc' });
    expect(JSON.stringify(await h.audit())).not.toContain(k);
  });

  it('answers each refused key with its 401 code, audited with the key id', async () => {
    const { h, key, setWall } = await start();
    const once = await key(1);
    expect((await post(h.server.url, { key: once, ...machine })).status).toBe(201);
    const used = await post(h.server.url, { key: once, ...machine });
    expect([used.status, used.body.error.code]).toEqual([401, 'enroll_key_used_up']);

    const revoked = await h.server.store.createEnrollKey({ maxUses: 5, ttlMs: DAY }, T0);
    await h.server.store.revokeEnrollKey(revoked.record.id, T0);
    const r = await post(h.server.url, { key: revoked.key, ...machine });
    expect([r.status, r.body.error.code]).toEqual([401, 'enroll_key_revoked']);

    const unknown = await post(h.server.url, { key: 'A'.repeat(43), ...machine });
    expect([unknown.status, unknown.body.error.code]).toEqual([401, 'enroll_key_invalid']);

    const later = await key(5, DAY);
    setWall(T0 + DAY);
    const expired = await post(h.server.url, { key: later, ...machine });
    expect([expired.status, expired.body.error.code]).toEqual([401, 'enroll_key_expired']);

    const failed = (await h.audit()).filter((l) => l.action === 'enroll' && !l.ok);
    expect(failed.map((l) => l.code)).toEqual([
      'enroll_key_used_up',
      'enroll_key_revoked',
      'enroll_key_invalid',
      'enroll_key_expired',
    ]);
    expect(failed[1]?.enrollKey).toBe(revoked.record.id);
    expect(failed[2]?.enrollKey).toBeUndefined();
  });

  it('validates the body: bounded strings, no unknown fields, not JSON, wrong method', async () => {
    const { h, key } = await start();
    const k = await key();
    const cases: [unknown, string][] = [
      [{ key: k, ...machine, hostname: '' }, 'hostname'],
      [{ key: k, ...machine, hostname: 'a'.repeat(254) }, 'hostname'],
      [{ key: k, ...machine, hostname: 'evil\nname' }, 'hostname'],
      [{ key: k, ...machine, os: 'Linux OS' }, 'os'],
      [{ key: k, ...machine, arch: 'x'.repeat(33) }, 'arch'],
      [{ key: k, ...machine, agentVersion: '1.0 beta' }, 'agentVersion'],
      [{ key: k, ...machine, extra: 1 }, 'extra'],
      [{ ...machine }, 'key'],
    ];
    for (const [body, field] of cases) {
      const r = await post(h.server.url, body);
      expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, 'bad_request', field]);
    }
    expect((await post(h.server.url, '{nope')).status).toBe(400);
    expect((await post(h.server.url, 'x'.repeat(5000))).status).toBe(413);
    const get = await h.request('GET', '/api/enroll', undefined, null);
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    // No device was created by any of them, and the key is untouched.
    expect((await h.server.store.enrollKeys())[0]?.uses).toBe(0);
  });

  it('limits refused attempts per address: 429 with Retry-After once the failures are spent', async () => {
    const { h, clock, key } = await start({
      enrollRateLimits: { attempts: { burst: 100, refillMs: 10 }, failures: { burst: 3, refillMs: 60_000 } },
    });
    for (let i = 0; i < 3; i++) {
      expect((await post(h.server.url, { key: 'B'.repeat(43), ...machine })).status).toBe(401);
    }
    const k = await key();
    const limited = await post(h.server.url, { key: k, ...machine });
    expect([limited.status, limited.body.error.code, limited.headers['retry-after']]).toEqual([
      429,
      'rate_limited',
      '60',
    ]);
    await clock.advance(30_000);
    expect((await post(h.server.url, { key: k, ...machine })).headers['retry-after']).toBe('30');
    await clock.advance(30_000);
    expect((await post(h.server.url, { key: k, ...machine })).status).toBe(201);
    // 429s are not audited (a limited client must not be able to fill the audit log).
    expect((await h.audit()).filter((l) => l.action === 'enroll')).toHaveLength(4);
  });

  it('limits all attempts per address, generously, for sites enrolling many machines behind one NAT', async () => {
    const { h, clock, key } = await start({
      enrollRateLimits: { attempts: { burst: 2, refillMs: 1000 }, failures: { burst: 10, refillMs: 60_000 } },
    });
    const k = await key(10);
    expect((await post(h.server.url, { key: k, ...machine })).status).toBe(201);
    expect((await post(h.server.url, { key: k, ...machine })).status).toBe(201);
    const r = await post(h.server.url, { key: k, ...machine });
    expect([r.status, r.headers['retry-after']]).toEqual([429, '1']);
    await clock.advance(1000);
    expect((await post(h.server.url, { key: k, ...machine })).status).toBe(201);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const { h } = await start({
      enrollRateLimits: { attempts: { burst: 100, refillMs: 10 }, failures: { burst: 1, refillMs: 60_000 } },
    });
    await post(h.server.url, { key: 'C'.repeat(43), ...machine }, { 'x-forwarded-for': '203.0.113.1' });
    // Another claimed address from the same peer shares its bucket.
    const r = await post(
      h.server.url,
      { key: 'C'.repeat(43), ...machine },
      { 'x-forwarded-for': '203.0.113.2' },
    );
    expect(r.status).toBe(429);
    expect((await h.audit()).find((l) => l.action === 'enroll')?.remote).toBe('127.0.0.1');
  });

  it('behind a trusted proxy, limits and audits the right-most untrusted X-Forwarded-For hop', async () => {
    const { h, key } = await start({
      trustedProxies: ['127.0.0.0/8', '10.0.0.0/8'],
      enrollRateLimits: { attempts: { burst: 100, refillMs: 10 }, failures: { burst: 1, refillMs: 60_000 } },
    });
    const bad = { key: 'D'.repeat(43), ...machine };
    // The client wrote the left-most entry itself: it does not count. 10.1.2.3 is another trusted proxy.
    const xff = (client: string) => ({ 'x-forwarded-for': `6.6.6.6, ${client}, 10.1.2.3` });
    expect((await post(h.server.url, bad, xff('198.51.100.7'))).status).toBe(401);
    expect((await post(h.server.url, bad, xff('198.51.100.7'))).status).toBe(429);
    // A different client behind the same proxy has its own bucket.
    expect((await post(h.server.url, bad, xff('198.51.100.8'))).status).toBe(401);
    const remotes = (await h.audit()).filter((l) => l.action === 'enroll').map((l) => l.remote);
    expect(remotes).toEqual(['198.51.100.7', '198.51.100.8']);
    // The agent URL follows the proxy's X-Forwarded-Proto and the Host it forwarded.
    const r = await post(
      h.server.url,
      { key: await key(), ...machine },
      { 'x-forwarded-for': '198.51.100.9', 'x-forwarded-proto': 'https', host: 'porthole.example.org' },
    );
    expect(r.body.agentUrl).toBe('wss://porthole.example.org/api/agent');
  });
});

describe('client address and rate-limit parts', () => {
  it('walks X-Forwarded-For from the right, stops at a malformed hop, normalises mapped IPv4', () => {
    const p = new TrustedProxies(['10.0.0.0/8', '::1']);
    expect(p.clientAddress('::ffff:10.0.0.1', '1.1.1.1, 2.2.2.2')).toBe('2.2.2.2');
    expect(p.clientAddress('10.0.0.1', '1.1.1.1, 10.9.9.9')).toBe('1.1.1.1');
    expect(p.clientAddress('::1', '1.1.1.1, garbage')).toBe('::1');
    expect(p.clientAddress('10.0.0.1', ['3.3.3.3', '10.0.0.2'])).toBe('3.3.3.3');
    expect(p.clientAddress('10.0.0.1', '10.0.0.5, 10.0.0.6')).toBe('10.0.0.5');
    expect(p.clientAddress('192.0.2.1', '1.1.1.1')).toBe('192.0.2.1');
    expect(p.clientAddress('10.0.0.1', undefined)).toBe('10.0.0.1');
    expect(new TrustedProxies([]).clientAddress('::ffff:127.0.0.1', '1.1.1.1')).toBe('127.0.0.1');
  });

  it('refuses a malformed --trusted-proxy value', () => {
    expect(parseCidr('192.168.0.0/16')).toEqual({ address: '192.168.0.0', prefix: 16, family: 'ipv4' });
    expect(parseCidr('fd00::/8').family).toBe('ipv6');
    for (const bad of ['', 'proxy.example', '10.0.0.0/33', '::/129', '1.2.3.4/x']) {
      expect(() => parseCidr(bad)).toThrow(RangeError);
    }
  });

  it('keeps at most maxKeys addresses, dropping refilled buckets first', () => {
    const clock = new FakeClock(0);
    const l = new AddressRateLimiter({ burst: 1, refillMs: 1000 }, clock.now, 2);
    l.take('a');
    l.take('b');
    l.take('c');
    expect(l.size).toBe(2);
    expect(l.waitMs('c')).toBe(1000);
  });
});

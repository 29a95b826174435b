/**
 * The agent's side of enrollment in one process: default paths, the files it writes, and the request
 * against a real API (its 429 waited out on a fake clock shared with the server, a wrong server, a
 * refused key, a network failure).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { EnrollError, parseServerUrl, requestEnrollment } from '../../src/service/enroll-client.js';
import { retryAfterMs } from '../../src/service/retry-after.js';
import {
  enrolledDeviceId,
  readConfigForEnrollment,
  writeEnrollment,
} from '../../src/service/enrollment-files.js';
import { defaultConfigPath, defaultTokenPath, serviceConfigFile } from '../../src/service/install-paths.js';
import { loadServiceConfig } from '../../src/service/config.js';
import { FakeClock, settle } from '../fixtures/fake-clock.js';

const machine = { hostname: 'lab-7', os: 'linux', arch: 'x64', agentVersion: '0.1.0' };
const tmp = () => mkdtempSync(join(tmpdir(), 'porthole-enroll-agent-'));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function api(opts: Parameters<typeof startApiServer>[0] | object = {}): Promise<ApiServer> {
  const dir = tmp();
  const server = await startApiServer({ dataDir: dir, port: 0, staticDir: join(dir, 'none'), ...opts });
  cleanups.push(() => server.close());
  return server;
}

/** A plain HTTP server that is not porthole, answering every request with `reply`. */
async function stranger(reply: (res: ServerResponse) => void): Promise<string> {
  const s: Server = createServer((req, res) => {
    req.resume();
    reply(res);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => s.close(() => resolve())));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function refusal(p: Promise<unknown>): Promise<EnrollError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(EnrollError);
    return err as EnrollError;
  }
  throw new Error('expected the enrollment to fail');
}

describe('install paths', () => {
  it('puts config and token under %ProgramData%\\porthole on Windows and /etc/porthole on Linux', () => {
    const env = { ProgramData: 'D:\\Data' };
    expect(defaultConfigPath('win32', env)).toBe('D:\\Data\\porthole\\porthole.json');
    expect(defaultTokenPath('win32', env)).toBe('D:\\Data\\porthole\\device-token');
    expect(defaultConfigPath('win32', {})).toBe('C:\\ProgramData\\porthole\\porthole.json');
    expect(defaultConfigPath('linux', env)).toBe('/etc/porthole/porthole.json');
    expect(defaultTokenPath('linux', {})).toBe('/etc/porthole/device-token');
  });

  it('makes `porthole service` read the default config only when no other is named and it exists', () => {
    const yes = () => true;
    const no = () => false;
    expect(serviceConfigFile('a.json', { PORTHOLE_CONFIG: 'b.json' }, 'linux', yes)).toBe('a.json');
    expect(serviceConfigFile(undefined, { PORTHOLE_CONFIG: 'b.json' }, 'linux', yes)).toBe('b.json');
    expect(serviceConfigFile(undefined, {}, 'linux', yes)).toBe('/etc/porthole/porthole.json');
    expect(serviceConfigFile(undefined, {}, 'linux', no)).toBeUndefined();
  });
});

describe('enrollment files', () => {
  it('writes the token 0600 and the config pointing at it, keeping the config’s other fields', () => {
    const dir = tmp();
    const configPath = join(dir, 'porthole.json');
    writeFileSync(configPath, JSON.stringify({ logLevel: 'warn', helper: { args: ['--fps', '15'] } }), {
      mode: 0o640,
    });
    const config = readConfigForEnrollment(configPath);
    expect(enrolledDeviceId(config)).toBeUndefined();
    const token = 'T'.repeat(43);
    writeEnrollment({
      configPath,
      tokenPath: join(dir, 'sub', 'device-token'),
      config,
      agentUrl: 'wss://api.example:8443/api/agent',
      deviceId: 'dev-abcdefghij',
      token,
    });
    const written = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    expect(written).toEqual({
      logLevel: 'warn',
      helper: { args: ['--fps', '15'] },
      api: {
        url: 'wss://api.example:8443/api/agent',
        deviceId: 'dev-abcdefghij',
        tokenFile: join(dir, 'sub', 'device-token'),
      },
    });
    expect(readFileSync(configPath, 'utf8')).not.toContain(token);
    expect(statSync(join(dir, 'sub', 'device-token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700);
    expect(statSync(configPath).mode & 0o777).toBe(0o640);
    // What the service then loads.
    const loaded = loadServiceConfig({ file: configPath, env: {}, flags: {} });
    expect(loaded.api).toEqual({
      url: 'wss://api.example:8443/api/agent',
      deviceId: 'dev-abcdefghij',
      token,
    });
    expect(enrolledDeviceId(readConfigForEnrollment(configPath))).toBe('dev-abcdefghij');
  });

  it('keeps the other instances’ URLs when enrolling with the same server again, drops them for another', () => {
    const dir = tmp();
    const configPath = join(dir, 'porthole.json');
    const first = 'wss://api1.example/api/agent';
    const others = ['wss://api2.example/api/agent'];
    writeFileSync(configPath, JSON.stringify({ api: { url: first, urls: others, deviceId: 'dev-old' } }));
    const enroll = (agentUrl: string) =>
      writeEnrollment({
        configPath,
        tokenPath: join(dir, 'tok'),
        config: readConfigForEnrollment(configPath),
        agentUrl,
        deviceId: 'dev-new',
        token: 'z'.repeat(43),
      });
    enroll(first);
    const again = JSON.parse(readFileSync(configPath, 'utf8')) as { api: Record<string, unknown> };
    expect(again.api).toMatchObject({ url: first, urls: others, deviceId: 'dev-new' });
    expect(loadServiceConfig({ file: configPath, env: {}, flags: {} }).api?.urls).toEqual([first, ...others]);
    enroll('wss://elsewhere.example/api/agent');
    const moved = JSON.parse(readFileSync(configPath, 'utf8')) as { api: Record<string, unknown> };
    expect(moved.api.url).toBe('wss://elsewhere.example/api/agent');
    expect(moved.api).not.toHaveProperty('urls');
  });

  it('creates a missing config 0600, and refuses an existing one that is not valid', () => {
    const dir = tmp();
    writeEnrollment({
      configPath: join(dir, 'new.json'),
      tokenPath: join(dir, 'tok'),
      config: undefined,
      agentUrl: 'ws://127.0.0.1:1/api/agent',
      deviceId: 'dev-x',
      token: 'y'.repeat(43),
    });
    expect(statSync(join(dir, 'new.json')).mode & 0o777).toBe(0o600);
    writeFileSync(join(dir, 'bad.json'), '{"sesions": {}}');
    expect(() => readConfigForEnrollment(join(dir, 'bad.json'))).toThrow(/bad\.json.*sesions/);
    writeFileSync(join(dir, 'broken.json'), '{');
    expect(() => readConfigForEnrollment(join(dir, 'broken.json'))).toThrow(/not valid JSON/);
    expect(readConfigForEnrollment(join(dir, 'absent.json'))).toBeUndefined();
  });
});

describe('the enrollment request', () => {
  it('derives the agent URL from --server, and refuses plain http off loopback', () => {
    expect(parseServerUrl('https://api.example:8443')).toEqual({
      base: 'https://api.example:8443',
      agentUrl: 'wss://api.example:8443/api/agent',
    });
    expect(parseServerUrl('https://example.org/porthole/').agentUrl).toBe(
      'wss://example.org/porthole/api/agent',
    );
    expect(parseServerUrl('http://127.0.0.1:9/').agentUrl).toBe('ws://127.0.0.1:9/api/agent');
    expect(parseServerUrl('http://[::1]:9').base).toBe('http://[::1]:9');
    for (const bad of ['http://api.example', 'ftp://x', 'not a url', 'https://u:p@x', 'https://x/?a=1']) {
      expect(() => parseServerUrl(bad)).toThrow(EnrollError);
    }
  });

  it('enrolls against the real API', async () => {
    const server = await api();
    const { key } = await server.store.createEnrollKey({ maxUses: 1, ttlMs: 3_600_000 });
    const answer = await requestEnrollment({ server: parseServerUrl(server.url), key, machine });
    expect(answer.name).toBe('lab-7');
    expect(await server.store.authenticateDevice(answer.deviceId, answer.deviceToken)).toBeDefined();
    const again = await refusal(requestEnrollment({ server: parseServerUrl(server.url), key, machine }));
    expect([again.code, again.serverCode]).toEqual(['key_refused', 'enroll_key_used_up']);
    expect(again.message).toMatch(/used as many times/);
    expect(again.message).not.toContain(key);
  });

  it('waits out a 429 for its Retry-After (plus jitter) and then enrolls, telling why it waits', async () => {
    const clock = new FakeClock(0);
    const server = await api({
      timers: clock,
      enrollRateLimits: { attempts: { burst: 1, refillMs: 20_000 }, failures: { burst: 5, refillMs: 1000 } },
    });
    const { key } = await server.store.createEnrollKey({ maxUses: 2, ttlMs: 3_600_000 });
    await requestEnrollment({ server: parseServerUrl(server.url), key, machine });
    const waits: number[] = [];
    const pending = requestEnrollment({
      server: parseServerUrl(server.url),
      key,
      machine,
      timers: clock,
      jitterMs: () => 250,
      onRetry: (ms) => waits.push(ms),
    });
    let done = false;
    void pending.then(() => (done = true));
    // The 429 arrives over a real socket: wait for the retry to be scheduled on the fake clock.
    while (clock.pending.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(waits).toEqual([20_250]);
    await clock.advance(20_000);
    await settle();
    expect(done).toBe(false);
    await clock.advance(250);
    const answer = await pending;
    expect(answer.deviceId).toMatch(/^dev-/);
  });

  it('gives up on a Retry-After longer than it will wait, and after two retries', async () => {
    const clock = new FakeClock(0);
    const server = await api({
      timers: clock,
      enrollRateLimits: { attempts: { burst: 1, refillMs: 600_000 }, failures: { burst: 5, refillMs: 1000 } },
    });
    const { key } = await server.store.createEnrollKey({ maxUses: 5, ttlMs: 3_600_000 });
    await requestEnrollment({ server: parseServerUrl(server.url), key, machine });
    const e = await refusal(
      requestEnrollment({ server: parseServerUrl(server.url), key, machine, timers: clock }),
    );
    expect(e.code).toBe('rate_limited');
    expect(e.message).toMatch(/try again in 600 s/);

    const always429 = await stranger((res) => {
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
      res.end('{"error":{"code":"rate_limited","message":"slow down"}}');
    });
    const tries: number[] = [];
    const p = requestEnrollment({
      server: parseServerUrl(always429),
      key,
      machine,
      timers: clock,
      jitterMs: () => 0,
      onRetry: (_ms, attempt) => tries.push(attempt),
    });
    const outcome = refusal(p);
    for (let i = 0; i < 2; i++) {
      while (clock.pending.length === 0) await new Promise((r) => setTimeout(r, 5));
      await clock.advance(1000);
    }
    expect((await outcome).code).toBe('rate_limited');
    expect(tries).toEqual([1, 2]);
  });

  it('says when the server is not a porthole API: 404, not JSON, a redirect, a foreign 201', async () => {
    const key = 'K'.repeat(43);
    const cases: [(res: ServerResponse) => void, RegExp][] = [
      [(res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'), /not JSON/],
      [(res) => res.writeHead(200).end('hello'), /not JSON/],
      [
        (res) => res.writeHead(307, { location: 'https://elsewhere.example/api/enroll' }).end(),
        /redirect to https:\/\/elsewhere/,
      ],
      [(res) => res.writeHead(201).end('{"ok":true}'), /not an enrollment: deviceId/],
      [
        (res) => res.writeHead(404).end('{"error":{"code":"not_found","message":"x"}}'),
        /older than enrollment/,
      ],
    ];
    for (const [reply, why] of cases) {
      const url = await stranger(reply);
      const e = await refusal(requestEnrollment({ server: parseServerUrl(url), key, machine }));
      expect(e.code).toBe('not_porthole');
      expect(e.message).toMatch(why);
      expect(e.message).toMatch(/does not look like a porthole API/);
    }
  });

  it('explains a connection refused', async () => {
    const url = await stranger((res) => res.end());
    const port = new URL(url).port;
    await cleanups.pop()?.();
    const e = await refusal(
      requestEnrollment({ server: parseServerUrl(`http://127.0.0.1:${port}`), key: 'K'.repeat(43), machine }),
    );
    expect([e.code, e.message]).toEqual(['network', expect.stringMatching(/connection refused/)]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs(new Date(61_000).toUTCString(), 1000)).toBe(60_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

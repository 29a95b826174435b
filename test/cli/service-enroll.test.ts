/**
 * Enrollment as an administrator does it, with real processes: `porthole api serve` on loopback,
 * `porthole service enroll` as a child with the key from a file, from stdin and from the environment,
 * then `porthole service` started with nothing but the config it wrote, connecting and showing online.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonApiStore } from '../../src/api/json-store.js';
import { hashToken } from '../../src/api/tokens.js';
import { waitFor } from '../fixtures/wait-for.js';
import { freePort } from '../fixtures/free-port.js';

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));

/** Cold tsx starts, several per test, on a shared 2-core machine (see test/cli/api-command.test.ts). */
const SEVERAL_PROCESSES = { timeout: 120_000 };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `porthole …` to its end, feeding `stdin` if given. */
function porthole(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, PORTHOLE_ENROLL_KEY: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

let apiDir: string;
let api: ChildProcess;
let apiUrl: string;
let apiOutput = '';
let store: JsonApiStore;
let viewerToken: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  apiDir = mkdtempSync(join(tmpdir(), 'porthole-enroll-api-'));
  api = spawn(
    process.execPath,
    [bin, 'api', 'serve', '--port', '0', '--data-dir', apiDir, '--static-dir', join(apiDir, 'none')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  api.stdout?.on('data', (d: Buffer) => (apiOutput += d.toString()));
  api.stderr?.on('data', (d: Buffer) => (apiOutput += d.toString()));
  apiUrl = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(apiOutput)?.[1], {
    what: 'porthole api serve to listen',
    timeoutMs: 60_000,
    intervalMs: 50,
    detail: () => apiOutput,
  });
  store = JsonApiStore.open(apiDir);
  viewerToken = (await store.issueViewerToken('admin')).token;
}, 90_000);

afterAll(() => {
  for (const c of [...children, api]) if (c && c.exitCode === null) c.kill('SIGKILL');
});

async function devices(): Promise<{ id: string; name: string; online: boolean }[]> {
  const r = await fetch(`${apiUrl}/api/devices`, { headers: { authorization: `Bearer ${viewerToken}` } });
  return ((await r.json()) as { devices: { id: string; name: string; online: boolean }[] }).devices;
}

const newKey = async (uses = 1) => (await store.createEnrollKey({ maxUses: uses, ttlMs: 3_600_000 })).key;
const usesOf = async (key: string) =>
  (await store.enrollKeys()).find((k) => k.keyHash === hashToken(key))?.uses;
const agentDir = () => mkdtempSync(join(tmpdir(), 'porthole-enroll-agent-'));
/** A loopback port nothing listens on (bound, then closed). */

const enroll = (config: string, extra: string[], opts?: Parameters<typeof porthole>[1]) =>
  porthole(['service', 'enroll', '--server', apiUrl, '--config', config, ...extra], opts);

describe('porthole service enroll (real processes)', SEVERAL_PROCESSES, () => {
  it('enrolls with the key from a file, and the service then connects with the written config alone', async () => {
    const dir = agentDir();
    const config = join(dir, 'porthole.json');
    // A config from the package, with a field enrollment must keep: no X sessions to find here.
    mkdirSync(join(dir, 'x11'));
    writeFileSync(config, JSON.stringify({ sessions: { socketDir: join(dir, 'x11') } }));
    const key = await newKey();
    writeFileSync(join(dir, 'key'), `${key}\n`, { mode: 0o600 });

    const run = await enroll(config, ['--key-file', join(dir, 'key')]);
    expect(run.status, run.stderr).toBe(0);
    const written = JSON.parse(readFileSync(config, 'utf8')) as {
      sessions: unknown;
      api: { url: string; deviceId: string; tokenFile: string };
    };
    expect(written.sessions).toEqual({ socketDir: join(dir, 'x11') });
    expect(written.api.url).toBe(`${apiUrl.replace('http', 'ws')}/api/agent`);
    expect(written.api.tokenFile).toBe(join(dir, 'device-token'));
    expect(statSync(join(dir, 'device-token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'device-token')).uid).toBe(process.getuid?.());
    const token = readFileSync(join(dir, 'device-token'), 'utf8').trim();
    expect(run.stdout).toContain(written.api.deviceId);
    for (const secret of [key, token]) {
      expect(run.stdout + run.stderr).not.toContain(secret);
      expect(apiOutput).not.toContain(secret);
    }
    expect(readFileSync(join(apiDir, 'audit.jsonl'), 'utf8')).not.toContain(key);
    expect(readFileSync(join(apiDir, 'store.json'), 'utf8')).not.toContain(key);

    const listed = (await devices()).find((d) => d.id === written.api.deviceId);
    expect(listed).toMatchObject({ online: false });

    let output = '';
    const service = spawn(process.execPath, [bin, 'service', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(service);
    service.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    service.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(async () => (await devices()).find((d) => d.id === written.api.deviceId)?.online, {
      what: 'the enrolled device online',
      timeoutMs: 60_000,
      intervalMs: 200,
      detail: () => `service output: ${output.slice(-2000)}`,
    });
    expect(output).not.toContain(token);
    service.kill('SIGTERM');
    await new Promise((resolve) => service.once('exit', resolve));
  });

  it('takes the key from stdin and from PORTHOLE_ENROLL_KEY; names clashing hosts apart', async () => {
    const key = await newKey(2);
    const a = join(agentDir(), 'porthole.json');
    const b = join(agentDir(), 'porthole.json');
    const [viaStdin, viaEnv] = await Promise.all([
      enroll(a, ['--key-file', '-'], { stdin: `${key}\n` }),
      enroll(b, [], { env: { PORTHOLE_ENROLL_KEY: key } }),
    ]);
    expect(viaStdin.status, viaStdin.stderr).toBe(0);
    expect(viaEnv.status, viaEnv.stderr).toBe(0);
    const ids = [a, b].map(
      (f) => (JSON.parse(readFileSync(f, 'utf8')) as { api: { deviceId: string } }).api.deviceId,
    );
    const names = (await devices()).filter((d) => ids.includes(d.id)).map((d) => d.name);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
    // The key had two uses: a third machine is refused with the reason.
    const third = await enroll(join(agentDir(), 'porthole.json'), [], { env: { PORTHOLE_ENROLL_KEY: key } });
    expect(third.status).toBe(1);
    expect(third.stderr).toMatch(/^porthole service enroll: .*used as many times.*\(enroll_key_used_up\)\n$/);
    expect(third.stderr).not.toContain(key);
  });

  it('refuses to enroll an enrolled machine without --force, and enrolls it anew with it', async () => {
    const dir = agentDir();
    const config = join(dir, 'porthole.json');
    const key = await newKey(2);
    writeFileSync(join(dir, 'key'), key);
    expect((await enroll(config, ['--key-file', join(dir, 'key')])).status).toBe(0);
    const first = readFileSync(config, 'utf8');
    const again = await enroll(config, ['--key-file', join(dir, 'key')]);
    expect(again.status).toBe(3);
    expect(again.stderr).toMatch(/already enrolled as device dev-\S+ .*--force/);
    expect(readFileSync(config, 'utf8')).toBe(first);
    // Refused before the key was sent: its second use is still there.
    expect(await usesOf(key)).toBe(1);

    const forced = await enroll(config, ['--key-file', join(dir, 'key'), '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    const before = (JSON.parse(first) as { api: { deviceId: string } }).api.deviceId;
    const after = (JSON.parse(readFileSync(config, 'utf8')) as { api: { deviceId: string } }).api.deviceId;
    expect(after).not.toBe(before);
  });

  it('refuses a key on the command line without echoing it, and a missing key', async () => {
    const config = join(agentDir(), 'porthole.json');
    const key = await newKey();
    const [flag, positional, none] = await Promise.all([
      enroll(config, ['--key', key]),
      enroll(config, [key]),
      enroll(config, []),
    ]);
    for (const r of [flag, positional]) {
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/never taken from the command line/);
      expect(r.stderr + r.stdout).not.toContain(key);
    }
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no enrollment key/);
    expect(await usesOf(key)).toBe(0);
  });

  it('explains a wrong server (not porthole) and an unreachable one, in one line', async () => {
    const config = join(agentDir(), 'porthole.json');
    const env = { PORTHOLE_ENROLL_KEY: await newKey() };
    // The API's static side answers 503 text for /: pointing --server at a sub-path finds no /api.
    const closed = await freePort();
    const [wrong, unreachable] = await Promise.all([
      porthole(['service', 'enroll', '--server', `${apiUrl}/viewer`, '--config', config], { env }),
      porthole(['service', 'enroll', '--server', `http://127.0.0.1:${closed}`, '--config', config], { env }),
    ]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^porthole service enroll: .* does not look like a porthole API .*\n$/);
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(
      new RegExp(`cannot reach http://127\\.0\\.0\\.1:${closed}: connection refused`),
    );
    expect(() => statSync(config)).toThrow();
  });

  it('prints its help', async () => {
    const help = await porthole(['service', 'enroll', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: porthole service enroll --server/);
    expect(help.stdout).toMatch(/PORTHOLE_ENROLL_KEY/);
  });
});

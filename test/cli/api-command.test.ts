/** `porthole api …` as real processes against a temp data dir. */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../fixtures/wait-for.js';

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));
let dir: string;

const porthole = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'api', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, PORTHOLE_API_DATA: dir },
  });

/** The same, asynchronously, for tests that run concurrently (each with its own data dir). */
const portholeAsync = (...args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const env = { ...process.env, PORTHOLE_API_DATA: mkdtempSync(join(tmpdir(), 'porthole-api-cli-')) };
    execFile(process.execPath, [bin, 'api', ...args], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'porthole-api-cli-'));
});

/**
 * For the tests that run several `porthole api` processes, one after another or all at once: each is a
 * cold Node start that loads the sources through tsx, ~2 s with both cores busy (measured), up to ~5 s
 * on a machine loaded further, and ~17 s when the usage tests start theirs together. The suite's 20 s
 * would time them out; this is only the guard against a hang.
 */
const SEVERAL_PROCESSES = { timeout: 120_000 };

describe('porthole api device', SEVERAL_PROCESSES, () => {
  it('adds a device, printing its id, token and the service flags; lists and removes it', () => {
    const add = porthole('device', 'add', 'office pc', '--api-url', 'wss://api.example:8443/api/agent');
    expect(add.status).toBe(0);
    const id = /id:\s+(dev-\S+)/.exec(add.stdout)?.[1];
    const token = /token:\s+(\S+)/.exec(add.stdout)?.[1];
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(add.stdout).toContain(
      `porthole service --api-url wss://api.example:8443/api/agent --device-id ${id} --token-file`,
    );

    const list = porthole('device', 'list');
    expect(list.stdout).toContain(`${id}  office pc`);
    expect(list.stdout).not.toContain(token);

    expect(porthole('device', 'remove', id ?? '').status).toBe(0);
    const again = porthole('device', 'remove', id ?? '');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/no device with id/);
    expect(JSON.parse(porthole('device', 'list', '--json').stdout)).toEqual({ devices: [] });
  });

  it('honours --data-dir over PORTHOLE_API_DATA', () => {
    const other = mkdtempSync(join(tmpdir(), 'porthole-api-cli-'));
    expect(porthole('device', 'add', 'elsewhere', '--data-dir', other, '--json').status).toBe(0);
    expect(JSON.parse(porthole('device', 'list', '--json').stdout).devices).toHaveLength(0);
    expect(JSON.parse(porthole('device', 'list', '--json', '--data-dir', other).stdout).devices).toHaveLength(
      1,
    );
  });
});

describe('porthole api token', SEVERAL_PROCESSES, () => {
  it('issues a named token once, refuses a duplicate, lists without secrets and revokes', () => {
    const issue = porthole('token', 'issue', 'alice', '--json');
    expect(issue.status).toBe(0);
    const { token } = JSON.parse(issue.stdout) as { token: string };
    const dup = porthole('token', 'issue', 'alice');
    expect(dup.status).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
    const once = JSON.parse(porthole('token', 'issue', 'bob', '--once', '--json').stdout) as {
      expiresAt: string;
    };
    expect(Date.parse(once.expiresAt)).toBeGreaterThan(Date.now());

    const list = porthole('token', 'list');
    expect(list.stdout).toMatch(/alice {2}named/);
    expect(list.stdout).toMatch(/bob {2}login/);
    expect(list.stdout).not.toContain(token);

    expect(porthole('token', 'revoke', 'alice').stdout).toMatch(/Revoked 1 token named 'alice'/);
    expect(porthole('token', 'revoke', 'alice').status).toBe(1);
  });

  it('issues a view-only token (--view-only), kept in the store and shown by list', () => {
    const issue = porthole('token', 'issue', 'watcher', '--view-only', '--json');
    expect(issue.status).toBe(0);
    expect(JSON.parse(issue.stdout)).toMatchObject({ name: 'watcher', viewOnly: true });
    expect(porthole('token', 'issue', 'watcher2', '--view-only', '--once').stdout).toMatch(
      /Login token for 'watcher2' \(view-only single use/,
    );
    expect(porthole('token', 'list').stdout).toMatch(/watcher {2}named view-only/);
    const listed = JSON.parse(porthole('token', 'list', '--json').stdout) as {
      tokens: { name: string; viewOnly?: boolean }[];
    };
    expect(listed.tokens.find((t) => t.name === 'watcher')?.viewOnly).toBe(true);
    expect(porthole('token', 'issue', '--help').stdout).toMatch(/--view-only/);
  });

  it('exits 2 on a token name the store would not accept', () => {
    const r = porthole('token', 'issue', 'two words');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/name: does not match/);
  });
});

describe.concurrent('porthole api usage', SEVERAL_PROCESSES, () => {
  it.each([
    [['frob'], /unknown sub-command 'frob'/],
    [['device', 'frob'], /unknown sub-command 'device frob'/],
    [['device', 'rename', 'dev-x'], /missing <name>/],
    [['token'], /missing sub-command after 'token'/],
    [[], /missing sub-command/],
    [['device', 'list', '--once'], /--once/],
    [['device', 'add'], /missing <name>/],
    [['device', 'list', 'extra'], /unexpected argument 'extra'/],
    [['serve', '--allow-origin', 'https://viewer.example.org/'], /write it as a browser sends it/],
  ])('exits 2 for %j with a clear message', async (args, message) => {
    const r = await portholeAsync(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    [['--help'], /^Usage: porthole api <serve\|device\|token\|enroll-key\|migrate-store>/],
    [['device', '--help'], /^Usage: porthole api device <add\|remove\|list\|rename>/],
    [['enroll-key', 'create', '--help'], /--uses/],
    [['device', 'add', '--help'], /^Usage: porthole api device add <name>/],
    [['token', 'issue', '--help'], /--once/],
    [['serve', '--help'], /--turn-secret-file/],
  ])('prints its own help for %j', async (args, usage) => {
    const r = await portholeAsync(...args);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(usage);
  });
});

describe('porthole api serve --help', () => {
  it('names every flag serve takes in its usage line', async () => {
    const r = await portholeAsync('serve', '--help');
    const usage = /^Usage: (.*)$/m.exec(r.stdout)?.[1] ?? '';
    const flags = [...r.stdout.matchAll(/^\s+(?:-\w, )?--([a-z-]+)/gm)].map((m) => m[1]);
    expect(flags).toContain('allow-origin');
    for (const flag of flags.filter((f) => f !== 'help')) expect(usage).toContain(`--${flag}`);
  });
});

describe('porthole api serve', SEVERAL_PROCESSES, () => {
  it('refuses plain HTTP on a non-loopback host', () => {
    const r = porthole('serve', '--host', '0.0.0.0', '--port', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/refusing plain HTTP on 0\.0\.0\.0/);
  });

  it('serves, sees devices the CLI adds while it runs, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'api', 'serve', '--port', '0', '--log-level', 'warn'], {
      env: { ...process.env, PORTHOLE_API_DATA: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], {
        what: 'listening line',
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      const { token } = JSON.parse(porthole('token', 'issue', 'ops', '--json').stdout) as { token: string };
      const { id } = JSON.parse(porthole('device', 'add', 'late box', '--json').stdout) as { id: string };
      const r = await fetch(`${url}/api/devices`, { headers: { authorization: `Bearer ${token}` } });
      expect(await r.json()).toEqual({ devices: [{ id, name: 'late box', online: false }] });
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
  });
});

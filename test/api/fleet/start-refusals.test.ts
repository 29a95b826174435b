/**
 * `porthole api serve --redis` when Redis cannot be used at start: a wrong password or nothing
 * listening stops the process with an error that names Redis without its password (systemd's
 * Restart=on-failure tries again), instead of serving without routing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

const redisUrl = inject('redisUrl');
const bin = fileURLToPath(new URL('../../../bin/porthole.js', import.meta.url));

function serve(redis: string) {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-redis-refusal-'));
  return new Promise<{ status: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, 'api', 'serve', '--port', '0', '--data-dir', dir], {
      env: { ...process.env, PORTHOLE_REDIS_URL: redis },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (status) => resolve({ status, output }));
  });
}

describe.skipIf(!redisUrl)('api serve refuses to start without a usable Redis', () => {
  it('exits with an error on a wrong password, never printing it', async () => {
    const wrong = new URL(redisUrl);
    wrong.password = 'not-the-password-0123';
    const r = await serve(wrong.toString());
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
    expect(r.output).not.toContain('not-the-password-0123');
    expect(r.output).not.toContain('listening on');
  });

  it('exits with an error when nothing listens there', async () => {
    const r = await serve('redis://127.0.0.1:1');
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });

  it('refuses a URL that is not redis:// with exit 2', async () => {
    const r = await serve('http://127.0.0.1:6379');
    expect(r.status).toBe(2);
    expect(r.output).toMatch(/--redis must start with redis:\/\/ or rediss:\/\//);
  });
});

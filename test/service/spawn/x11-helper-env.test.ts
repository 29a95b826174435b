/**
 * What a helper inherits from the service's environment: a fresh environment with the session's
 * display, plus the few variables passed through (Node flags, porthole overrides, and the private CA
 * the service trusts the API by, since the helper dials the API's WebSocket relay itself).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log/logger.js';
import { X11HelperSpawner } from '../../../src/service/spawn/x11-helper-spawner.js';

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

/** Spawns `sh` in the helper's place; it writes its environment to a file and exits. */
async function helperEnv(): Promise<Map<string, string>> {
  const out = join(mkdtempSync(join(tmpdir(), 'porthole-helper-env-')), 'env');
  const spawner = new X11HelperSpawner({
    command: ['/bin/sh', '-c', `env > '${out}'`],
    log: silentLogger,
    keepRoot: true,
  });
  const helper = await spawner.spawn({
    session: {
      sessionId: 9,
      username: '',
      state: 'active',
      type: 'x11',
      console: false,
      x11: { display: ':9', uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
    },
    helperId: 'h1',
    secret: Buffer.alloc(32),
  });
  expect(await helper.exited).toMatchObject({ code: 0 });
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  return new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('a helper’s environment', () => {
  it('passes the service’s NODE_EXTRA_CA_CERTS, NODE_OPTIONS and PORTHOLE_* on, and nothing else of it', async () => {
    process.env.NODE_EXTRA_CA_CERTS = '/etc/porthole/ca.pem';
    process.env.PORTHOLE_FFMPEG = '/opt/ffmpeg';
    process.env.SOME_SECRET = 'not for helpers';
    const env = await helperEnv();
    expect(env.get('NODE_EXTRA_CA_CERTS')).toBe('/etc/porthole/ca.pem');
    expect(env.get('PORTHOLE_FFMPEG')).toBe('/opt/ffmpeg');
    expect(env.get('DISPLAY')).toBe(':9');
    expect(env.has('SOME_SECRET')).toBe(false);
  });

  it('sets no NODE_EXTRA_CA_CERTS when the service has none', async () => {
    delete process.env.NODE_EXTRA_CA_CERTS;
    expect((await helperEnv()).has('NODE_EXTRA_CA_CERTS')).toBe(false);
  });
});

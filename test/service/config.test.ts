import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/service/config.js';

const dir = mkdtempSync(join(tmpdir(), 'porthole-cfg-'));
const file = (name: string, content: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};

describe('service config', () => {
  it('layers defaults < file < environment < flags', () => {
    const f = file('a.json', {
      api: { url: 'ws://file/agent', deviceId: 'from-file', token: 'file-token-0123456789' },
      logLevel: 'warn',
    });
    const c = loadServiceConfig({
      file: f,
      env: { PORTHOLE_DEVICE_ID: 'from-env', PORTHOLE_LOG_LEVEL: 'debug' },
      flags: { apiUrl: 'wss://flag/agent' },
    });
    expect(c.api).toEqual({ url: 'wss://flag/agent', deviceId: 'from-env', token: 'file-token-0123456789' });
    expect(c.logLevel).toBe('debug');
    expect(c.policy.maxFailures).toBe(5);
  });

  it('reads the token from a file, never needing it on the command line', () => {
    const t = file('token', 'secret-token-abcdefgh\n');
    const c = loadServiceConfig({ env: {}, flags: { apiUrl: 'ws://x/a', deviceId: 'd', tokenFile: t } });
    expect(c.api?.token).toBe('secret-token-abcdefgh');
  });

  it('names the bad field of a config file', () => {
    const f = file('b.json', { sessions: { pollMs: 5 } });
    expect(() => loadServiceConfig({ file: f, env: {}, flags: {} })).toThrow(/sessions\.pollMs/);
    const g = file('c.json', { sesions: {} });
    expect(() => loadServiceConfig({ file: g, env: {}, flags: {} })).toThrow(/sesions: is not a known field/);
  });

  it('says which API setting is missing', () => {
    expect(() => loadServiceConfig({ env: { PORTHOLE_API_URL: 'ws://x/a' }, flags: {} })).toThrow(
      /api\.deviceId/,
    );
    expect(() => loadServiceConfig({ env: {}, flags: { apiUrl: 'http://x', deviceId: 'd' } })).toThrow(
      /api\.token/,
    );
  });

  it('reports an unreadable config file with its path', () => {
    expect(() => loadServiceConfig({ file: join(dir, 'missing.json'), env: {}, flags: {} })).toThrow(
      /missing\.json/,
    );
    expect(() => loadServiceConfig({ file: file('d.json', '{not json'), env: {}, flags: {} })).toThrow(
      /d\.json/,
    );
  });
});

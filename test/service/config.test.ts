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

  it('takes several API URLs: api.url then api.urls in the file, or a comma-separated flag or env', () => {
    const token = 'file-token-0123456789';
    const f = file('urls.json', {
      api: { url: 'wss://a/agent', urls: ['wss://b/agent', 'wss://a/agent'], deviceId: 'd', token },
    });
    expect(loadServiceConfig({ file: f, env: {}, flags: {} }).api).toEqual({
      url: 'wss://a/agent',
      urls: ['wss://a/agent', 'wss://b/agent'],
      deviceId: 'd',
      token,
    });
    const env = { PORTHOLE_API_URL: 'wss://e1/agent, wss://e2/agent' };
    expect(loadServiceConfig({ file: f, env, flags: {} }).api?.urls).toEqual([
      'wss://e1/agent',
      'wss://e2/agent',
    ]);
    const flags = { apiUrl: 'wss://f1/agent,wss://f2/agent,wss://f3/agent' };
    const c = loadServiceConfig({ file: f, env, flags });
    expect(c.api?.url).toBe('wss://f1/agent');
    expect(c.api?.urls).toEqual(['wss://f1/agent', 'wss://f2/agent', 'wss://f3/agent']);
    // One URL in a list is one URL: no `urls`.
    expect(
      loadServiceConfig({ env: {}, flags: { apiUrl: 'wss://x/a,', deviceId: 'd' }, file: f }).api,
    ).toEqual({
      url: 'wss://x/a',
      deviceId: 'd',
      token,
    });
  });

  it('names the bad URL of a list', () => {
    const flags = { apiUrl: 'wss://ok/agent,https://not-ws/agent', deviceId: 'd' };
    const env = { PORTHOLE_TOKEN: 'file-token-0123456789' };
    expect(() => loadServiceConfig({ env, flags })).toThrow(/api\.urls\[1\]/);
    const g = file('bad-urls.json', { api: { urls: ['ftp://x'], deviceId: 'd' } });
    expect(() => loadServiceConfig({ file: g, env, flags: {} })).toThrow(/api\.urls\.0|api\.urls\[0\]/);
  });
});

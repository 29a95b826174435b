/**
 * The `access` section of porthole.json: defaults, bounds, errors that name the field, and the rule
 * that decides whether a start_desktop asks the person at the machine.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/service/config.js';
import {
  consentRequired,
  DEFAULT_ACCESS_POLICY,
  userPresent,
  type AccessPolicy,
} from '../../src/service/access-policy.js';
import { FULL_CONTROL, VIEW_ONLY } from '../../src/protocol/ipc.js';

const dir = mkdtempSync(join(tmpdir(), 'porthole-access-'));
let n = 0;
function load(access: unknown): AccessPolicy {
  const f = join(dir, `c${++n}.json`);
  writeFileSync(f, JSON.stringify({ access }));
  return loadServiceConfig({ file: f, env: {}, flags: {} }).access;
}

describe('the access section of the service config', () => {
  it('defaults to unattended access without limits, as before the section existed', () => {
    expect(loadServiceConfig({ env: {}, flags: {} }).access).toEqual(DEFAULT_ACCESS_POLICY);
    expect(DEFAULT_ACCESS_POLICY).toMatchObject({
      consent: 'never',
      consentTimeoutMs: 30_000,
      onConsentTimeout: 'deny',
      viewOnlySkipsConsent: false,
      maxSessionMs: 0,
      idleTimeoutMs: 0,
    });
  });

  it('takes each field and keeps the defaults of the others', () => {
    expect(load({ consent: 'when-user-present', consentTimeoutMs: 60_000, maxSessionMs: 3_600_000 })).toEqual(
      {
        ...DEFAULT_ACCESS_POLICY,
        consent: 'when-user-present',
        consentTimeoutMs: 60_000,
        maxSessionMs: 3_600_000,
      },
    );
  });

  it.each([
    [{ consent: 'sometimes' }, /access\.consent: must be one of/],
    [{ consentTimeoutMs: 1000 }, /access\.consentTimeoutMs: must be between 5000 and 300000/],
    [{ onConsentTimeout: 'maybe' }, /access\.onConsentTimeout/],
    [{ maxSessionMs: 500 }, /access\.maxSessionMs: must be 0 \(no limit\) or at least 1000 ms/],
    [{ idleTimeoutMs: -1 }, /access\.idleTimeoutMs: must be between 0 and 86400000/],
    [{ idleTimeoutMs: 30_000 }, /access\.limitWarningMs: must be shorter than access\.idleTimeoutMs/],
    [{ maxSesionMs: 1 }, /access\.maxSesionMs: is not a known field/],
    [{ absentAfterIdleMs: 5000 }, /access\.absentAfterIdleMs: must be 0 \(not read\) or at least 10000 ms/],
  ])('refuses %j, naming the field', (access, message) => {
    expect(() => load(access)).toThrow(message);
  });
});

describe('whether a start_desktop asks', () => {
  const active = { state: 'active' as const, username: 'alice' };
  it.each([
    ['never', active, FULL_CONTROL, false],
    ['always', active, FULL_CONTROL, true],
    ['always', { state: 'connected' as const, username: '' }, FULL_CONTROL, true],
    ['when-user-present', active, FULL_CONTROL, true],
    ['when-user-present', { state: 'locked' as const, username: 'alice' }, FULL_CONTROL, false],
    ['when-user-present', { state: 'disconnected' as const, username: 'alice' }, FULL_CONTROL, false],
    ['when-user-present', { state: 'connected' as const, username: '' }, FULL_CONTROL, false],
  ] as const)('%s in a %j session: %s', (consent, session, asks, asked) => {
    expect(consentRequired({ consent, viewOnlySkipsConsent: false }, session, asks)).toBe(asked);
  });

  it('lets a view-only viewer skip it only with viewOnlySkipsConsent', () => {
    expect(consentRequired({ consent: 'always', viewOnlySkipsConsent: true }, active, VIEW_ONLY)).toBe(false);
    expect(
      consentRequired({ consent: 'always', viewOnlySkipsConsent: true }, active, {
        control: false,
        files: true,
      }),
    ).toBe(true);
    expect(consentRequired({ consent: 'always', viewOnlySkipsConsent: false }, active, VIEW_ONLY)).toBe(true);
  });

  it('counts a user as present in an active session with a user only', () => {
    expect(userPresent(active)).toBe(true);
    expect(userPresent({ state: 'idle', username: 'alice' })).toBe(false);
    expect(userPresent({ state: 'active', username: '' })).toBe(false);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_LINK_FEATURES_HEADER as FEATURES,
  API_LINK_V1,
  API_LINK_VERSION_HEADER as VERSION,
  MissingFeatureError,
  apiLinkHeaders,
  errorBodyForPeer,
  parseApiLinkPeer,
  payloadForPeer,
  type ApiLinkPeer,
} from '../../src/protocol/api-version.js';
import { parseApiCommand, type StartDesktop } from '../../src/protocol/api.js';
import { v1StartDesktop } from '../fixtures/api-link-v1.js';
import { desktopId, iceServer, offerText, osSession } from './arbitraries.js';

const features = (p: ApiLinkPeer) => [...p.features].sort();
const current = parseApiLinkPeer(apiLinkHeaders());

describe('reading a peer’s announcement', () => {
  it('reads its own announcement back as this version with every feature', () => {
    expect(current.version).toBe(2);
    expect(features(current)).toEqual([
      'add_peer',
      'audit_events',
      'capacity_errors',
      'consent',
      'permissions',
      'viewer',
      'ws_relay',
    ]);
    expect(current.malformed).toBeUndefined();
  });

  it('counts a peer that announces nothing as version 1 without features', () => {
    expect(parseApiLinkPeer({})).toEqual(API_LINK_V1);
    expect(parseApiLinkPeer({ [FEATURES]: 'viewer' })).toEqual(API_LINK_V1);
  });

  it('gives an explicit version 1 no features, whatever it lists', () => {
    expect(parseApiLinkPeer({ [VERSION]: '1', [FEATURES]: 'viewer' })).toEqual(API_LINK_V1);
  });

  it('ignores features it does not know, and empty list items', () => {
    const p = parseApiLinkPeer({ [VERSION]: '9', [FEATURES]: 'audio,, viewer ,tickets' });
    expect(p.version).toBe(9);
    expect(features(p)).toEqual(['viewer']);
    expect(p.malformed).toBeUndefined();
  });

  it.each([
    ['a word', { [VERSION]: 'two' }],
    ['zero', { [VERSION]: '0' }],
    ['a fraction', { [VERSION]: '2.5' }],
    ['a version past 65535', { [VERSION]: '99999' }],
    ['a repeated version (joined by node)', { [VERSION]: '2, 2' }],
    ['a version as an array', { [VERSION]: ['2', '2'] }],
    ['a repeated features header', { [VERSION]: '2', [FEATURES]: ['viewer', 'viewer'] }],
    ['an upper-case feature', { [VERSION]: '2', [FEATURES]: 'Viewer' }],
    ['a feature with a space inside', { [VERSION]: '2', [FEATURES]: 'view er' }],
    ['a features header over 1024 characters', { [VERSION]: '2', [FEATURES]: `viewer,${'a'.repeat(1020)}` }],
    ['65 features', { [VERSION]: '2', [FEATURES]: Array.from({ length: 65 }, (_, i) => `f${i}`).join(',') }],
  ])('counts an announcement with %s as version 1, saying why', (_what, headers) => {
    const p = parseApiLinkPeer(headers);
    expect(p.version).toBe(1);
    expect(p.features.size).toBe(0);
    expect(p.malformed).toMatch(/x-porthole-/);
  });

  it('never throws on any header values', () => {
    const value = fc.option(fc.oneof(fc.string(), fc.array(fc.string())), { nil: undefined });
    fc.assert(
      fc.property(value, value, (v, f) => {
        const p = parseApiLinkPeer({ [VERSION]: v, [FEATURES]: f });
        expect(p.version).toBeGreaterThanOrEqual(1);
      }),
    );
  });
});

describe('fitting a command to the agent', () => {
  const payload: StartDesktop = {
    sessionId: 'desk-1',
    offer: 'v=0',
    iceServers: [],
    viewer: { name: 'alice' },
  };

  it('leaves the viewer out for an agent without the feature, keeps it for one with it', () => {
    expect(payloadForPeer('start_desktop', payload, API_LINK_V1)).not.toHaveProperty('viewer');
    expect(payloadForPeer('start_desktop', payload, current)).toBe(payload);
    expect(payload.viewer).toEqual({ name: 'alice' });
  });

  it('passes commands without gated fields unchanged', () => {
    const stop = { sessionId: 'desk-1' };
    expect(payloadForPeer('stop_desktop', stop, API_LINK_V1)).toBe(stop);
    const { viewer: _v, ...plain } = payload;
    expect(payloadForPeer('start_desktop', plain, API_LINK_V1)).toBe(plain);
  });

  it('refuses a field that must not be dropped, naming the feature', () => {
    const gates = { start_desktop: { viewer: { feature: 'viewer' as const, without: 'refuse' as const } } };
    const attempt = () => payloadForPeer('start_desktop', payload, API_LINK_V1, gates);
    expect(attempt).toThrow(MissingFeatureError);
    expect(attempt).toThrow(/protocol 1\) does not support 'viewer' \(needed for start_desktop\.viewer\)/);
    expect(payloadForPeer('start_desktop', payload, current, gates)).toBe(payload);
  });

  it('turns any valid start_desktop into one a version 1 agent accepts', () => {
    const arb = fc.record(
      {
        sessionId: desktopId,
        offer: offerText,
        iceServers: fc.array(iceServer, { maxLength: 8 }),
        displayIndex: fc.integer({ min: 0, max: 15 }),
        targetSessionId: osSession,
        viewer: fc.record({ name: fc.string({ minLength: 1, maxLength: 64 }) }),
      },
      { requiredKeys: ['sessionId', 'offer', 'iceServers'] },
    );
    fc.assert(
      fc.property(arb, (p) => {
        // Today's agent accepts the full payload; a version 1 agent the fitted one.
        parseApiCommand({ id: 'c1', type: 'start_desktop', payload: p });
        const wire = JSON.parse(JSON.stringify(payloadForPeer('start_desktop', p, API_LINK_V1))) as unknown;
        expect(() => v1StartDesktop(wire, 'payload')).not.toThrow();
      }),
    );
  });
});

describe('fitting an error reply to the API', () => {
  it('gives an API without capacity_errors helper_unavailable, the real code in the message, no retryAfterMs', () => {
    for (const code of ['too_many_viewers', 'busy', 'rate_limited'] as const) {
      expect(errorBodyForPeer({ code, message: 'full', retryAfterMs: 5000 }, API_LINK_V1)).toEqual({
        code: 'helper_unavailable',
        message: `${code}: full`,
      });
    }
  });

  it('passes version 1 codes through, and everything to an API with the feature', () => {
    expect(errorBodyForPeer({ code: 'no_such_session', message: 'gone' }, API_LINK_V1)).toEqual({
      code: 'no_such_session',
      message: 'gone',
    });
    const busy = { code: 'busy' as const, message: 'full', retryAfterMs: 1000 };
    expect(errorBodyForPeer(busy, current)).toBe(busy);
  });

  it('keeps the message within the 2000 characters a version 1 API accepts', () => {
    const long = errorBodyForPeer({ code: 'busy', message: 'x'.repeat(2000) }, API_LINK_V1);
    expect(long.message).toHaveLength(2000);
  });
});

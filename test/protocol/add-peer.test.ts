/**
 * The guards of a desktop's second peer (network change): the API's `add_peer` command and its
 * result, the feature that gates it, the `no_such_desktop` code, and the pipe's `desktop_add_peer`.
 */
import { describe, expect, it } from 'vitest';
import { addPeerResult, agentReply, parseApiCommand } from '../../src/protocol/api.js';
import {
  API_LINK_V1,
  assertCommandSupported,
  errorBodyForPeer,
  MissingFeatureError,
  parseApiLinkPeer,
  API_LINK_FEATURES_HEADER,
  API_LINK_VERSION_HEADER,
} from '../../src/protocol/api-version.js';
import { parseServiceToHelper } from '../../src/protocol/ipc.js';
import { ProtocolError } from '../../src/protocol/validate.js';

const OFFER = 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 106\r\na=rtpmap:106 H264/90000\r\n';
const payload = {
  sessionId: 'desk-abc',
  offer: OFFER,
  iceServers: [{ urls: 'stun:stun.example.net:3478' }],
  viewer: { name: 'alice' },
};

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err.field;
    throw err;
  }
  throw new Error('expected a ProtocolError');
}

describe('add_peer on the API link', () => {
  it('parses a whole command', () => {
    expect(parseApiCommand({ id: 'c1', type: 'add_peer', payload })).toEqual({
      id: 'c1',
      type: 'add_peer',
      payload,
    });
  });

  it('refuses a missing viewer, a missing or non-H.264 offer, a bad desktop id and an unknown field', () => {
    const cmd = (p: object): unknown => ({ id: 'c1', type: 'add_peer', payload: p });
    const { viewer: _viewer, ...noViewer } = payload;
    expect(fieldOf(() => parseApiCommand(cmd(noViewer)))).toBe('payload.viewer');
    const { offer: _offer, ...noOffer } = payload;
    expect(fieldOf(() => parseApiCommand(cmd(noOffer)))).toBe('payload.offer');
    expect(fieldOf(() => parseApiCommand(cmd({ ...payload, offer: 'v=0\r\nm=audio 9 x 0\r\n' })))).toBe(
      'payload.offer',
    );
    expect(fieldOf(() => parseApiCommand(cmd({ ...payload, sessionId: 'a b' })))).toBe('payload.sessionId');
    expect(fieldOf(() => parseApiCommand(cmd({ ...payload, displayIndex: 0 })))).toBe('payload.displayIndex');
    expect(fieldOf(() => parseApiCommand(cmd({ ...payload, viewer: { name: '' } })))).toBe(
      'payload.viewer.name',
    );
  });

  it('reads its result (an answer for the desktop) and refuses one without an answer', () => {
    const reply = { id: 'c1', type: 'result', ok: true, result: { sessionId: 'desk-abc', answer: 'v=0 a' } };
    expect(agentReply(reply, '')).toEqual(reply);
    expect(addPeerResult({ sessionId: 'desk-abc', answer: 'v=0 a' }, 'result')).toEqual({
      sessionId: 'desk-abc',
      answer: 'v=0 a',
    });
    expect(fieldOf(() => addPeerResult({ sessionId: 'desk-abc' }, 'result'))).toBe('result.answer');
  });

  it('carries no_such_desktop as an error code', () => {
    const reply = {
      id: 'c1',
      type: 'result',
      ok: false,
      error: { code: 'no_such_desktop', message: 'no desktop' },
    };
    expect(agentReply(reply, '')).toEqual(reply);
  });
});

describe('the add_peer feature', () => {
  const withFeatures = (list: string) =>
    parseApiLinkPeer({ [API_LINK_VERSION_HEADER]: '2', [API_LINK_FEATURES_HEADER]: list });

  it('lets add_peer through only to a peer that announced it; other commands need nothing', () => {
    expect(() => assertCommandSupported('add_peer', withFeatures('viewer, add_peer'))).not.toThrow();
    expect(() => assertCommandSupported('start_desktop', API_LINK_V1)).not.toThrow();
    for (const peer of [API_LINK_V1, withFeatures('viewer, ws_relay')]) {
      let err: unknown;
      try {
        assertCommandSupported('add_peer', peer);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MissingFeatureError);
      expect((err as MissingFeatureError).code).toBe('agent_outdated');
    }
  });

  it('says no_such_desktop only to an API that announced the feature', () => {
    const body = { code: 'no_such_desktop' as const, message: 'gone' };
    expect(errorBodyForPeer(body, withFeatures('capacity_errors, add_peer'))).toEqual(body);
    expect(errorBodyForPeer(body, withFeatures('capacity_errors'))).toEqual({
      code: 'helper_unavailable',
      message: 'no_such_desktop: gone',
    });
  });
});

describe('desktop_add_peer on the pipe', () => {
  it('parses a request and refuses one without a viewer or with a field of desktop_start', () => {
    const body = { type: 'desktop_add_peer', ...payload };
    expect(parseServiceToHelper(body)).toEqual(body);
    const { viewer: _viewer, ...noViewer } = body;
    expect(fieldOf(() => parseServiceToHelper(noViewer))).toBe('viewer');
    expect(
      fieldOf(() => parseServiceToHelper({ ...body, permissions: { control: true, files: true } })),
    ).toBe('permissions');
  });
});

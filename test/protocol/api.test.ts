import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  agentReply,
  parseApiCommand,
  salvageCommandId,
  sessionInfo,
  type ApiCommand,
  type SessionInfo,
} from '../../src/protocol/api.js';
import { ProtocolError } from '../../src/protocol/validate.js';
import { desktopId, iceServer, offerText, osSession } from './arbitraries.js';

const offer =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nm=video 9 UDP/TLS/RTP/SAVPF 106\r\na=rtpmap:106 H264/90000\r\n';

function fieldOf(raw: unknown): string {
  try {
    parseApiCommand(raw);
  } catch (err) {
    if (err instanceof ProtocolError) return err.field;
    throw err;
  }
  throw new Error('command was accepted');
}

describe('API commands', () => {
  it('accepts start_desktop with Breeze field names', () => {
    const cmd = parseApiCommand({
      id: 'c1',
      type: 'start_desktop',
      payload: {
        sessionId: 'desk-abc',
        offer,
        iceServers: [{ urls: 'stun:stun.example.org:3478' }],
        targetSessionId: 2,
      },
    });
    expect(cmd.type).toBe('start_desktop');
    expect(cmd.payload).toMatchObject({ sessionId: 'desk-abc', targetSessionId: 2 });
  });

  it('accepts start_desktop with the viewer who asks (feature `viewer`)', () => {
    const cmd = parseApiCommand({
      id: 'c1',
      type: 'start_desktop',
      payload: { sessionId: 'desk-abc', offer, iceServers: [], viewer: { name: 'alice' } },
    });
    expect(cmd.payload).toMatchObject({ viewer: { name: 'alice' } });
  });

  it('accepts start_desktop with the viewer’s permissions (feature `permissions`) and refuses bad ones', () => {
    const payload = {
      sessionId: 'desk-abc',
      offer,
      iceServers: [],
      permissions: { control: false, files: false },
    };
    const cmd = parseApiCommand({ id: 'c1', type: 'start_desktop', payload });
    expect(cmd.payload).toMatchObject({ permissions: { control: false, files: false } });
    expect(() =>
      parseApiCommand({ id: 'c1', type: 'start_desktop', payload: { ...payload, permissions: 'view' } }),
    ).toThrow(/payload\.permissions/);
  });

  it('accepts list_sessions with or without an empty payload', () => {
    expect(parseApiCommand({ id: 'a', type: 'list_sessions' }).type).toBe('list_sessions');
    expect(parseApiCommand({ id: 'a', type: 'list_sessions', payload: {} }).type).toBe('list_sessions');
  });

  const bad: [string, unknown, string][] = [
    ['not an object', 'hello', ''],
    ['an array', [], ''],
    ['no id', { type: 'list_sessions' }, 'id'],
    ['an id with spaces', { id: 'a b', type: 'list_sessions' }, 'id'],
    ['an unknown type', { id: 'a', type: 'format_disk' }, 'type'],
    ['an extra top-level field', { id: 'a', type: 'list_sessions', x: 1 }, 'x'],
    ['a payload field on list_sessions', { id: 'a', type: 'list_sessions', payload: { y: 1 } }, 'payload.y'],
    [
      'a missing offer',
      { id: 'a', type: 'start_desktop', payload: { sessionId: 's', iceServers: [] } },
      'payload.offer',
    ],
    [
      'an offer that is not SDP',
      { id: 'a', type: 'start_desktop', payload: { sessionId: 's', offer: 'hello', iceServers: [] } },
      'payload.offer',
    ],
    [
      'an offer with no video section',
      {
        id: 'a',
        type: 'start_desktop',
        payload: {
          sessionId: 's',
          offer: 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n',
          iceServers: [],
        },
      },
      'payload.offer',
    ],
    [
      'an offer whose video has no H.264',
      {
        id: 'a',
        type: 'start_desktop',
        payload: {
          sessionId: 's',
          offer: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n',
          iceServers: [],
        },
      },
      'payload.offer',
    ],
    [
      'a negative targetSessionId',
      {
        id: 'a',
        type: 'start_desktop',
        payload: { sessionId: 's', offer, iceServers: [], targetSessionId: -1 },
      },
      'payload.targetSessionId',
    ],
    [
      'a displayIndex out of range',
      {
        id: 'a',
        type: 'start_desktop',
        payload: { sessionId: 's', offer, iceServers: [], displayIndex: 99 },
      },
      'payload.displayIndex',
    ],
    [
      'an ICE URL of the wrong scheme',
      {
        id: 'a',
        type: 'start_desktop',
        payload: { sessionId: 's', offer, iceServers: [{ urls: 'http://x' }] },
      },
      'payload.iceServers[0].urls',
    ],
    [
      'a viewer with an empty name',
      {
        id: 'a',
        type: 'start_desktop',
        payload: { sessionId: 's', offer, iceServers: [], viewer: { name: '' } },
      },
      'payload.viewer.name',
    ],
    [
      'a viewer with an unknown field',
      {
        id: 'a',
        type: 'start_desktop',
        payload: { sessionId: 's', offer, iceServers: [], viewer: { name: 'alice', admin: true } },
      },
      'payload.viewer.admin',
    ],
    ['a stop without sessionId', { id: 'a', type: 'stop_desktop', payload: {} }, 'payload.sessionId'],
  ];
  for (const [what, raw, field] of bad) {
    it(`rejects ${what}, naming '${field || '(message)'}'`, () => {
      expect(fieldOf(raw)).toBe(field);
    });
  }

  it('salvages the id of a broken command so its error can be correlated', () => {
    expect(salvageCommandId({ id: 'c9', type: 'nope' })).toBe('c9');
    expect(salvageCommandId({ id: 42 })).toBeNull();
    expect(salvageCommandId('x')).toBeNull();
  });

  it('round-trips any valid start_desktop through JSON', () => {
    const arb = fc.record(
      {
        sessionId: desktopId,
        offer: offerText,
        iceServers: fc.array(iceServer, { maxLength: 8 }),
        displayIndex: fc.integer({ min: 0, max: 15 }),
        targetSessionId: osSession,
      },
      { requiredKeys: ['sessionId', 'offer', 'iceServers'] },
    );
    fc.assert(
      fc.property(desktopId, arb, (id, payload) => {
        const cmd: ApiCommand = { id, type: 'start_desktop', payload };
        expect(parseApiCommand(JSON.parse(JSON.stringify(cmd)))).toEqual(cmd);
      }),
    );
  });

  it('round-trips any valid session list entry', () => {
    const arb: fc.Arbitrary<SessionInfo> = fc.record(
      {
        sessionId: osSession,
        username: fc.string({ maxLength: 64 }),
        state: fc.constantFrom('active', 'connected', 'disconnected', 'idle', 'locked'),
        type: fc.constantFrom('console', 'rdp', 'x11', 'services'),
        helperConnected: fc.boolean(),
        helperState: fc.constantFrom('none', 'starting', 'ready', 'failed'),
        lastError: fc.string({ maxLength: 100 }),
      },
      { requiredKeys: ['sessionId', 'username', 'state', 'type', 'helperConnected', 'helperState'] },
    );
    fc.assert(
      fc.property(arb, (s) => {
        expect(sessionInfo(JSON.parse(JSON.stringify(s)), '')).toEqual(s);
      }),
    );
  });
});

describe('agent replies', () => {
  it('accepts success and error replies', () => {
    expect(agentReply({ id: 'a', type: 'result', ok: true, result: { sessions: [] } }, '')).toBeTruthy();
    expect(
      agentReply({ id: null, type: 'result', ok: false, error: { code: 'bad_request', message: 'x' } }, ''),
    ).toBeTruthy();
  });

  it('rejects an error reply with an unknown code', () => {
    expect(() =>
      agentReply({ id: 'a', type: 'result', ok: false, error: { code: 'oops', message: 'x' } }, ''),
    ).toThrow(/error.code/);
  });
});

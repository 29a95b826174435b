import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkIceConfig,
  iceServersFor,
  turnCredentials,
  turnTransport,
} from '../../src/api/turn-credentials.js';

describe('TURN credentials (coturn use-auth-secret)', () => {
  it('matches HMAC-SHA1 of "<expiry>:<name>" under the secret, base64', () => {
    const expected = createHmac('sha1', 'north-wind').update('1700000000:alice').digest('base64');
    expect(turnCredentials('north-wind', 'alice', 1_700_000_000)).toEqual({
      username: '1700000000:alice',
      credential: expected,
    });
  });

  it('matches a fixed vector computed with openssl', () => {
    // printf '%s' '1700000000:alice' | openssl dgst -sha1 -hmac north-wind -binary | base64
    expect(turnCredentials('north-wind', 'alice', 1_700_000_000).credential).toBe(
      'Oko4dt8u/EbTRjRUJWQDFm/zTCc=',
    );
  });

  it('puts now + TTL (seconds) in the username', () => {
    const now = Date.UTC(2030, 0, 1);
    const r = iceServersFor(
      { stun: [], turn: ['turn:t.example:3478'], turnSecret: 'x'.repeat(16), turnTtlSeconds: 600 },
      'alice',
      now,
    );
    expect(r.iceServers[0]?.username).toBe(`${now / 1000 + 600}:alice`);
  });

  it('keeps characters that could confuse the TURN server out of the username', () => {
    const r = iceServersFor({ stun: [], turn: ['turn:t.example'], turnSecret: 'secret-123' }, 'a:b c', 0);
    expect(r.iceServers[0]?.username).toBe('3600:a_b_c');
  });
});

describe('ICE server list', () => {
  it('lists STUN without credentials, then TURN with them, and the relay policy', () => {
    const r = iceServersFor(
      {
        stun: ['stun:s.example:3478'],
        turn: ['turns:t.example:5349'],
        turnSecret: 'secret-123',
        relayOnly: true,
      },
      'bob',
    );
    expect(r.iceServers).toHaveLength(2);
    expect(r.iceServers[0]).toEqual({ urls: ['stun:s.example:3478'] });
    expect(r.iceServers[1]?.urls).toEqual(['turns:t.example:5349']);
    expect(r.iceTransportPolicy).toBe('relay');
  });

  it('is empty (host candidates only) when nothing is configured', () => {
    expect(iceServersFor({ stun: [], turn: [] }, 'x')).toEqual({ iceServers: [], iceTransportPolicy: 'all' });
  });

  it('rejects configs that would fail later: TURN without secret, relay without TURN, bad URLs', () => {
    expect(() => checkIceConfig({ stun: [], turn: ['turn:t.example'] })).toThrow(/--turn-secret-file/);
    expect(() => checkIceConfig({ stun: [], turn: [], relayOnly: true })).toThrow(/--relay-only/);
    expect(() => checkIceConfig({ stun: ['http://x.example'], turn: [] })).toThrow(/stun:/);
    expect(() => checkIceConfig({ stun: ['stun:has space'], turn: [] })).toThrow(/does not match/);
  });
});

describe('TURN over TCP and TLS', () => {
  const config = {
    stun: [],
    turn: ['turn:t.example:3478', 'turn:t.example:3478?transport=tcp', 'turns:t.example:443?transport=tcp'],
    turnSecret: 'secret-123',
  };

  it('names each URL’s transport', () => {
    expect(config.turn.map(turnTransport)).toEqual(['udp', 'tcp', 'tls']);
    expect(turnTransport('turn:t.example?transport=udp')).toBe('udp');
    expect(turnTransport('turns:t.example')).toBe('tls');
  });

  it('gives a viewer every TURN URL, so a browser behind a UDP block reaches the relay over TCP or TLS', () => {
    expect(iceServersFor(config, 'alice').iceServers[0]?.urls).toEqual(config.turn);
  });

  it('gives the agent only UDP TURN, the one kind libjuice can use, with the same credentials scheme', () => {
    const r = iceServersFor(config, 'alice', 0, 'agent');
    expect(r.iceServers).toEqual([
      { urls: ['turn:t.example:3478'], ...turnCredentials('secret-123', 'alice', 3600) },
    ]);
    const tcpOnly = iceServersFor({ ...config, turn: config.turn.slice(1) }, 'alice', 0, 'agent');
    expect(tcpOnly.iceServers).toEqual([]);
  });

  it('accepts transport=tcp and turns:, and refuses other parameters and TURN over DTLS', () => {
    expect(() => checkIceConfig(config)).not.toThrow();
    expect(() => checkIceConfig({ ...config, turn: ['turn:t.example?transport=sctp'] })).toThrow(/transport/);
    expect(() => checkIceConfig({ ...config, turn: ['turn:t.example?foo=1'] })).toThrow(/transport/);
    expect(() => checkIceConfig({ ...config, turn: ['turns:t.example?transport=udp'] })).toThrow(/DTLS/);
  });
});

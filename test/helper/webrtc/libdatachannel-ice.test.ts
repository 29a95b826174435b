import { describe, expect, it } from 'vitest';
import { parseIceUrl, toLibdatachannelIceServers } from '../../../src/helper/webrtc/libdatachannel-ice.js';
import { type Logger } from '../../../src/log/logger.js';

function log(): Pick<Logger, 'debug' | 'info' | 'warn' | 'error'> & { warnings: object[]; infos: object[] } {
  const warnings: object[] = [];
  const infos: object[] = [];
  const ignore = (): void => {};
  return {
    warnings,
    infos,
    warn: (o) => warnings.push(o),
    error: ignore,
    info: (o) => infos.push(o),
    debug: ignore,
  };
}

describe('toLibdatachannelIceServers', () => {
  it('converts STUN and UDP TURN URLs with default ports and credentials', () => {
    const l = log();
    const out = toLibdatachannelIceServers(
      [
        { urls: 'stun:stun.example.org' },
        {
          urls: ['turn:turn.example.org?transport=tcp', 'turn:[2001:db8::1]:3479', 'turns:turn.example.org'],
          username: 'u:ser@x',
          credential: 'p@ss:word',
        },
      ],
      l,
    );
    expect(out).toEqual([
      { hostname: 'stun.example.org', port: 3478 },
      {
        hostname: '2001:db8::1',
        port: 3479,
        username: 'u:ser@x',
        password: 'p@ss:word',
        relayType: 'TurnUdp',
      },
    ]);
    expect(l.warnings).toEqual([]);
    // TURN over TCP and TLS is left out (libjuice has UDP TURN only), each with an info line.
    expect(l.infos).toEqual([
      { url: 'turn:turn.example.org?transport=tcp' },
      { url: 'turns:turn.example.org' },
    ]);
  });

  it('skips, with a log line each, TURN without credentials, stuns: and URLs it cannot parse', () => {
    const l = log();
    const out = toLibdatachannelIceServers(
      [{ urls: 'turn:turn.example.org' }, { urls: 'stuns:x.example.org' }, { urls: 'stun:host:99999' }],
      l,
    );
    expect(out).toEqual([]);
    expect(l.warnings).toHaveLength(3);
  });
});

describe('parseIceUrl', () => {
  it('reads scheme, host, port and transport', () => {
    expect(parseIceUrl('turn:10.0.0.1:80?transport=udp')).toEqual({
      scheme: 'turn',
      host: '10.0.0.1',
      port: 80,
      transport: 'udp',
    });
    expect(parseIceUrl('http://x')).toBeUndefined();
    expect(parseIceUrl('stun:user@host')).toBeUndefined();
  });
});

import { createHmac } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startTurnFixupRelay, type TurnFixupRelay } from '../../../src/helper/webrtc/turn-fixup-relay.js';
import { silentLogger } from '../../../src/log/logger.js';

const PASSWORD = 'helperIcePasswordForTests1';

/** A ChannelData frame carrying a Binding request with ICE-CONTROLLING = 0, signed with PASSWORD. */
function zeroTiebreakerCheck(): Buffer {
  const msg = Buffer.alloc(20 + 12 + 24);
  msg.writeUInt16BE(0x0001, 0);
  msg.writeUInt16BE(12 + 24, 2);
  msg.writeUInt32BE(0x2112a442, 4);
  msg.writeUInt16BE(0x802a, 20);
  msg.writeUInt16BE(8, 22); // value: eight zero bytes
  msg.writeUInt16BE(0x0008, 32);
  msg.writeUInt16BE(20, 34);
  createHmac('sha1', PASSWORD).update(msg.subarray(0, 32)).digest().copy(msg, 36);
  const frame = Buffer.alloc(4);
  frame.writeUInt16BE(0x4000, 0);
  frame.writeUInt16BE(msg.length, 2);
  return Buffer.concat([frame, msg]);
}

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind({ address: '127.0.0.1', port: 0 }, resolve));
  return s;
}

async function receive(s: Socket): Promise<[Buffer, RemoteInfo]> {
  return (await once(s, 'message')) as [Buffer, RemoteInfo];
}

describe('startTurnFixupRelay', () => {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });

  async function setUp(passwordKnown = true): Promise<{
    relay: TurnFixupRelay;
    server: Socket;
    client: Socket;
  }> {
    const server = await udp();
    const client = await udp();
    open.push(server, client);
    const relay = await startTurnFixupRelay(
      [
        { hostname: 'stun.example', port: 3478 },
        {
          hostname: '127.0.0.1',
          port: server.address().port,
          username: 'u',
          password: 'p',
          relayType: 'TurnUdp',
        },
      ],
      { password: () => (passwordKnown ? PASSWORD : undefined), log: silentLogger },
    );
    open.push(relay);
    return { relay, server, client };
  }

  it('hands libjuice a loopback address for each UDP TURN server and keeps the rest', async () => {
    const { relay, server } = await setUp();
    expect(relay.servers[0]).toEqual({ hostname: 'stun.example', port: 3478 });
    expect(relay.servers[1]).toMatchObject({ hostname: '127.0.0.1', username: 'u', relayType: 'TurnUdp' });
    expect(relay.servers[1]!.port).not.toBe(server.address().port);
  });

  it('forwards both ways and repairs a zero-tiebreaker check from the server', async () => {
    const { relay, server, client } = await setUp();
    client.send(Buffer.from('allocate'), relay.servers[1]!.port, '127.0.0.1');
    const [up, from] = await receive(server);
    expect(up.toString()).toBe('allocate');

    server.send(Buffer.from('allocated'), from.port, from.address);
    expect((await receive(client))[0].toString()).toBe('allocated');

    server.send(zeroTiebreakerCheck(), from.port, from.address);
    const [down] = await receive(client);
    expect(down.readBigUInt64BE(4 + 24)).toBe(1n);
    expect(relay.repaired).toBe(1);
  });

  it('forwards checks unchanged while the ICE password is not known yet', async () => {
    const { relay, server, client } = await setUp(false);
    client.send(Buffer.from('allocate'), relay.servers[1]!.port, '127.0.0.1');
    const [, from] = await receive(server);
    const check = zeroTiebreakerCheck();
    server.send(check, from.port, from.address);
    expect((await receive(client))[0]).toEqual(check);
    expect(relay.repaired).toBe(0);
  });

  it('drops what reaches its server-side socket from anyone but the server', async () => {
    const { relay, server, client } = await setUp();
    client.send(Buffer.from('allocate'), relay.servers[1]!.port, '127.0.0.1');
    const [, from] = await receive(server);
    const stranger = await udp();
    open.push(stranger);
    stranger.send(Buffer.from('from a stranger'), from.port, from.address);
    server.send(Buffer.from('from the server'), from.port, from.address);
    expect((await receive(client))[0].toString()).toBe('from the server');
  });

  it('serves only the first loopback sender (libjuice) on its loopback side', async () => {
    const { relay, server, client } = await setUp();
    client.send(Buffer.from('from libjuice'), relay.servers[1]!.port, '127.0.0.1');
    expect((await receive(server))[0].toString()).toBe('from libjuice');
    const other = await udp();
    open.push(other);
    other.send(Buffer.from('from another local process'), relay.servers[1]!.port, '127.0.0.1');
    client.send(Buffer.from('libjuice again'), relay.servers[1]!.port, '127.0.0.1');
    expect((await receive(server))[0].toString()).toBe('libjuice again');
  });

  it('adds the TURN server as a STUN server when none is configured', async () => {
    const server = await udp();
    open.push(server);
    const relay = await startTurnFixupRelay(
      [{ hostname: '127.0.0.1', port: server.address().port, username: 'u', password: 'p' }],
      { password: () => PASSWORD, log: silentLogger },
    );
    open.push(relay);
    expect(relay.servers[0]).toEqual({ hostname: '127.0.0.1', port: server.address().port });
    expect(relay.servers[1]).toMatchObject({ hostname: '127.0.0.1', username: 'u' });
  });

  it('leaves a server it cannot resolve to libjuice', async () => {
    const relay = await startTurnFixupRelay(
      [{ hostname: 'turn.invalid', port: 3478, username: 'u', password: 'p', relayType: 'TurnUdp' }],
      {
        password: () => PASSWORD,
        log: silentLogger,
        resolve: () => Promise.reject(new Error('ENOTFOUND')),
      },
    );
    open.push(relay);
    expect(relay.servers).toEqual([
      { hostname: 'turn.invalid', port: 3478, username: 'u', password: 'p', relayType: 'TurnUdp' },
    ]);
  });

  it('closes its sockets', async () => {
    const { relay } = await setUp();
    const port = relay.servers[1]!.port;
    relay.close();
    // The loopback port is free again.
    const s = createSocket('udp4');
    open.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address: '127.0.0.1', port }, resolve);
    });
  });
});

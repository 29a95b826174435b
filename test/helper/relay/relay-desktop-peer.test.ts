/**
 * The helper's relay peer against a real WebSocket server standing in for the API's relay: it dials
 * with its ticket, streams once paired, and reads the viewer's frames through the DataChannels' gates.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createRelayDesktopPeer } from '../../../src/helper/relay/relay-desktop-peer.js';
import type { DesktopPeer } from '../../../src/helper/webrtc/desktop-peer.js';
import {
  decodeRelayFrame,
  encodeRelayAck,
  encodeRelayFrame,
  encodeRelayText,
} from '../../../src/protocol/relay.js';
import type { VideoReceiverStats } from '../../../src/helper/webrtc/video-feedback.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import type { InputMessage } from '../../../src/protocol/datachannel.js';
import { recordingLogger } from '../../service/sessions/recording-logger.js';

const TICKET = `0a1b2c.${'T'.repeat(43)}`;
const IDR = Buffer.from([0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 3]);
const P_FRAME = Buffer.from([0, 0, 0, 1, 0x41, 4]);

let server: WebSocketServer | undefined;
let peer: DesktopPeer | undefined;
afterEach(async () => {
  peer?.close();
  peer = undefined;
  if (server) await new Promise((r) => server?.close(r));
  server = undefined;
});

/** A relay stand-in; resolves the helper's socket and the URL it asked for. */
async function relayServer(): Promise<{ url: string; helper: Promise<{ ws: WebSocket; path: string }> }> {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const helper = new Promise<{ ws: WebSocket; path: string }>((resolve) =>
    server?.once('connection', (ws, req) => resolve({ ws, path: req.url ?? '' })),
  );
  return { url: `ws://127.0.0.1:${port}/api/relay/agent`, helper };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('relay desktop peer', () => {
  it('presents its ticket, and connects only when the relay says the viewer is paired', async () => {
    const { url, helper } = await relayServer();
    peer = await createRelayDesktopPeer({ relay: { url, ticket: TICKET }, log: recordingLogger() });
    const { ws, path } = await helper;
    expect(path).toBe(`/api/relay/agent?ticket=${encodeURIComponent(TICKET)}&acks=1`);
    expect(peer.state).toBe('connecting');
    const channels: string[] = [];
    let keyframes = 0;
    peer.onChannel((label, open) => channels.push(`${label}:${open}`));
    peer.onKeyframeRequest(() => keyframes++);
    expect(peer.sendVideo(IDR, 1)).toBe(false);
    ws.send('paired');
    await until(() => peer?.state === 'connected');
    expect(channels).toEqual(['input:true', 'control:true', 'cursor:true']);
    // A viewer that just arrived needs an IDR to start its decoder.
    expect(keyframes).toBe(1);
  });

  it('sends access units with their keyframe flag and timestamp', async () => {
    const { url, helper } = await relayServer();
    peer = await createRelayDesktopPeer({ relay: { url, ticket: TICKET }, log: recordingLogger() });
    const { ws } = await helper;
    ws.send('paired');
    await until(() => peer?.state === 'connected');
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    expect(peer.sendVideo(IDR, 1000)).toBe(true);
    expect(peer.sendVideo(P_FRAME, 2000)).toBe(true);
    expect(peer.sendControl({ type: 'displays', displays: [], current: 0 } as never)).toBe(true);
    await until(() => got.length === 3);
    const [a, b, c] = got.map((d) => decodeRelayFrame(d));
    expect(a).toMatchObject({ type: 'video', keyframe: true, timestampUs: 1000 });
    expect(Buffer.from(a?.payload ?? []).equals(IDR)).toBe(true);
    expect(b).toMatchObject({ type: 'video', keyframe: false, timestampUs: 2000 });
    expect(c?.type).toBe('control');
  });

  it('reads the viewer’s acks the relay passes on as receiver statistics, and counts what it sent', async () => {
    const { url, helper } = await relayServer();
    const clock = new FakeClock(10_000);
    peer = await createRelayDesktopPeer({
      relay: { url, ticket: TICKET },
      log: recordingLogger(),
      timers: clock,
    });
    const { ws } = await helper;
    ws.send('paired');
    await until(() => peer?.state === 'connected');
    const sent: number[] = [];
    const stats: VideoReceiverStats[] = [];
    peer.onVideoSent?.((bytes) => sent.push(bytes));
    peer.onReceiverStats((s) => stats.push(s));
    const frame = Buffer.concat([IDR, Buffer.alloc(3000)]);
    for (let i = 1; i <= 3; i++) expect(peer.sendVideo(frame, i * 1000)).toBe(true);
    expect(sent).toEqual([3028, 3028, 3028]);
    await clock.advance(80);
    ws.send(encodeRelayAck(1000));
    await until(() => stats.length === 1);
    // 3028 bytes counted as three 1200-byte virtual packets, none lost; sent 80 ms before the ack.
    expect(stats[0]).toMatchObject({ rttMs: 80, highestSequence: 3, cumulativeLost: 0, fractionLost: 0 });
    // The relay dropped the second frame: the viewer acks the third, half a second on.
    await clock.advance(500);
    ws.send(encodeRelayAck(3000));
    await until(() => stats.length === 2);
    expect(stats[1]).toMatchObject({ rttMs: 580, highestSequence: 8, cumulativeLost: 3, fractionLost: 0.6 });
    expect(peer.receiverStats).toBe(stats[1]);
  });

  it('passes the viewer’s input and control through the same gates as the DataChannels', async () => {
    const { url, helper } = await relayServer();
    const log = recordingLogger();
    peer = await createRelayDesktopPeer({ relay: { url, ticket: TICKET }, log });
    const { ws } = await helper;
    ws.send('paired');
    await until(() => peer?.state === 'connected');
    const inputs: InputMessage[] = [];
    const controls: string[] = [];
    peer.onInput((m) => inputs.push(m));
    peer.onControl((m) => controls.push(m.type));
    ws.send(encodeRelayText('input', JSON.stringify({ type: 'key', code: 'KeyA', down: true })));
    ws.send(encodeRelayText('input', JSON.stringify({ type: 'key', code: 'KeyA', down: 'yes' })));
    ws.send(encodeRelayText('input', '{not json'));
    ws.send(encodeRelayText('control', JSON.stringify({ type: 'keyframe' })));
    ws.send(encodeRelayText('control', JSON.stringify({ type: 'format_disk' })));
    // A frame a viewer never sends, and bytes that are no frame at all: dropped before any gate.
    ws.send(encodeRelayFrame({ type: 'video', keyframe: true, timestampUs: 0 }, new Uint8Array(3)));
    ws.send(Buffer.from([1, 2]));
    await until(() => peer!.messageCounts.input.invalid + peer!.messageCounts.input.accepted === 3);
    await until(() => controls.length === 1 && peer!.messageCounts.control.invalid === 1);
    expect(inputs).toEqual([{ type: 'key', code: 'KeyA', down: true }]);
    expect(peer.messageCounts.input.invalid).toBe(2);
    expect(controls).toEqual(['keyframe']);
  });

  it('drops frames of a channel this viewer may not use (view-only: no input)', async () => {
    const { url, helper } = await relayServer();
    peer = await createRelayDesktopPeer({
      relay: { url, ticket: TICKET },
      log: recordingLogger(),
      allowChannel: (label) => label !== 'input',
    });
    const { ws } = await helper;
    const channels: string[] = [];
    peer.onChannel((label, open) => channels.push(`${label}:${open}`));
    ws.send('paired');
    await until(() => peer?.state === 'connected');
    const inputs: InputMessage[] = [];
    peer.onInput((m) => inputs.push(m));
    ws.send(encodeRelayText('input', JSON.stringify({ type: 'key', code: 'KeyA', down: true })));
    ws.send(encodeRelayText('control', JSON.stringify({ type: 'keyframe' })));
    await until(() => peer!.messageCounts.control.accepted === 1);
    expect(inputs).toEqual([]);
    expect(peer.isChannelOpen('input')).toBe(false);
    expect(channels).toEqual(['control:true', 'cursor:true']);
  });

  it('closes when the relay closes the socket, releasing input and telling its listeners', async () => {
    const { url, helper } = await relayServer();
    peer = await createRelayDesktopPeer({ relay: { url, ticket: TICKET }, log: recordingLogger() });
    const { ws } = await helper;
    ws.send('paired');
    await until(() => peer?.state === 'connected');
    const events: string[] = [];
    peer.onChannel((label, open) => events.push(`${label}:${open}`));
    peer.onState((s) => events.push(s));
    ws.close(1000, 'viewer left');
    await until(() => peer?.state === 'closed');
    expect(events).toEqual(['input:false', 'control:false', 'cursor:false', 'closed']);
    expect(peer.sendVideo(IDR, 1)).toBe(false);
  });

  it('rejects when the relay refuses the ticket', async () => {
    server = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      verifyClient: (_info, cb) => cb(false, 401, 'Unauthorized'),
    });
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    await expect(
      createRelayDesktopPeer({
        relay: { url: `ws://127.0.0.1:${port}/api/relay/agent`, ticket: TICKET },
        log: recordingLogger(),
      }),
    ).rejects.toThrow(/HTTP 401/);
  });

  it('leaves no socket open on either side after many desktops that came and went', async () => {
    const { url } = await relayServer();
    const relay = server!;
    for (let i = 0; i < 20; i++) {
      const p = await createRelayDesktopPeer({ relay: { url, ticket: TICKET }, log: recordingLogger() });
      await until(() => relay.clients.size === 1);
      const [ws] = [...relay.clients];
      ws?.send('paired');
      await until(() => p.state === 'connected');
      // Alternate who ends it: the desktop (helper side) or the relay.
      if (i % 2 === 0) p.close();
      else ws?.close(1000, 'viewer left');
      await until(() => relay.clients.size === 0 && p.state === 'closed');
    }
  });

  it('closes its socket when the desktop is closed', async () => {
    const { url, helper } = await relayServer();
    peer = await createRelayDesktopPeer({ relay: { url, ticket: TICKET }, log: recordingLogger() });
    const { ws } = await helper;
    const gone = once(ws, 'close');
    peer.close();
    const [code] = (await gone) as [number];
    expect(code).toBe(1000);
  });
});

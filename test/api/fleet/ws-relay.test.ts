/**
 * The WebSocket relay across two `porthole api serve` processes (one PostgreSQL, one Redis), each with
 * its own public relay origin (`--ws-relay-origin`): the instance a viewer starts a relayed desktop
 * through carries the relay, whichever instance holds the agent or signed the viewer in. Both sockets
 * go to the origin in their ticket's answer; a socket sent to the other instance is refused with 421
 * naming where it belongs.
 */
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiLinkHeaders } from '../../../src/protocol/api-version.js';
import { decodeRelayFrame, encodeRelayFrame, encodeRelayText } from '../../../src/protocol/relay.js';
import { freePort } from '../../fixtures/free-port.js';
import { connectAgent, failed, ok, type FakeAgent } from '../harness.js';
import { call, openFleetDb, startApiProcess, type ApiProcess, type FleetDb } from './instances.js';

const adminUrl = inject('pgAdminUrl');
const redisUrl = inject('redisUrl');

const sockets: WebSocket[] = [];

/** A socket to a relay URL, resolved open or rejected with the status and JSON body of the refusal. */
function dial(url: string, ticket: string): Promise<WebSocket> {
  const u = new URL(url);
  u.searchParams.set('ticket', ticket);
  const ws = new WebSocket(u);
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })),
      );
    });
    ws.once('error', reject);
  });
}

const refusal = (p: Promise<unknown>): Promise<{ status: number; body: unknown }> =>
  p.then(
    () => ({ status: 101, body: undefined }),
    (e: { status: number; body: string }) => ({ status: e.status, body: JSON.parse(e.body) as unknown }),
  );

const nextMessage = (ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> =>
  new Promise((resolve) => ws.once('message', (data: Buffer, binary: boolean) => resolve({ data, binary })));

describe.skipIf(!adminUrl || !redisUrl)('the WebSocket relay across two API instances', () => {
  let fleet: FleetDb;
  let a: ApiProcess;
  let b: ApiProcess;
  let originA: string;
  let originB: string;
  let device: { id: string; token: string };
  let agent: FakeAgent | undefined;

  beforeAll(async () => {
    fleet = await openFleetDb(adminUrl);
    const env = { database: fleet.db.url, redis: redisUrl };
    const [portA, portB] = [await freePort(), await freePort()];
    // A's relay base has a path prefix, as a load balancer routing by path would give it.
    originA = `ws://127.0.0.1:${portA}/i/a`;
    originB = `ws://127.0.0.1:${portB}`;
    [a, b] = await Promise.all([
      startApiProcess(env, ['--port', String(portA), '--ws-relay-origin', originA]),
      startApiProcess(env, ['--port', String(portB), '--ws-relay-origin', originB]),
    ]);
    const added = await fleet.backend.store.addDevice('relay desk');
    device = { id: added.device.id, token: added.token };
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    await agent?.close();
    agent = undefined;
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fleet?.close();
  });

  it('carries a desktop started through A for a viewer signed in on B, with the agent held by B', async () => {
    // The helper side: an agent on B that dials the relay URL and ticket its start_desktop names.
    let helperGot!: (ws: WebSocket) => void;
    const helper = new Promise<WebSocket>((r) => (helperGot = r));
    const starts: Record<string, unknown>[] = [];
    agent = await connectAgent(
      b,
      device,
      async (cmd) => {
        if (cmd.type === 'stop_desktop') return ok(cmd, { sessionId: cmd.payload.sessionId, stopped: true });
        if (cmd.type !== 'start_desktop') return failed(cmd, 'bad_request', 'unexpected');
        starts.push(cmd.payload);
        const relay = cmd.payload.relay as { url: string; ticket: string };
        helperGot(await dial(relay.url, relay.ticket));
        return ok(cmd, { sessionId: cmd.payload.sessionId, transport: 'websocket' });
      },
      { headers: apiLinkHeaders() },
    );
    // The viewer signs in on B (a one-time login token for a session token)…
    const login = await fleet.backend.store.issueViewerToken('dana', { once: true, ttlMs: 600_000 });
    const signedIn = await fetch(`${b.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: login.token }),
    });
    expect(signedIn.status).toBe(200);
    const session = ((await signedIn.json()) as { token: string }).token;
    await expect
      .poll(async () => (await call(a.url, session, 'GET', '/api/devices')).body.devices?.[0]?.online)
      .toBe(true);

    // …and its start reaches A (a load balancer's choice): A mints the tickets and carries the relay.
    const started = await call(a.url, session, 'POST', `/api/devices/${device.id}/desktop`, {
      transport: 'websocket',
    });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const viewerRelay = started.body.relay as { url: string; ticket: string };
    expect(viewerRelay.url).toBe(`${originA}/api/relay/viewer`);
    const helperWs = await helper;
    expect(starts[0]?.relay).toMatchObject({ url: `${originA}/api/relay/agent` });
    // Both tickets name A: the id its own ticket starts with, the same in the helper's.
    const instanceA = viewerRelay.ticket.split('.')[0];
    expect((starts[0]?.relay as { ticket: string }).ticket.split('.')[0]).toBe(instanceA);

    // The viewer's socket sent to B instead: 421, naming A and its relay URL; the ticket is not spent.
    expect(await refusal(dial(`${originB}/api/relay/viewer`, viewerRelay.ticket))).toEqual({
      status: 421,
      body: {
        error: {
          code: 'relay_wrong_instance',
          message: expect.stringContaining(`${originA}/api/relay/viewer`) as string,
          instance: instanceA,
          relayUrl: `${originA}/api/relay/viewer`,
        },
      },
    });

    const paired = nextMessage(helperWs);
    const viewer = await dial(viewerRelay.url, viewerRelay.ticket);
    expect(await paired).toEqual({ data: Buffer.from('paired'), binary: false });
    const key = encodeRelayFrame(
      { type: 'video', keyframe: true, timestampUs: 77 },
      new Uint8Array([0, 0, 0, 1, 0x65]),
    );
    const atViewer = nextMessage(viewer);
    helperWs.send(key);
    expect(decodeRelayFrame((await atViewer).data)).toMatchObject({
      type: 'video',
      keyframe: true,
      timestampUs: 77,
    });
    const input = encodeRelayText('input', JSON.stringify({ type: 'key', code: 'KeyA', down: true }));
    const atHelper = nextMessage(helperWs);
    viewer.send(input);
    expect(Buffer.compare((await atHelper).data, Buffer.from(input))).toBe(0);

    // A's log says it carried the relay; B's, that it refused one socket and carried none.
    await expect.poll(() => a.output()).toMatch(/relay paired/);
    expect(b.output()).toMatch(/relay socket refused/);
    expect(b.output()).not.toMatch(/relay paired/);
  });
});

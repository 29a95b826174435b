/**
 * The relay routes against the real API server: a fake agent that announces `ws_relay` answers
 * start_desktop and dials the relay like a helper would, a `ws` client plays the viewer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { apiLinkHeaders } from '../../../src/protocol/api-version.js';
import {
  decodeRelayFrame,
  encodeRelayAck,
  encodeRelayFrame,
  encodeRelayText,
} from '../../../src/protocol/relay.js';
import { connectAgent, failed, ok, startHarness, type FakeAgent, type Harness } from '../harness.js';

let h: Harness;
let agent: FakeAgent | undefined;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  h = await startHarness({ commandTimeoutMs: 3000 });
});
afterAll(() => h.close());
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await agent?.close();
  agent = undefined;
});

const desktopPath = () => `/api/devices/${h.device.id}/desktop`;

/** A socket to the relay, resolved open or rejected with the HTTP status and body of the refusal. */
function dial(url: string, ticket: string): Promise<WebSocket> {
  // The viewer's URL is relative to the API's address; the helper's is absolute.
  const u = new URL(url, h.server.url.replace(/^http/, 'ws'));
  u.searchParams.set('ticket', ticket);
  const ws = new WebSocket(u);
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(new Error(`HTTP ${res.statusCode} ${body}`)));
    });
    ws.once('error', reject);
  });
}

const nextMessage = (ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> =>
  new Promise((resolve) => ws.once('message', (data: Buffer, binary: boolean) => resolve({ data, binary })));
const closed = (ws: WebSocket): Promise<number> =>
  new Promise((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve(-1) : ws.once('close', resolve)));

const helpers: WebSocket[] = [];
const lastHelper = async (): Promise<WebSocket> => {
  await expect.poll(() => helpers.length).toBeGreaterThan(0);
  return helpers.splice(0).at(-1)!;
};

/** An agent that announces ws_relay and dials the relay with the ticket it gets, like a helper. */
async function relayAgent({ acks = false } = {}): Promise<{
  helper: Promise<WebSocket>;
  payload: Promise<Record<string, unknown>>;
}> {
  let gotHelper!: (ws: WebSocket) => void;
  let gotPayload!: (p: Record<string, unknown>) => void;
  const helper = new Promise<WebSocket>((r) => (gotHelper = r));
  const payload = new Promise<Record<string, unknown>>((r) => (gotPayload = r));
  agent = await connectAgent(
    h.server,
    h.device,
    async (cmd) => {
      if (cmd.type === 'stop_desktop') return ok(cmd, { sessionId: cmd.payload.sessionId, stopped: true });
      if (cmd.type !== 'start_desktop') return failed(cmd, 'bad_request', 'unexpected');
      gotPayload(cmd.payload);
      const relay = cmd.payload.relay as { url: string; ticket: string };
      const ws = await dial(acks ? `${relay.url}?acks=1` : relay.url, relay.ticket);
      helpers.push(ws);
      gotHelper(ws);
      return ok(cmd, { sessionId: cmd.payload.sessionId, transport: 'websocket' });
    },
    { headers: apiLinkHeaders() },
  );
  return { helper, payload };
}

describe('WebSocket relay', () => {
  it('sends the agent a relay target instead of an offer and gives the viewer its own ticket', async () => {
    const { payload } = await relayAgent();
    const res = await h.request('POST', desktopPath(), { transport: 'websocket' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      transport: 'websocket',
      relay: { url: '/api/relay/viewer' },
    });
    const p = await payload;
    expect(p.offer).toBeUndefined();
    expect(p.relay).toMatchObject({ url: `${h.server.url.replace(/^http/, 'ws')}/api/relay/agent` });
    expect((p.relay as { ticket: string }).ticket).not.toBe(res.body.relay.ticket);
  });

  it('pairs the two sockets and forwards frames both ways, byte for byte', async () => {
    const { helper } = await relayAgent();
    const res = await h.request('POST', desktopPath(), { transport: 'websocket' });
    const helperWs = await helper;
    const paired = nextMessage(helperWs);
    const viewer = await dial(res.body.relay.url, res.body.relay.ticket);
    expect(await paired).toEqual({ data: Buffer.from('paired'), binary: false });

    const key = encodeRelayFrame(
      { type: 'video', keyframe: true, timestampUs: 1234 },
      new Uint8Array([0, 0, 0, 1, 0x65, 7]),
    );
    const atViewer = nextMessage(viewer);
    helperWs.send(key);
    const got = await atViewer;
    expect(got.binary).toBe(true);
    expect(Buffer.compare(got.data, Buffer.from(key))).toBe(0);
    expect(decodeRelayFrame(got.data)).toMatchObject({ type: 'video', keyframe: true, timestampUs: 1234 });

    const input = encodeRelayText('input', JSON.stringify({ type: 'key', code: 'KeyA', down: true }));
    const atHelper = nextMessage(helperWs);
    viewer.send(input);
    expect(Buffer.compare((await atHelper).data, Buffer.from(input))).toBe(0);
  });

  it('passes the viewer’s acks on to a helper that asked for them, and to no other', async () => {
    for (const acks of [true, false]) {
      const { helper } = await relayAgent({ acks });
      const res = await h.request('POST', desktopPath(), { transport: 'websocket' });
      const helperWs = await helper;
      const paired = nextMessage(helperWs);
      const viewer = await dial(res.body.relay.url, res.body.relay.ticket);
      await paired;
      const atViewer = nextMessage(viewer);
      helperWs.send(encodeRelayFrame({ type: 'video', keyframe: true, timestampUs: 77 }, new Uint8Array(8)));
      await atViewer;
      const atHelper = nextMessage(helperWs);
      viewer.send(encodeRelayAck(77));
      const input = encodeRelayText('input', JSON.stringify({ type: 'key', code: 'KeyA', down: false }));
      viewer.send(input);
      const first = decodeRelayFrame((await atHelper).data);
      // The socket is ordered: a helper that did not ask sees the input next, never the ack.
      expect(first.type).toBe(acks ? 'ack' : 'input');
      if (acks) expect(first.timestampUs).toBe(77);
      viewer.close();
      await closed(helperWs);
      await agent?.close();
    }
  });

  it('holds back video until the first keyframe, and counts what it dropped', async () => {
    const { helper } = await relayAgent();
    const res = await h.request('POST', desktopPath(), { transport: 'websocket' });
    const helperWs = await helper;
    const paired = nextMessage(helperWs);
    const viewer = await dial(res.body.relay.url, res.body.relay.ticket);
    await paired;
    const before = h.server.relayTotals();
    const atViewer = nextMessage(viewer);
    helperWs.send(encodeRelayFrame({ type: 'video', keyframe: false, timestampUs: 1 }, new Uint8Array([1])));
    helperWs.send(encodeRelayFrame({ type: 'video', keyframe: true, timestampUs: 2 }, new Uint8Array([2])));
    expect(decodeRelayFrame((await atViewer).data)).toMatchObject({ keyframe: true, timestampUs: 2 });
    const during = h.server.relayTotals();
    expect(during.droppedFrames - before.droppedFrames).toBe(1);
    expect(during.droppedBytes - before.droppedBytes).toBe(11);
    expect(during.forwarded - before.forwarded).toBe(1);
    expect(during.forwardedVideo - before.forwardedVideo).toBe(1);
    // The counters outlive the relay: an ended one is added to the totals, not forgotten.
    const gone = closed(viewer);
    viewer.close();
    await gone;
    await expect.poll(() => h.server.relayCount()).toBe(0);
    expect(h.server.relayTotals()).toMatchObject({
      droppedFrames: during.droppedFrames,
      forwarded: during.forwarded,
    });
  });

  it('closes both sides when one leaves, and cuts a viewer that sends video', async () => {
    const { helper } = await relayAgent();
    const res = await h.request('POST', desktopPath(), { transport: 'websocket' });
    const helperWs = await helper;
    const viewer = await dial(res.body.relay.url, res.body.relay.ticket);
    const helperClosed = closed(helperWs);
    viewer.send(encodeRelayFrame({ type: 'video', keyframe: true, timestampUs: 0 }, new Uint8Array(4)));
    expect(await closed(viewer)).toBe(1008);
    expect(await helperClosed).toBe(1008);
  });

  it('leaves no relay behind after many desktops that came and went', async () => {
    const { helper } = await relayAgent();
    for (let i = 0; i < 20; i++) {
      const res = await h.request('POST', desktopPath(), { transport: 'websocket' });
      const helperWs = i === 0 ? await helper : await lastHelper();
      const viewer = await dial(res.body.relay.url, res.body.relay.ticket);
      expect(h.server.relayCount()).toBe(1);
      const gone = closed(helperWs);
      // Alternate which side leaves first.
      (i % 2 === 0 ? viewer : helperWs).close();
      await gone;
      await closed(viewer);
    }
    await expect.poll(() => h.server.relayCount()).toBe(0);
  });

  it('closes both sockets when the viewer stops the desktop', async () => {
    const { helper } = await relayAgent();
    const res = await h.request('POST', desktopPath(), { transport: 'websocket' });
    const helperWs = await helper;
    const viewer = await dial(res.body.relay.url, res.body.relay.ticket);
    const bothClosed = Promise.all([closed(helperWs), closed(viewer)]);
    expect((await h.request('DELETE', `${desktopPath()}/${res.body.sessionId}`)).status).toBe(200);
    expect(await bothClosed).toEqual([1000, 1000]);
  });

  it('refuses a spent, a malformed, a wrong-side and another instance’s ticket with documented codes', async () => {
    const { helper } = await relayAgent();
    const res = await h.request('POST', desktopPath(), { transport: 'websocket' });
    await helper;
    const { url, ticket } = res.body.relay as { url: string; ticket: string };
    const agentUrl = url.replace(/viewer$/, 'agent');
    await expect(dial(agentUrl, ticket)).rejects.toThrow(/HTTP 403 .*relay_ticket_wrong_side/);
    await expect(dial(url, ticket)).rejects.toThrow(/HTTP 401 .*relay_ticket_invalid/);
    await expect(dial(url, 'nonsense')).rejects.toThrow(/HTTP 400 .*bad_request/);
    // Another instance's ticket: 421, naming that instance (this one knows no relay origin for it).
    const refused = await dial(url, `ffffffffffff0.${'A'.repeat(43)}`).catch((e: Error) => e.message);
    expect(refused).toMatch(/^HTTP 421 /);
    expect(JSON.parse(String(refused).replace(/^HTTP 421 /, ''))).toEqual({
      error: {
        code: 'relay_wrong_instance',
        message: expect.stringContaining('ffffffffffff0') as string,
        instance: 'ffffffffffff0',
      },
    });
    await expect(dial(agentUrl, `${h.server.instanceId}0.${'A'.repeat(43)}`)).rejects.toThrow(
      /HTTP 421 .*"instance":"[0-9a-f]+0"/,
    );
  });

  it('refuses an offer together with transport "websocket", and a body with neither', async () => {
    await relayAgent();
    expect((await h.request('POST', desktopPath(), { transport: 'websocket', offer: 'v=0' })).status).toBe(
      400,
    );
    expect((await h.request('POST', desktopPath(), {})).body.error).toMatchObject({
      code: 'bad_request',
      field: 'offer',
    });
  });

  it('answers 409 agent_outdated for an agent that did not announce ws_relay', async () => {
    agent = await connectAgent(h.server, h.device, (cmd) => failed(cmd, 'internal', 'must not be reached'));
    const res = await h.request('POST', desktopPath(), { transport: 'websocket' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('agent_outdated');
    expect(agent.commands.filter((c) => c.type === 'start_desktop')).toHaveLength(0);
  });
});

describe('WebSocket relay on a fake clock', () => {
  it('closes a helper’s socket whose viewer never comes, once the viewer’s ticket has expired', async () => {
    const clock = new FakeClock();
    const h2 = await startHarness({ commandTimeoutMs: 3000, timers: clock });
    try {
      let helperWs!: WebSocket;
      const a = await connectAgent(
        h2.server,
        h2.device,
        async (cmd) => {
          const relay = cmd.payload.relay as { url: string; ticket: string };
          const u = new URL(relay.url);
          u.searchParams.set('ticket', relay.ticket);
          helperWs = new WebSocket(u);
          await once(helperWs, 'open');
          return ok(cmd, { sessionId: cmd.payload.sessionId, transport: 'websocket' });
        },
        { headers: apiLinkHeaders() },
      );
      const res = await h2.request('POST', `/api/devices/${h2.device.id}/desktop`, {
        transport: 'websocket',
      });
      expect(res.status).toBe(200);
      const gone = closed(helperWs);
      await clock.advance(29_999);
      expect(helperWs.readyState).toBe(WebSocket.OPEN);
      await clock.advance(1);
      expect(await gone).toBe(1001);
      await a.close();
    } finally {
      await h2.close();
    }
  });
});

describe('WebSocket relay pacing by the viewer’s acks', () => {
  it('holds frames back while the oldest unacknowledged one is a second old, and sends them on the ack', async () => {
    const clock = new FakeClock();
    const h2 = await startHarness({ commandTimeoutMs: 3000, timers: clock });
    try {
      let helperWs!: WebSocket;
      const a = await connectAgent(
        h2.server,
        h2.device,
        async (cmd) => {
          const relay = cmd.payload.relay as { url: string; ticket: string };
          const u = new URL(relay.url);
          u.searchParams.set('ticket', relay.ticket);
          helperWs = new WebSocket(u);
          await once(helperWs, 'open');
          return ok(cmd, { sessionId: cmd.payload.sessionId, transport: 'websocket' });
        },
        { headers: apiLinkHeaders() },
      );
      const res = await h2.request('POST', `/api/devices/${h2.device.id}/desktop`, {
        transport: 'websocket',
      });
      const u = new URL(res.body.relay.url, h2.server.url.replace(/^http/, 'ws'));
      u.searchParams.set('ticket', res.body.relay.ticket);
      const paired = once(helperWs, 'message');
      const viewer = new WebSocket(u);
      await once(viewer, 'open');
      await paired;
      const got: number[] = [];
      viewer.on('message', (d: Buffer) => got.push(decodeRelayFrame(d).timestampUs));
      const video = (ts: number, keyframe = false) =>
        helperWs.send(encodeRelayFrame({ type: 'video', keyframe, timestampUs: ts }, new Uint8Array(8)));

      video(1, true);
      await expect.poll(() => got).toEqual([1]);
      viewer.send(encodeRelayAck(1)); // from now on this viewer is paced by its acks
      video(2);
      await expect.poll(() => got).toEqual([1, 2]);
      await clock.advance(1000); // frame 2 unacknowledged for a second: the viewer is behind
      video(3);
      await new Promise((r) => setTimeout(r, 300));
      expect(got).toEqual([1, 2]);
      viewer.send(encodeRelayAck(2));
      await expect.poll(() => got).toEqual([1, 2, 3]);
      viewer.close();
      await a.close();
    } finally {
      await h2.close();
    }
  });
});

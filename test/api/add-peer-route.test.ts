/**
 * `POST /api/devices/:id/desktop/:desktopId/peer`: a second peer connection for a running desktop
 * after the viewer's network changed (design/API.md, "Network change"). The fake agent plays a
 * service that announced `add_peer` (or, for the refusal, one that did not).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  API_LINK_FEATURES_HEADER,
  API_LINK_VERSION_HEADER,
  apiLinkHeaders,
} from '../../src/protocol/api-version.js';
import {
  ANSWER,
  OFFER,
  connectAgent,
  failed,
  healthyAgent,
  ok,
  startHarness,
  type Command,
  type FakeAgent,
  type Harness,
} from './harness.js';

let h: Harness;
let agent: FakeAgent | undefined;
let bobToken: string;
/** Desktop ids the fake agent serves, with their viewer, as a helper would know them. */
const served = new Map<string, string>();

/** A service with the feature: start_desktop remembers the viewer, add_peer checks it. */
const movingAgent = (cmd: Command): object | undefined => {
  if (cmd.type === 'start_desktop') {
    served.set(cmd.payload.sessionId as string, (cmd.payload.viewer as { name: string }).name);
  }
  if (cmd.type !== 'add_peer') return healthyAgent(cmd) as object | undefined;
  const viewer = (cmd.payload.viewer as { name: string }).name;
  if (served.get(cmd.payload.sessionId as string) !== viewer) {
    return failed(cmd, 'no_such_desktop', 'no such desktop of this viewer');
  }
  return ok(cmd, { sessionId: cmd.payload.sessionId, answer: ANSWER });
};

beforeAll(async () => {
  h = await startHarness();
  bobToken = await h.server.issueViewerToken('bob');
});
afterAll(() => h.close());
afterEach(async () => {
  await agent?.close();
  agent = undefined;
  served.clear();
});

const peerPath = (desktop: string, device = h.device.id): string =>
  `/api/devices/${device}/desktop/${desktop}/peer`;

async function startedDesktop(): Promise<string> {
  const r = await h.request('POST', `/api/devices/${h.device.id}/desktop`, { offer: OFFER });
  expect(r.status).toBe(200);
  return r.body.sessionId as string;
}

describe('POST /api/devices/:id/desktop/:desktopId/peer', () => {
  it('sends add_peer for the same desktop with the viewer and fresh ICE servers, and returns the answer', async () => {
    agent = await connectAgent(h.server, h.device, movingAgent, { headers: apiLinkHeaders() });
    const desktop = await startedDesktop();
    const r = await h.request('POST', peerPath(desktop), { offer: OFFER });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ sessionId: desktop, answer: ANSWER });
    const sent = agent.commands.at(-1)!;
    expect(sent.type).toBe('add_peer');
    expect(sent.payload).toMatchObject({ sessionId: desktop, offer: OFFER, viewer: { name: 'alice' } });
    expect(Array.isArray(sent.payload.iceServers)).toBe(true);
    // No second start_desktop: the device was asked for one desktop only.
    expect(agent.commands.filter((c) => c.type === 'start_desktop')).toHaveLength(1);
    const line = (await h.audit()).findLast((l) => l.action === 'add_peer');
    expect(line).toMatchObject({ viewer: 'alice', desktopSessionId: desktop, ok: true });
  });

  it('answers 404 no_such_desktop to another viewer, without asking the device when this API knows', async () => {
    agent = await connectAgent(h.server, h.device, movingAgent, { headers: apiLinkHeaders() });
    const desktop = await startedDesktop();
    const before = agent.commands.length;
    const r = await h.request('POST', peerPath(desktop), { offer: OFFER }, bobToken);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('no_such_desktop');
    expect(agent.commands).toHaveLength(before);
    const line = (await h.audit()).findLast((l) => l.action === 'add_peer');
    expect(line).toMatchObject({ viewer: 'bob', ok: false, code: 'no_such_desktop' });
  });

  it('answers 404 no_such_desktop for a desktop id the device does not serve', async () => {
    agent = await connectAgent(h.server, h.device, movingAgent, { headers: apiLinkHeaders() });
    const r = await h.request('POST', peerPath('desk-nosuchthing'), { offer: OFFER });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('no_such_desktop');
    // This API did not know the id: the device was asked, and it said no.
    expect(agent.commands.at(-1)?.type).toBe('add_peer');
  });

  it('answers 404 unknown_device for an unknown device, before reading the body', async () => {
    const r = await h.request('POST', peerPath('desk-1', 'dev-doesnotexist'), { offer: OFFER });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('unknown_device');
  });

  it('answers 409 agent_outdated from an agent that did not announce add_peer, sending it nothing', async () => {
    agent = await connectAgent(h.server, h.device, movingAgent, {
      headers: {
        [API_LINK_VERSION_HEADER]: '2',
        [API_LINK_FEATURES_HEADER]: 'viewer, capacity_errors, permissions, consent, ws_relay',
      },
    });
    const desktop = await startedDesktop();
    const before = agent.commands.length;
    const r = await h.request('POST', peerPath(desktop), { offer: OFFER });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('agent_outdated');
    expect(r.body.error.message).toMatch(/add_peer/);
    expect(agent.commands).toHaveLength(before);
  });

  it('answers 400 naming the field for a bad body or desktop id, and 405 to another method', async () => {
    agent = await connectAgent(h.server, h.device, movingAgent, { headers: apiLinkHeaders() });
    const desktop = await startedDesktop();
    const noOffer = await h.request('POST', peerPath(desktop), {});
    expect(noOffer.status).toBe(400);
    expect(noOffer.body.error.field).toBe('offer');
    const notH264 = await h.request('POST', peerPath(desktop), { offer: 'v=0\r\nm=audio 9 x 0\r\n' });
    expect(notH264.status).toBe(400);
    expect(notH264.body.error.field).toBe('offer');
    const extra = await h.request('POST', peerPath(desktop), { offer: OFFER, targetSessionId: 1 });
    expect(extra.status).toBe(400);
    const badId = await h.request('POST', peerPath('desk%20with%20space'), { offer: OFFER });
    expect(badId.status).toBe(400);
    expect((await h.request('GET', peerPath(desktop))).status).toBe(405);
    expect(agent.commands.filter((c) => c.type === 'add_peer')).toHaveLength(0);
  });

  it('answers 409 device_offline when the device is not connected', async () => {
    const r = await h.request('POST', peerPath('desk-1'), { offer: OFFER });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('device_offline');
  });
});

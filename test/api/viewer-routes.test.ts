import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../fixtures/wait-for.js';
import {
  ANSWER,
  OFFER,
  connectAgent,
  healthyAgent,
  startHarness,
  type FakeAgent,
  type Harness,
} from './harness.js';

let h: Harness;
let agent: FakeAgent | undefined;

beforeAll(async () => {
  h = await startHarness({
    ice: {
      stun: ['stun:stun.example.net:3478'],
      turn: ['turn:turn.example.net:3478'],
      turnSecret: 's3cret-turn',
    },
  });
});
afterAll(() => h.close());
afterEach(async () => {
  await agent?.close();
  agent = undefined;
});

const online = async () => {
  agent = await connectAgent(h.server, h.device, healthyAgent);
  await waitFor(async () => (await h.request('GET', '/api/devices')).body.devices[0]?.online === true, {
    what: 'device online',
    timeoutMs: 5000,
    intervalMs: 100,
  });
};

describe('viewer authentication', () => {
  it('answers 401 with a JSON error and WWW-Authenticate when the bearer token is missing', async () => {
    const r = await h.request('GET', '/api/devices', undefined, null);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthorized');
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers 401 to a wrong token and to a device token used as a viewer token', async () => {
    expect((await h.request('GET', '/api/devices', undefined, 'x'.repeat(43))).status).toBe(401);
    expect((await h.request('GET', '/api/devices', undefined, h.device.token)).status).toBe(401);
  });

  it('asks for authentication before revealing whether a route exists', async () => {
    expect((await h.request('GET', '/api/nowhere', undefined, null)).status).toBe(401);
    const r = await h.request('GET', '/api/nowhere');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });
});

describe('GET /api/devices', () => {
  it('lists a registered device as offline until its agent connects, then online', async () => {
    const before = await h.request('GET', '/api/devices');
    expect(before.status).toBe(200);
    expect(before.body.devices).toEqual([{ id: h.device.id, name: 'test box', online: false }]);
    await online();
    const after = await h.request('GET', '/api/devices');
    expect(after.body.devices[0]).toMatchObject({ id: h.device.id, online: true });
    expect(Date.parse(after.body.devices[0].lastSeen)).not.toBeNaN();
  });

  it('keeps lastSeen after the agent disconnects', async () => {
    await online();
    await agent?.close();
    const r = await waitFor(
      async () =>
        (await h.request('GET', '/api/devices')).body.devices.find((d: { online: boolean }) => !d.online),
      { what: 'device offline', timeoutMs: 5000, intervalMs: 100 },
    );
    expect(Date.parse(r.lastSeen)).not.toBeNaN();
  });

  it('answers 405 with Allow to another method', async () => {
    const r = await h.request('POST', '/api/devices', {});
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET');
  });
});

describe('GET /api/ice-servers', () => {
  it('gives STUN and TURN with credentials minted for this viewer', async () => {
    const r = await h.request('GET', '/api/ice-servers');
    expect(r.status).toBe(200);
    expect(r.body.iceTransportPolicy).toBe('all');
    expect(r.body.iceServers[0]).toEqual({ urls: ['stun:stun.example.net:3478'] });
    expect(r.body.iceServers[1].urls).toEqual(['turn:turn.example.net:3478']);
    expect(r.body.iceServers[1].username).toMatch(/^\d+:alice$/);
    expect(r.body.iceServers[1].credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);
  });
});

describe('GET /api/devices/:id/sessions', () => {
  it('relays list_sessions and returns the agent’s sessions', async () => {
    await online();
    const r = await h.request('GET', `/api/devices/${h.device.id}/sessions`);
    expect(r.status).toBe(200);
    expect(r.body.sessions[0]).toMatchObject({ sessionId: 7, helperConnected: true });
    expect(agent?.commands.at(-1)).toMatchObject({ type: 'list_sessions', payload: {} });
  });

  it('answers 404 for an unknown device and 409 device_offline for a known one not connected', async () => {
    const unknown = await h.request('GET', '/api/devices/dev-nope/sessions');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_device');
    const offline = await h.request('GET', `/api/devices/${h.device.id}/sessions`);
    expect(offline.status).toBe(409);
    expect(offline.body.error).toMatchObject({ code: 'device_offline' });
    expect(offline.body.error.message).toContain(h.device.id);
  });
});

describe('POST /api/devices/:id/desktop', () => {
  const path = () => `/api/devices/${h.device.id}/desktop`;

  it('picks a desktop session id, sends start_desktop with fresh ICE servers and returns the answer', async () => {
    await online();
    const r = await h.request('POST', path(), { offer: OFFER, targetSessionId: 7, displayIndex: 1 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ sessionId: expect.stringMatching(/^desk-[a-z0-9]{10}$/), answer: ANSWER });
    const sent = agent?.commands.at(-1);
    expect(sent?.type).toBe('start_desktop');
    expect(sent?.payload).toMatchObject({
      sessionId: r.body.sessionId,
      offer: OFFER,
      targetSessionId: 7,
      displayIndex: 1,
    });
    const ice = sent?.payload.iceServers as { urls: string[]; username?: string }[];
    expect(ice.map((s) => s.urls[0])).toEqual(['stun:stun.example.net:3478', 'turn:turn.example.net:3478']);
    expect(ice[1]?.username).toMatch(/^\d+:alice$/);
  });

  it('answers 400 naming the field for a missing offer, a bad displayIndex and an unknown field', async () => {
    const missing = await h.request('POST', path(), {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'bad_request', field: 'offer' });
    expect(missing.body.error.message).toBe('offer: is required');
    const index = await h.request('POST', path(), { offer: OFFER, displayIndex: 99 });
    expect(index.body.error.field).toBe('displayIndex');
    const notSdp = await h.request('POST', path(), { offer: 'hello' });
    expect(notSdp.body.error.message).toMatch(/^offer: is not SDP/);
    const extra = await h.request('POST', path(), { offer: OFFER, iceServers: [] });
    expect(extra.body.error).toMatchObject({
      field: 'iceServers',
      message: 'iceServers: is not a known field',
    });
  });

  it('answers 400 naming offer when the offer has no H.264 video, before asking the device', async () => {
    const agent = await connectAgent(h.server, h.device, healthyAgent);
    const vp8 =
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n';
    const r = await h.request('POST', path(), { offer: vp8 });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'bad_request', field: 'offer' });
    expect(r.body.error.message).toMatch(/^offer: offers no H\.264/);
    const noVideo = await h.request('POST', path(), { offer: 'v=0\r\ns=-\r\n' });
    expect(noVideo.body.error.message).toMatch(/^offer: has no video section/);
    expect(agent.commands.filter((c) => c.type === 'start_desktop')).toHaveLength(0);
    await agent.close();
  });

  it('answers 400 to a body that is not JSON or is empty', async () => {
    const r = await h.request('POST', path(), '{"offer":');
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/not valid JSON/);
    expect((await h.request('POST', path(), '')).status).toBe(400);
  });

  it('answers 413 to a body over 1 MiB', async () => {
    const r = await h.request('POST', path(), { offer: `v=0${'a'.repeat(1024 * 1024)}` });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('too_large');
  });

  it('answers 413 to a 10 MiB body and reads the rest of it before closing (no reset)', async () => {
    // The server used to close the socket once the 413 was written, with most of the body unread:
    // the kernel then resets the connection, and a client still uploading (any real network) sees
    // a reset instead of the 413 it has not read yet. A raw socket shows it exactly: after the 413,
    // the rest of the body must still be accepted.
    const url = new URL(h.server.url);
    const size = 10 * 1024 * 1024;
    const socket = connect(Number(url.port), url.hostname);
    await new Promise((r) => socket.once('connect', r));
    let received = '';
    let failure: string | undefined;
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => (failure = err.code ?? err.message));
    socket.write(
      `POST ${path()} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${h.viewerToken}\r\n` +
        `content-type: application/json\r\ncontent-length: ${size}\r\n\r\n`,
    );
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    socket.write(chunk);
    await waitFor(() => received.includes('\r\n\r\n'), { what: 'the response head' });
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    for (let sent = chunk.length; sent < size && !failure; sent += chunk.length) {
      await new Promise<void>((resolve) => (socket.write(chunk) ? resolve() : socket.once('drain', resolve)));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(failure).toBeUndefined();
    expect(received).toContain('"code":"too_large"');
    socket.destroy();
  });

  it('answers 409 when the device is offline and 404 for an unknown device', async () => {
    expect((await h.request('POST', path(), { offer: OFFER })).status).toBe(409);
    expect((await h.request('POST', '/api/devices/dev-nope/desktop', { offer: OFFER })).status).toBe(404);
  });
});

describe('DELETE /api/devices/:id/desktop/:sessionId', () => {
  it('relays stop_desktop', async () => {
    await online();
    const r = await h.request('DELETE', `/api/devices/${h.device.id}/desktop/desk-abc`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ sessionId: 'desk-abc', stopped: true });
    expect(agent?.commands.at(-1)).toMatchObject({
      type: 'stop_desktop',
      payload: { sessionId: 'desk-abc' },
    });
  });

  it('answers 400 naming sessionId when it is not a valid desktop id', async () => {
    const r = await h.request(
      'DELETE',
      `/api/devices/${h.device.id}/desktop/${encodeURIComponent('bad id!')}`,
    );
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe('sessionId');
  });
});

describe('audit log', () => {
  it('records viewer, device, action, desktop and target session, outcome and remote address', async () => {
    await online();
    const r = await h.request('POST', `/api/devices/${h.device.id}/desktop`, {
      offer: OFFER,
      targetSessionId: 7,
    });
    await h.request('GET', '/api/devices/dev-nope/sessions');
    const lines = await h.audit();
    expect(lines).toContainEqual({
      time: expect.any(String),
      viewer: 'alice',
      device: h.device.id,
      action: 'start_desktop',
      desktopSessionId: r.body.sessionId,
      targetSessionId: 7,
      ok: true,
      remote: '127.0.0.1',
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        viewer: 'alice',
        device: 'dev-nope',
        action: 'list_sessions',
        ok: false,
        code: 'unknown_device',
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ viewer: null, device: h.device.id, action: 'agent_connected', ok: true }),
    );
    expect(JSON.stringify(lines)).not.toContain(h.viewerToken);
    expect(JSON.stringify(lines)).not.toContain(h.device.token);
  });
});

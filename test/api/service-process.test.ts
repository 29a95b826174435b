/**
 * The API with the real agent: a `porthole service` process (helpers in a real Xvfb session) connects
 * to the API over WebSocket, and a viewer stand-in drives it through the HTTP API only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../fixtures/wait-for.js';
import { connectTestOfferer, createTestOfferer } from '../fixtures/webrtc-offerer.js';
import { startXvfb, type XvfbHandle } from '../fixtures/xvfb.js';
import { startHarness, type Harness } from './harness.js';

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));

let x: XvfbHandle;
let h: Harness;
let service: ChildProcess;
let output = '';

beforeAll(async () => {
  [x, h] = await Promise.all([startXvfb({ screens: [{ w: 320, h: 240 }] }), startHarness()]);
  const dir = mkdtempSync(join(tmpdir(), 'porthole-api-svc-'));
  writeFileSync(join(dir, 'token'), `${h.device.token}\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'porthole.json'),
    JSON.stringify({ sessions: { configured: [{ display: x.display }] } }),
  );
  service = spawn(
    process.execPath,
    [
      bin,
      'service',
      '--config',
      join(dir, 'porthole.json'),
      '--api-url',
      h.server.agentUrl,
      '--device-id',
      h.device.id,
      '--token-file',
      join(dir, 'token'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  service.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  service.stderr?.on('data', (d: Buffer) => (output += d.toString()));
}, 30_000);

afterAll(async () => {
  if (service && service.exitCode === null) service.kill('SIGKILL');
  await h?.close();
  await x?.stop();
});

const sessionsPath = () => `/api/devices/${h.device.id}/sessions`;

describe('porthole api with a real porthole service', () => {
  it('shows the device online once the service connects', async () => {
    await waitFor(async () => (await h.request('GET', '/api/devices')).body.devices[0]?.online === true, {
      what: 'device online',
      timeoutMs: 20_000,
      intervalMs: 100,
      detail: () => `service output: ${output.slice(-2000)}`,
    });
    expect(await h.audit()).toContainEqual(
      expect.objectContaining({ action: 'agent_connected', device: h.device.id, ok: true }),
    );
  }, 30_000);

  it('lists the X session with a connected helper', async () => {
    const session = await waitFor(
      async () => {
        const r = await h.request('GET', sessionsPath());
        return (r.body.sessions as { sessionId: number; helperConnected: boolean }[] | undefined)?.find(
          (s) => s.sessionId === x.displayNumber && s.helperConnected,
        );
      },
      { what: 'a ready helper', timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(session).toMatchObject({ sessionId: x.displayNumber, type: 'x11', helperConnected: true });
  }, 40_000);

  it('relays a viewer offer to the helper and back, whose DataChannels then open, and stops it', async () => {
    const { viewer, sessionId } = await connectTestOfferer(
      async (offer) => {
        const r = await h.request('POST', `/api/devices/${h.device.id}/desktop`, {
          offer,
          targetSessionId: x.displayNumber,
        });
        expect(r.status).toBe(200);
        expect(r.body.answer).toMatch(/^v=0/);
        const id = r.body.sessionId as string;
        return {
          answer: r.body.answer as string,
          sessionId: id,
          dispose: () => h.request('DELETE', `/api/devices/${h.device.id}/desktop/${id}`),
        };
      },
      { readyTimeoutMs: 15_000 },
    );
    try {
      expect(viewer.channels.input.isOpen()).toBe(true);
      const stop = await h.request('DELETE', `/api/devices/${h.device.id}/desktop/${sessionId}`);
      expect(stop.body).toEqual({ sessionId, stopped: true });
    } finally {
      viewer.close();
    }
    const actions = (await h.audit()).filter((l) => l.viewer === 'alice').map((l) => [l.action, l.ok]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['start_desktop', true],
        ['stop_desktop', true],
      ]),
    );
  }, 40_000);

  it('passes the service’s no_such_session through as 404', async () => {
    const viewer = await createTestOfferer();
    try {
      const r = await h.request('POST', `/api/devices/${h.device.id}/desktop`, {
        offer: viewer.offer,
        targetSessionId: 4242,
      });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('no_such_session');
    } finally {
      viewer.close();
    }
  });

  it('reports the device offline (409) once the service stops', async () => {
    service.kill('SIGTERM');
    await new Promise((resolve) => service.once('exit', resolve));
    await waitFor(async () => (await h.request('GET', sessionsPath())).status === 409, {
      what: 'device offline',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    expect(await h.audit()).toContainEqual(
      expect.objectContaining({ action: 'agent_disconnected', device: h.device.id }),
    );
  }, 20_000);
});

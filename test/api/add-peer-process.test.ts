/**
 * A desktop moving to a second peer through the real chain: the API, a `porthole service` process and
 * its helper in a real Xvfb session, with node-datachannel offerers as the viewer. The second offer
 * (`POST …/desktop/:id/peer`) gets a peer of the same desktop that receives the video, and once it is
 * connected the helper closes the first one itself; the desktop stays the same (DELETE still finds it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../fixtures/wait-for.js';
import { connectTestOfferer, type TestOfferer } from '../fixtures/webrtc-offerer.js';
import { startXvfb, type XvfbHandle } from '../fixtures/xvfb.js';
import { startHarness, type Harness } from './harness.js';

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));

let x: XvfbHandle;
let h: Harness;
let service: ChildProcess;
let output = '';

beforeAll(async () => {
  [x, h] = await Promise.all([startXvfb({ screens: [{ w: 320, h: 240 }] }), startHarness()]);
  const dir = mkdtempSync(join(tmpdir(), 'porthole-add-peer-'));
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
  await waitFor(
    async () => {
      const r = await h.request('GET', `/api/devices/${h.device.id}/sessions`);
      return (r.body.sessions as { helperConnected: boolean }[] | undefined)?.some((s) => s.helperConnected);
    },
    { what: 'a ready helper', timeoutMs: 60_000, intervalMs: 200, detail: () => output.slice(-2000) },
  );
}, 90_000);

afterAll(async () => {
  if (service && service.exitCode === null) service.kill('SIGKILL');
  await h?.close();
  await x?.stop();
});

describe('add_peer through the API, the service and a real helper', () => {
  it('serves a second peer of the same desktop and closes the first once the second connects', async () => {
    const desktopPath = `/api/devices/${h.device.id}/desktop`;
    const first = await connectTestOfferer(
      async (offer) => {
        const r = await h.request('POST', desktopPath, { offer, targetSessionId: x.displayNumber });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return { answer: r.body.answer as string, sessionId: r.body.sessionId as string };
      },
      { readyTimeoutMs: 20_000 },
    );
    const desktop = first.sessionId;
    let second: TestOfferer | undefined;
    try {
      const bob = await h.server.issueViewerToken('bob');
      const refused = await h.request(
        'POST',
        `${desktopPath}/${desktop}/peer`,
        { offer: first.viewer.offer },
        bob,
      );
      expect(refused.status).toBe(404);
      expect(refused.body.error.code).toBe('no_such_desktop');

      const moved = await connectTestOfferer(
        async (offer) => {
          const r = await h.request('POST', `${desktopPath}/${desktop}/peer`, { offer });
          expect(r.status, JSON.stringify(r.body)).toBe(200);
          expect(r.body.sessionId).toBe(desktop);
          return { answer: r.body.answer as string };
        },
        { readyTimeoutMs: 20_000 },
      );
      second = moved.viewer;
      let rtp = 0;
      second.onRtp(() => rtp++);
      // The helper closes the first peer itself (make-before-break): its channels close.
      await waitFor(() => first.viewer.closed('control'), {
        what: 'the first peer closed by the helper',
        timeoutMs: 15_000,
        intervalMs: 100,
        detail: () => output.slice(-2000),
      });
      await waitFor(() => rtp > 0, { what: 'video on the second peer', timeoutMs: 15_000, intervalMs: 100 });
      expect(second.channels.input.isOpen()).toBe(true);
      expect(output).toMatch(/desktop moved to its new peer/);

      // Still the same desktop: one start_desktop, and DELETE finds it.
      const stop = await h.request('DELETE', `${desktopPath}/${desktop}`);
      expect(stop.body).toEqual({ sessionId: desktop, stopped: true });
      const actions = (await h.audit())
        .filter((l) => l.device === h.device.id)
        .map((l) => `${l.action} ${l.ok}`);
      expect(actions.filter((a) => a.startsWith('start_desktop'))).toEqual(['start_desktop true']);
      expect(actions).toContain('add_peer true');
      expect(actions).toContain('add_peer false');
    } finally {
      first.viewer.close();
      second?.close();
    }
  }, 90_000);
});

/**
 * Issue 17 §2, the being-viewed indicator with the real processes: a `porthole service` with a real
 * helper in an Xvfb session, a test API, and a hand-written node-datachannel viewer. The X server is
 * the judge: while the viewer is connected the session has a mapped override-redirect window named
 * after it; pressing its Disconnect through XTest tells the viewer (`ended` on `control`), ends the
 * connection, reports `session_cut {reason: user}` to the API, and takes the window away. A viewer that
 * leaves by itself takes it away too.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInputInjector } from '../../src/helper/input/index.js';
import type { InputInjector } from '../../src/helper/input/input-injector.js';
import { silentLogger } from '../../src/log/logger.js';
import { waitFor } from '../fixtures/wait-for.js';
import { startServiceWithHelper, stopService, sessionOn } from '../fixtures/service-process.js';
import { startTestApi, type TestApi } from '../fixtures/test-api.js';
import { connectTestOfferer, type TestOfferer } from '../fixtures/webrtc-offerer.js';
import { startXvfb, type XvfbHandle } from '../fixtures/xvfb.js';

const token = 'test-token-0123456789abcdef';
const deviceId = 'dev-presence';
const SCREEN = { width: 800, height: 600 };

let x: XvfbHandle;
let api: TestApi;
let svc: ChildProcess;
let person: InputInjector;
let seq = 0;
const closers: (() => unknown)[] = [];

interface XWindow {
  id: string;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The root's mapped children whose name starts with "porthole: " (xwininfo lists the top first). */
function indicators(): XWindow[] {
  const tree = execFileSync('xwininfo', ['-root', '-children', '-display', x.display], { encoding: 'utf8' });
  const out: XWindow[] = [];
  for (const m of tree.matchAll(/(0x[0-9a-f]+) "(porthole: [^"]*)":.*?(\d+)x(\d+)\+(-?\d+)\+(-?\d+)/g)) {
    const attrs = execFileSync('xwininfo', ['-id', m[1]!, '-display', x.display], { encoding: 'utf8' });
    if (!/Override Redirect State: yes/.test(attrs) || !/Map State: IsViewable/.test(attrs)) continue;
    out.push({ id: m[1]!, name: m[2]!, width: +m[3]!, height: +m[4]!, x: +m[5]!, y: +m[6]! });
  }
  return out;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-presence-'));
  writeFileSync(join(dir, 'token'), token);
  chmodSync(dir, 0o711);
  x = await startXvfb({ screens: [{ w: SCREEN.width, h: SCREEN.height }], args: ['-ac'] });
  person = createInputInjector({ backend: 'x11', display: x.display, log: silentLogger });
  api = await startTestApi({ deviceId, token });
  const config = join(dir, 'porthole.json');
  writeFileSync(
    config,
    JSON.stringify({
      sessions: {
        pollMs: 300,
        configured: [sessionOn(x.display)],
      },
    }),
  );
  svc = await startServiceWithHelper(api, { config, deviceId, tokenFile: join(dir, 'token') });
}, 60_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  person?.close();
  await stopService(svc);
  await api?.close();
  await x?.stop();
}, 30_000);

async function connect(viewerName: string): Promise<{ viewer: TestOfferer; desktop: string }> {
  const id = `desk-${++seq}`;
  const { viewer } = await connectTestOfferer(
    async (offer) => {
      const r = await api.command({
        id: `start-${id}`,
        type: 'start_desktop',
        payload: { sessionId: id, offer, iceServers: [], viewer: { name: viewerName } },
      });
      if (!r.ok) throw new Error(r.error.message);
      return { answer: (r.result as { answer: string }).answer };
    },
    { readyTimeoutMs: 20_000, labels: ['input', 'control', 'cursor', 'chat'] },
  );
  closers.push(async () => {
    await api.command({ id: `stop-${id}`, type: 'stop_desktop', payload: { sessionId: id } }).catch(() => {});
    viewer.close();
  });
  return { viewer, desktop: id };
}

describe('the being-viewed indicator on the real helper', () => {
  it('is shown while a viewer is connected, and gone after it left', async () => {
    expect(indicators()).toEqual([]);
    const { viewer, desktop } = await connect('alice');
    await waitFor(() => indicators().length === 1, { what: 'the indicator', timeoutMs: 15_000 });
    expect(indicators()[0]).toMatchObject({ name: 'porthole: alice is viewing this screen', y: 0 });
    await api.command({ id: `stop-${desktop}`, type: 'stop_desktop', payload: { sessionId: desktop } });
    viewer.close();
    await waitFor(() => indicators().length === 0, { what: 'the indicator gone', timeoutMs: 15_000 });
  }, 60_000);

  it('Disconnect pressed through XTest ends the connection, tells the viewer and the audit log', async () => {
    const { viewer, desktop } = await connect('bob');
    await waitFor(() => indicators().length === 1, { what: 'the indicator', timeoutMs: 15_000 });
    const w = indicators()[0]!;
    expect(w.name).toBe('porthole: bob is viewing this screen');
    const eventsBefore = api.events.length;
    // Disconnect is the last button: its right part is 8 px padding in from the window's edge.
    person.pointerMove(
      { x: 0, y: 0, ...SCREEN },
      (w.x + w.width - 24) / SCREEN.width,
      (w.y + w.height / 2) / SCREEN.height,
    );
    person.button('left', true);
    person.button('left', false);
    await waitFor(() => viewer.received('control').some((m) => JSON.parse(m).type === 'ended'), {
      what: 'the ended notice',
      timeoutMs: 10_000,
    });
    expect(
      viewer
        .received('control')
        .map((m) => JSON.parse(m))
        .filter((m) => m.type === 'ended'),
    ).toEqual([{ type: 'ended', reason: 'user' }]);
    await waitFor(() => viewer.closed('control'), {
      what: 'the connection closed by the helper',
      timeoutMs: 10_000,
    });
    await waitFor(() => indicators().length === 0, { what: 'the indicator gone', timeoutMs: 10_000 });
    await waitFor(() => api.events.length > eventsBefore, { what: 'the audit event', timeoutMs: 10_000 });
    expect(api.events.slice(eventsBefore)).toEqual([
      {
        type: 'event',
        targetSessionId: x.displayNumber,
        event: { kind: 'session_cut', desktop, reason: 'user' },
      },
    ]);
  }, 60_000);
});

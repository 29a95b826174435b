/**
 * Issue 17 §2 with the real processes. View-only enforced where it counts: a `porthole service` with a real helper
 * in an Xvfb session, driven by a test API that sends `start_desktop` with the permissions the API
 * gives a view-only token, and a hand-written viewer (node-datachannel) that opens `input` and `files`
 * anyway and sends keys on `input` and Ctrl+Alt+Del on `control`. The X server is the judge
 * (XQueryKeymap): nothing the view-only viewer sends is ever held there, while its video flows. A
 * full-control viewer first shows that the same path does inject, so the absence means something.
 * Audit: a file uploaded on `files` reaches the API as an `event` (metadata only) with the session.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEW_ONLY, type ViewerPermissions } from '../../src/protocol/ipc.js';
import { waitFor } from '../fixtures/wait-for.js';
import { startServiceWithHelper, stopService, sessionOn } from '../fixtures/service-process.js';
import { startTestApi, type TestApi } from '../fixtures/test-api.js';
import {
  connectTestOfferer,
  type OffererChannelLabel,
  type TestOfferer,
} from '../fixtures/webrtc-offerer.js';
import { startXvfb, type XvfbHandle } from '../fixtures/xvfb.js';
import { watchXInput, type XInputState } from '../soak/x-input-state.js';

const token = 'test-token-0123456789abcdef';
const deviceId = 'dev-view-only';

let x: XvfbHandle;
let keys: XInputState;
let api: TestApi;
let svc: ChildProcess;
let seq = 0;
let downloads: string;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-viewonly-'));
  writeFileSync(join(dir, 'token'), token);
  chmodSync(dir, 0o711); // the helper's user reaches the downloads folder through it
  downloads = join(dir, 'downloads');
  mkdirSync(downloads, { mode: 0o777 });
  chmodSync(downloads, 0o777);
  // -ac: the helper may run as another user than the one who started Xvfb.
  x = await startXvfb({ screens: [{ w: 320, h: 240 }], args: ['-ac'] });
  keys = watchXInput(x.display);
  api = await startTestApi({ deviceId, token });
  const config = join(dir, 'porthole.json');
  writeFileSync(
    config,
    JSON.stringify({
      // As root, the helper runs as `nobody` (files are written with a real user's identity, and the
      // user must exist); otherwise as the user running the test.
      sessions: {
        pollMs: 300,
        configured: [sessionOn(x.display)],
      },
      helper: { args: ['--files-dir', downloads] },
    }),
  );
  svc = await startServiceWithHelper(api, { config, deviceId, tokenFile: join(dir, 'token') });
}, 60_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  keys?.close();
  await stopService(svc);
  await api?.close();
  await x?.stop();
}, 30_000);

interface Connected {
  viewer: TestOfferer;
  frames: () => number;
  send(label: OffererChannelLabel, msg: object): boolean;
}

async function connect(permissions: ViewerPermissions | undefined, expectRefused: OffererChannelLabel[]) {
  let frames = 0;
  const id = `desk-${++seq}`;
  const { viewer } = await connectTestOfferer(
    async (offer, v) => {
      v.onRtp((p) => {
        if ((p[1]! & 0x80) !== 0) frames += 1;
      });
      const r = await api.command({
        id: `start-${id}`,
        type: 'start_desktop',
        payload: { sessionId: id, offer, iceServers: [], ...(permissions ? { permissions } : {}) },
      });
      if (!r.ok) throw new Error(r.error.message);
      return { answer: (r.result as { answer: string }).answer };
    },
    { readyTimeoutMs: 20_000, labels: ['input', 'control', 'cursor', 'files'], expectRefused },
  );
  closers.push(async () => {
    await api.command({ id: `stop-${id}`, type: 'stop_desktop', payload: { sessionId: id } }).catch(() => {});
    viewer.close();
  });
  const c: Connected = {
    viewer,
    frames: () => frames,
    send: (label, msg) => {
      try {
        return viewer.channels[label].sendMessage(JSON.stringify(msg));
      } catch {
        return false; // a closed channel throws: the helper refused it
      }
    },
  };
  return { ...c, desktop: id };
}

describe('a view-only viewer (permissions {control: false, files: false}) on the real helper', () => {
  it('has its input reach the X server when it has full control (the path works)', async () => {
    const full = await connect(undefined, []);
    expect(full.viewer.channels.input.isOpen()).toBe(true);
    expect(full.viewer.channels.files.isOpen()).toBe(true);
    full.send('input', { type: 'key', code: 'KeyA', down: true });
    await waitFor(() => keys.keys().length === 1, { what: 'KeyA held in X', timeoutMs: 10_000 });
    full.send('input', { type: 'key', code: 'KeyA', down: false });
    await waitFor(() => keys.keys().length === 0, { what: 'KeyA released in X', timeoutMs: 10_000 });
  }, 60_000);

  it('gets video while its input and files channels are closed and nothing it sends reaches X', async () => {
    const v = await connect(VIEW_ONLY, ['input', 'files']);
    await waitFor(() => v.viewer.closed('input') && v.viewer.closed('files'), {
      what: 'input and files closed by the helper',
      timeoutMs: 10_000,
    });
    expect(v.viewer.channels.control.isOpen()).toBe(true);
    expect(v.viewer.channels.cursor.isOpen()).toBe(true);
    // A hand-written client tries anyway: keys on `input`, Ctrl+Alt+Del on `control`.
    for (const code of ['KeyA', 'ShiftLeft', 'ControlLeft'])
      v.send('input', { type: 'key', code, down: true });
    v.send('control', { type: 'ctrl_alt_del' });
    await waitFor(() => v.viewer.received('control').some((m) => m.includes('"about":"ctrl_alt_del"')), {
      what: 'the Ctrl+Alt+Del refusal',
      timeoutMs: 10_000,
    });
    const refusal = v.viewer.received('control').find((m) => m.includes('"about":"ctrl_alt_del"'));
    expect(JSON.parse(refusal!)).toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(/view-only/),
    });
    // Video flows: frames keep arriving after the refusals.
    const before = v.frames();
    await waitFor(() => v.frames() > before + 3, { what: 'video frames', timeoutMs: 15_000 });
    expect(keys.keys()).toEqual([]);
    expect(keys.buttons()).toEqual([]);
  }, 60_000);
});

describe('audit events from the real helper, through the service, to the API', () => {
  it('reports a file uploaded on `files` as metadata (name, size, direction, outcome)', async () => {
    const full = await connect(undefined, []);
    const bytes = Buffer.from('audited bytes');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const files = full.viewer.channels.files;
    const sent = (type: string) => full.viewer.received('files').some((m) => JSON.parse(m).type === type);
    files.sendMessage(JSON.stringify({ type: 'offer', id: 1, name: 'audit.txt', size: bytes.length }));
    await waitFor(() => sent('accept'), {
      what: 'the upload accepted',
      timeoutMs: 15_000,
      detail: () => full.viewer.received('files').join('\n'),
    });
    const frame = Buffer.alloc(4 + bytes.length);
    frame.writeUInt32BE(1, 0);
    bytes.copy(frame, 4);
    files.sendMessageBinary(frame);
    files.sendMessage(JSON.stringify({ type: 'done', id: 1, sha256 }));
    await waitFor(() => sent('complete'), { what: 'the upload complete', timeoutMs: 15_000 });
    expect(readFileSync(join(downloads, 'audit.txt'))).toEqual(bytes);
    await waitFor(() => api.events.length > 0, { what: 'the audit event at the API', timeoutMs: 10_000 });
    expect(api.events).toEqual([
      {
        type: 'event',
        targetSessionId: x.displayNumber,
        event: {
          kind: 'file_transfer',
          desktop: full.desktop,
          direction: 'upload',
          name: 'audit.txt',
          size: bytes.length,
          outcome: 'complete',
        },
      },
    ]);
  }, 60_000);
});

/**
 * The built viewer in Debian's WebKitGTK (the Tauri shell's engine on Linux), against the real API,
 * service and helper: the engine has no RTCPeerConnection, so the viewer must take the WebSocket relay
 * at once and decode with WebCodecs. The session's known colour must reach the relay canvas, and a
 * click and typed text (real X input into the WebKit window) must reach the X session. The Chromium
 * counterpart is ws-fallback.e2e.test.ts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../../src/demo/demo-stack.js';
import { ICE_FALLBACK_MS } from '../../src/viewer/fallback-connection.js';
import { waitFor } from '../fixtures/wait-for.js';
import { openWebKitWindow, webkitGtkMissing, type WebKitWindow } from '../fixtures/webkitgtk.js';

const W = 640;
const H = 480;
const GREEN = [40, 170, 60];
const hex = (c: number[]) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const artifacts = 'test-results/e2e';
const missing = webkitGtkMissing();

let stack: DemoStack;
let webkit: WebKitWindow;
let typedDir: string;
let xterm: ChildProcess | undefined;

const near = (a: number[], b: number[], tol = 24) => a.every((v, i) => Math.abs(v - (b[i] as number)) <= tol);

/** Mean colour of an 8×8 block of the relay canvas around (fx, fy): the decoded picture as drawn. */
const canvasColour = (fx: number, fy: number): Promise<number[] | string> =>
  webkit.evaluate(`
    const c = document.querySelector('#relay-video');
    if (!c || c.hidden || c.width === 0) return c ? 'canvas ' + c.width + 'x' + c.height + ' hidden=' + c.hidden : 'none';
    const d = c.getContext('2d').getImageData(Math.floor(${fx} * c.width) - 4, Math.floor(${fy} * c.height) - 4, 8, 8).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
    return sum.map((s) => Math.round(s / (d.length / 4)));`);

const status = (): Promise<string> =>
  webkit.evaluate<string>(`return document.querySelector('#status')?.textContent ?? ''`);

/** Page coordinates (CSS pixels) of a point of the remote display: the canvas sits on the content. */
const pagePoint = (fx: number, fy: number): Promise<{ x: number; y: number }> =>
  webkit.evaluate(`
    const b = document.querySelector('#relay-video').getBoundingClientRect();
    return { x: b.left + ${fx} * b.width, y: b.top + ${fy} * b.height };`);

const pointer = (): { x: number; y: number } => {
  const out = execFileSync('xdotool', ['getmouselocation', '--shell'], {
    env: { ...process.env, DISPLAY: stack.displays[0]!.display },
  }).toString();
  return { x: Number(/X=(\d+)/.exec(out)?.[1]), y: Number(/Y=(\d+)/.exec(out)?.[1]) };
};

beforeAll(async () => {
  if (missing) return;
  mkdirSync(artifacts, { recursive: true });
  typedDir = mkdtempSync(join(tmpdir(), 'porthole-webkit-e2e-'));
  stack = await startDemoStack({
    sessions: [{ colour: hex(GREEN), title: 'relay', width: W, height: H, bare: true }],
  });
  execFileSync('xsetroot', ['-solid', hex(GREEN)], {
    env: { ...process.env, DISPLAY: stack.displays[0]!.display },
  });
  await waitFor(() => /"helper ready"/.test(stack.serviceOutput()), {
    what: 'a ready helper',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  webkit = await openWebKitWindow(1280, 800);
}, 120_000);

afterAll(async () => {
  if (stack) writeFileSync(`${artifacts}/webkitgtk-service.log`, stack.serviceOutput());
  if (webkit) writeFileSync(`${artifacts}/webkitgtk-driver.log`, webkit.stderr());
  xterm?.kill();
  await webkit?.close();
  await stack?.stop();
  if (typedDir) rmSync(typedDir, { recursive: true, force: true });
});

describe.skipIf(missing)(`the viewer in WebKitGTK${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('has WebCodecs and no WebRTC on http://127.0.0.1, a potentially trustworthy origin', async () => {
    await webkit.load(await stack.loginUrl('webkit'));
    const engine = await webkit.evaluate<Record<string, unknown>>(`return {
      secure: isSecureContext,
      peer: typeof RTCPeerConnection,
      decoder: typeof VideoDecoder,
      h264: typeof VideoDecoder === 'function'
        ? (await VideoDecoder.isConfigSupported({ codec: 'avc1.42e01f', optimizeForLatency: true })).supported
        : false,
      origin: location.origin,
    }`);
    console.info(`WebKitGTK ${webkit.version}: ${JSON.stringify(engine)}`);
    expect(engine).toMatchObject({
      secure: true,
      peer: 'undefined',
      decoder: 'function',
      h264: true,
      origin: stack.api.url,
    });
  });

  it('takes the relay at once, shows the desktop, and a click and a key reach the session', async () => {
    const option = `#session option[value="${stack.displays[0]!.number}"]`;
    await waitFor(() => webkit.evaluate<boolean>(`return !!document.querySelector('${option}')`), {
      what: 'the viewer to list the session',
      timeoutMs: 30_000,
      intervalMs: 200,
    }).catch(async (err: Error) => {
      const text = await webkit.evaluate<string>('return document.body.innerText').catch(() => '?');
      throw new Error(`${err.message}: ${text}`, { cause: err });
    });

    const t0 = Date.now();
    await webkit.evaluate(`document.querySelector('#connect').click()`);
    let seen: unknown = 'nothing';
    await waitFor(
      async () => {
        seen = await canvasColour(0.9, 0.9);
        return Array.isArray(seen) && near(seen as number[], GREEN);
      },
      { what: `the relay canvas to show ${hex(GREEN)}`, timeoutMs: 30_000, intervalMs: 200 },
    ).catch(async (err: Error) => {
      throw new Error(`${err.message} (last seen: ${JSON.stringify(seen)}, status: ${await status()})`, {
        cause: err,
      });
    });
    const firstPictureMs = Date.now() - t0;
    console.info(`WebKitGTK relay: Connect → first picture in ${firstPictureMs} ms`);
    expect(firstPictureMs).toBeLessThan(ICE_FALLBACK_MS); // no WebRTC attempt was waited out
    expect(await status()).toContain('relayed over WebSocket');

    // A real X click on the WebKit window lands at the same point of the remote display.
    const p = await pagePoint(0.75, 0.5);
    await webkit.click(p.x, p.y);
    await waitFor(
      () => {
        const at = pointer();
        return Math.abs(at.x - 0.75 * W) <= 4 && Math.abs(at.y - 0.5 * H) <= 4;
      },
      { what: 'the X pointer at (480, 240)', timeoutMs: 10_000, intervalMs: 100 },
    );

    // Typed text reaches an xterm in the session.
    const file = join(typedDir, 'typed.txt');
    xterm = spawn(
      'xterm',
      ['-geometry', '30x4+0+0', '-e', 'sh', '-c', `read line; printf '%s' "$line" > '${file}'`],
      { env: { ...process.env, DISPLAY: stack.displays[0]!.display }, stdio: 'ignore' },
    );
    const q = await pagePoint(0.1, 0.04);
    await webkit.click(q.x, q.y);
    await waitFor(() => pointer().x < 0.3 * W, {
      what: 'the pointer over the xterm',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await new Promise((r) => setTimeout(r, 1500)); // the xterm maps within a second or so
    await webkit.click(q.x, q.y);
    webkit.type('relay webkit', true);
    await waitFor(() => existsSync(file), {
      what: 'the xterm to write what was typed',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    expect(readFileSync(file, 'utf8')).toBe('relay webkit');

    await webkit.evaluate(`document.querySelector('#connect').click()`); // Disconnect
    await waitFor(async () => (await status()) === 'Not connected', {
      what: 'the viewer to disconnect',
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    await waitFor(() => /relay socket closed/.test(stack.serviceOutput()), {
      what: 'the helper to close its relay socket',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  });
});

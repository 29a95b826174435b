/**
 * The comparison: x11vnc serving the same X display, websockify bridging it to WebSocket and serving
 * Debian's noVNC, and a small page that drives noVNC's RFB client with its defaults. The page is served
 * by websockify itself from a temp dir (noVNC's folders linked in): a page Playwright fulfils has no
 * address, and Chromium's local-network-access check then blocks its WebSocket to 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../../src/demo/x-display.js';

export const NOVNC_DIR = '/usr/share/novnc';

const onPath = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

/** Installs x11vnc, websockify, noVNC (and the e2e packages) through apt when one is missing. */
export function ensureBenchTools(): void {
  const missing =
    !onPath('x11vnc') ||
    !onPath('websockify') ||
    !onPath('Xvfb') ||
    !existsSync('/usr/bin/chromium') ||
    !existsSync(`${NOVNC_DIR}/core/rfb.js`);
  if (!missing) return;
  const script = fileURLToPath(new URL('../../scripts/install-system-deps.sh', import.meta.url));
  const r = spawnSync('bash', [script, 'e2e', 'bench'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`installing the bench's system packages failed (exit ${r.status})`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, what: string, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection({ host, port }, () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface VncStack {
  /** The page to open; it defines `window.__startRfb()` and `window.__stopRfb()`. */
  pageUrl: string;
  pids(): number[];
  output(): string;
  stop(): Promise<void>;
}

/** `host`: the address websockify listens on and the page connects to (default 127.0.0.1). */
export async function startVncStack(display: string, host = '127.0.0.1'): Promise<VncStack> {
  const rfbPort = await freePort();
  const wsPort = await freePort();
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-50_000);
  };
  const children: ChildProcess[] = [];
  const web = mkdtempSync(join(tmpdir(), 'porthole-novnc-'));
  for (const d of ['core', 'vendor']) symlinkSync(join(NOVNC_DIR, d), join(web, d));
  writeFileSync(join(web, 'porthole-e2e.html'), benchPage(host, wsPort));
  const stop = async (): Promise<void> => {
    await Promise.all(children.splice(0).map((c) => stopChild(c, 3000)));
    rmSync(web, { recursive: true, force: true });
  };
  try {
    // x11vnc with its defaults, apart from what a benchmark needs: no password, stay up, loopback only.
    const x11vnc = spawn(
      'x11vnc',
      ['-display', display, '-rfbport', String(rfbPort), '-localhost', '-shared', '-forever', '-nopw'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(x11vnc);
    x11vnc.stdout?.on('data', keep);
    x11vnc.stderr?.on('data', keep);
    await waitForPort(rfbPort, 20_000, 'x11vnc');
    const ws = spawn('websockify', ['--web', web, `${host}:${wsPort}`, `127.0.0.1:${rfbPort}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(ws);
    ws.stdout?.on('data', keep);
    ws.stderr?.on('data', keep);
    await waitForPort(wsPort, 20_000, 'websockify', host);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output}`, { cause: err });
  }
  return {
    pageUrl: `http://${host}:${wsPort}/porthole-e2e.html?e2eProbe=canvas`,
    pids: () => children.map((c) => c.pid ?? -1).filter((p) => p > 0),
    output: () => output,
    stop,
  };
}

function benchPage(host: string, wsPort: number): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>noVNC bench</title></head>
<body style="margin:0;background:#000"><div id="screen"></div>
<script type="module">
import RFB from './core/rfb.js';
window.__startRfb = () => {
  window.__rfb = new RFB(document.getElementById('screen'), 'ws://${host}:${wsPort}/websockify', { shared: true });
};
window.__stopRfb = () => window.__rfb && window.__rfb.disconnect();
window.__rfbReady = true;
</script></body></html>`;
}

/**
 * `porthole service` stays small: a real service process, linked to a test API and serving one X
 * session whose helper it has spawned, has loaded no helper code (capture, encoders, input, WebRTC), no
 * demo stack and no API server. test/fixtures/module-log.mjs records every ES module the process loads;
 * /proc/PID/maps shows the native addons it mapped (CommonJS and addons bypass module hooks).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../src/protocol/api.js';
import { listProcesses } from '../fixtures/processes.js';
import { startTestApi, type TestApi } from '../fixtures/test-api.js';
import { waitFor } from '../fixtures/wait-for.js';
import { startXvfb, type XvfbHandle } from '../fixtures/xvfb.js';

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));
const moduleLog = new URL('../fixtures/module-log.mjs', import.meta.url).href;
const src = new URL('../../src/', import.meta.url).href;
const nodeModules = new URL('../../node_modules/', import.meta.url).href;
const deviceId = 'dev-footprint';
const token = 'footprint-token-0123456789';

/** What the service must never load, each with the reason. */
const FORBIDDEN: { prefix: string; what: string }[] = [
  { prefix: `${src}helper/`, what: 'helper code (capture, encoders, input, WebRTC)' },
  { prefix: `${src}demo/`, what: 'the demo stack' },
  { prefix: `${src}api/server.ts`, what: 'the API server' },
  { prefix: `${nodeModules}node-datachannel/`, what: 'node-datachannel' },
  { prefix: `${nodeModules}@napi-rs/webcodecs/`, what: 'the WebCodecs encoder' },
  { prefix: `${src}service/windows/`, what: 'the Win32 service parts (koffi)' },
  { prefix: `${src}native/win32/`, what: 'Win32 bindings (koffi)' },
];
/** node-datachannel and webcodecs are the helper's; koffi only Windows' (the Linux service needs no FFI). */
const FORBIDDEN_ADDON = /node_datachannel|webcodecs|koffi/;

/** Paths of the native addons (`*.node`) mapped into a process. */
function nativeAddons(pid: number): string[] {
  const paths = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .map((line) => line.split(/\s+/)[5] ?? '')
    .filter((path) => path.endsWith('.node'));
  return [...new Set(paths)];
}

let x: XvfbHandle;
let api: TestApi;
let dir: string;
let service: ChildProcess;
let output = '';
let commandSeq = 0;

async function helperReady(): Promise<boolean> {
  const r = await api.command({ id: `ls-${++commandSeq}`, type: 'list_sessions' });
  if (!r.ok) throw new Error(r.error.message);
  const sessions = (r.result as { sessions: SessionInfo[] }).sessions;
  return sessions.some((s) => s.sessionId === x.displayNumber && s.helperConnected);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'porthole-footprint-'));
  writeFileSync(join(dir, 'token'), token);
  x = await startXvfb({ screens: [{ w: 320, h: 240 }] });
  api = await startTestApi({ deviceId, token });
  writeFileSync(
    join(dir, 'porthole.json'),
    JSON.stringify({ sessions: { pollMs: 300, configured: [{ display: x.display, username: 'alice' }] } }),
  );
  service = spawn(
    process.execPath,
    [
      '--import',
      moduleLog,
      bin,
      'service',
      '--config',
      join(dir, 'porthole.json'),
      '--api-url',
      api.url,
      '--device-id',
      deviceId,
      '--token-file',
      join(dir, 'token'),
    ],
    { env: { ...process.env, PORTHOLE_MODULE_LOG: join(dir, 'modules.txt') }, stdio: 'pipe' },
  );
  service.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  service.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(helperReady, {
    what: 'the service with a ready helper',
    timeoutMs: 40_000,
    intervalMs: 200,
    detail: () => output.slice(-4000),
  });
}, 60_000);

afterAll(async () => {
  if (service && service.exitCode === null && service.signalCode === null) {
    const exited = new Promise((resolve) => service.once('exit', resolve));
    service.kill('SIGTERM');
    await exited;
  }
  await api?.close();
  await x?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the porthole service process', () => {
  it('loads no helper, demo or API-server module while it serves a session with a helper', () => {
    const loaded = readFileSync(join(dir, 'modules.txt'), 'utf8').split('\n').filter(Boolean);
    // The log holds the service's own modules: an empty log would prove nothing.
    expect(loaded).toContain(`${src}service/broker.ts`);
    expect(loaded).toContain(`${src}service/api-link.ts`);
    const found = loaded.flatMap((url) =>
      FORBIDDEN.filter((f) => url.startsWith(f.prefix)).map((f) => `${f.what}: ${url}`),
    );
    expect(found).toEqual([]);
  });

  it('maps no WebRTC or encoder addon, which its helper does map', () => {
    expect(nativeAddons(service.pid as number).filter((p) => FORBIDDEN_ADDON.test(p))).toEqual([]);
    const [helper] = listProcesses(
      (argv) => argv.includes('helper') && argv[argv.indexOf('--session') + 1] === String(x.displayNumber),
    );
    expect(helper).toBeDefined();
    expect(nativeAddons(helper?.pid as number).some((p) => FORBIDDEN_ADDON.test(p))).toBe(true);
  });
});

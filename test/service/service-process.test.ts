/**
 * The real thing: a `porthole service` process with real helper processes in two X sessions (two
 * Xvfb displays), driven by a test API over WebSocket, and a node-datachannel offerer as the viewer.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../src/protocol/api.js';
import { childPids, isAlive, listProcesses, udpPortsOf } from '../fixtures/processes.js';
import { waitFor } from '../fixtures/wait-for.js';
import { startTestApi, type TestApi } from '../fixtures/test-api.js';
import { connectTestOfferer, createTestOfferer } from '../fixtures/webrtc-offerer.js';
import { startXvfb, type XvfbHandle } from '../fixtures/xvfb.js';

const bin = fileURLToPath(new URL('../../bin/porthole.js', import.meta.url));
const token = 'test-token-0123456789abcdef';
const deviceId = 'dev-1';

let x1: XvfbHandle;
let x2: XvfbHandle;
let api: TestApi;
let dir: string;
let cmdSeq = 0;

interface Service {
  child: ChildProcess;
  output: () => string;
}

/** Every service a test started: killed after the file, so a failing test leaves no process behind. */
const started: ChildProcess[] = [];

function startService(config: object): Service {
  const configPath = join(dir, `porthole-${++cmdSeq}.json`);
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(
    process.execPath,
    [
      bin,
      'service',
      '--config',
      configPath,
      '--api-url',
      api.url,
      '--device-id',
      deviceId,
      '--token-file',
      join(dir, 'token'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  started.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/**
 * The helpers `svc` runs for a display: its children only. Matching the command line alone would also
 * count a helper of an earlier service of this file still on its way out on a loaded machine.
 */
const helperPids = (svc: Service, display: number): number[] => {
  const children = new Set(svc.child.pid === undefined ? [] : childPids(svc.child.pid));
  return listProcesses(
    (argv) => argv.includes('helper') && argv[argv.indexOf('--session') + 1] === String(display),
  )
    .map((p) => p.pid)
    .filter((pid) => children.has(pid));
};

async function sessions(): Promise<SessionInfo[]> {
  const r = await api.command({ id: `ls-${++cmdSeq}`, type: 'list_sessions' });
  if (!r.ok) throw new Error(r.error.message);
  return (r.result as { sessions: SessionInfo[] }).sessions;
}

const sessionOf = async (id: number): Promise<SessionInfo | undefined> =>
  (await sessions()).find((s) => s.sessionId === id);

function baseConfig(extra: object = {}): object {
  return {
    logLevel: 'debug',
    sessions: {
      pollMs: 300,
      configured: [
        { display: x1.display, username: 'alice' },
        { display: x2.display, username: 'bob' },
      ],
      ...extra,
    },
    policy: {
      maxFailures: 3,
      failureWindowMs: 60_000,
      backoffBaseMs: 100,
      backoffMaxMs: 400,
      stopGraceMs: 2000,
    },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'porthole-svc-'));
  writeFileSync(join(dir, 'token'), token);
  [x1, x2] = await Promise.all([
    startXvfb({ screens: [{ w: 320, h: 240 }] }),
    startXvfb({ screens: [{ w: 320, h: 240 }] }),
  ]);
  api = await startTestApi({ deviceId, token });
}, 30_000);

afterAll(async () => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await api?.close();
  await Promise.all([x1?.stop(), x2?.stop()]);
});

describe('porthole service with real helpers in two X sessions', () => {
  let svc: Service;

  beforeAll(async () => {
    svc = startService(baseConfig({ affinity: ['bob'] }));
    await api.agent();
    await waitFor(async () => (await sessions()).filter((s) => s.helperConnected).length === 2, {
      what: 'two ready helpers',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  }, 60_000);

  afterAll(() => {
    if (svc.child.exitCode === null) svc.child.kill('SIGKILL');
  });

  it('lists both sessions with their users and a connected helper', async () => {
    const list = await sessions();
    expect(list.map((s) => [s.sessionId, s.username, s.type, s.helperState])).toEqual(
      [
        [x1.displayNumber, 'alice', 'x11', 'ready'],
        [x2.displayNumber, 'bob', 'x11', 'ready'],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
  });

  it('routes start_desktop to the target session’s helper, whose DataChannels then open', async () => {
    const { viewer, deskId } = await connectTestOfferer(
      async (offer) => {
        const id = 'desk-1';
        const r = await api.command({
          id: `start-${id}`,
          type: 'start_desktop',
          payload: { sessionId: id, offer, iceServers: [], targetSessionId: x1.displayNumber },
        });
        if (!r.ok) throw new Error(r.error.message);
        const { answer } = r.result as { answer: string };
        // The answer's candidates are UDP ports owned by the helper of session x1, not of x2.
        const ports = [...answer.matchAll(/a=candidate:\S+ \d+ UDP \d+ \S+ (\d+) typ/gi)].map((m) =>
          Number(m[1]),
        );
        expect(ports.length).toBeGreaterThan(0);
        const [pid1] = helperPids(svc, x1.displayNumber);
        const [pid2] = helperPids(svc, x2.displayNumber);
        expect(ports.some((p) => udpPortsOf(pid1 as number).has(p))).toBe(true);
        expect(ports.some((p) => udpPortsOf(pid2 as number).has(p))).toBe(false);
        const dispose = () =>
          api.command({ id: `stop-${id}`, type: 'stop_desktop', payload: { sessionId: id } });
        return { answer, deskId: id, dispose };
      },
      { readyTimeoutMs: 15_000 },
    );
    try {
      expect(viewer.channels.input.isOpen()).toBe(true);
      const stop = await api.command({
        id: 'stop-1',
        type: 'stop_desktop',
        payload: { sessionId: deskId },
      });
      expect(stop).toMatchObject({ ok: true, result: { sessionId: deskId, stopped: true } });
    } finally {
      viewer.close();
    }
  });

  it('sends a start_desktop without targetSessionId to the affinity user’s session', async () => {
    const viewer = await createTestOfferer();
    try {
      const r = await api.command({
        id: 'start-2',
        type: 'start_desktop',
        payload: { sessionId: 'desk-2', offer: viewer.offer, iceServers: [] },
      });
      if (!r.ok) throw new Error(r.error.message);
      const ports = [...(r.result as { answer: string }).answer.matchAll(/ UDP \d+ \S+ (\d+) typ/gi)].map(
        (m) => Number(m[1]),
      );
      const [bobPid] = helperPids(svc, x2.displayNumber);
      expect(ports.some((p) => udpPortsOf(bobPid as number).has(p))).toBe(true);
      await api.command({ id: 'stop-2', type: 'stop_desktop', payload: { sessionId: 'desk-2' } });
    } finally {
      viewer.close();
    }
  });

  it('answers an unknown target session with no_such_session', async () => {
    const viewer = await createTestOfferer();
    const r = await api.command({
      id: 'start-3',
      type: 'start_desktop',
      payload: { sessionId: 'desk-3', offer: viewer.offer, iceServers: [], targetSessionId: 4242 },
    });
    viewer.close();
    expect(r).toMatchObject({ ok: false, error: { code: 'no_such_session' } });
  });

  it('answers 20 kinds of malformed commands with errors and stays up', async () => {
    const offer = 'v=0\r\n';
    const bad: unknown[] = [
      'not json',
      '[]',
      '42',
      'null',
      { type: 'list_sessions' },
      { id: 'b1' },
      { id: 'b2', type: 'reboot' },
      { id: 'b3', type: 'list_sessions', extra: true },
      { id: 'b4', type: 'start_desktop' },
      { id: 'b5', type: 'start_desktop', payload: { sessionId: 'x', iceServers: [] } },
      { id: 'b6', type: 'start_desktop', payload: { sessionId: 'x', offer: 'nope', iceServers: [] } },
      { id: 'b7', type: 'start_desktop', payload: { sessionId: '', offer, iceServers: [] } },
      { id: 'b8', type: 'start_desktop', payload: { sessionId: 'x', offer, iceServers: 'stun:x' } },
      {
        id: 'b9',
        type: 'start_desktop',
        payload: { sessionId: 'x', offer, iceServers: [{ urls: 'ftp://x' }] },
      },
      {
        id: 'b10',
        type: 'start_desktop',
        payload: { sessionId: 'x', offer, iceServers: [], targetSessionId: -5 },
      },
      {
        id: 'b11',
        type: 'start_desktop',
        payload: { sessionId: 'x', offer, iceServers: [], displayIndex: 1e9 },
      },
      { id: 'b12', type: 'start_desktop', payload: { sessionId: 'x'.repeat(300), offer, iceServers: [] } },
      { id: 'b13', type: 'stop_desktop', payload: {} },
      { id: 'b14', type: 'stop_desktop', payload: { sessionId: 7 } },
      {
        id: 'b15',
        type: 'start_desktop',
        payload: { sessionId: 'x', offer: 'v=0' + 'a'.repeat(70_000), iceServers: [] },
      },
    ];
    expect(bad).toHaveLength(20);
    for (const cmd of bad) {
      const r = await api.raw(typeof cmd === 'string' ? cmd : JSON.stringify(cmd));
      expect(r.ok, JSON.stringify(cmd).slice(0, 80)).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('bad_request');
    }
    expect(svc.child.exitCode).toBeNull();
    expect((await sessions()).length).toBe(2);
  });

  it('reconnects after the API link is cut, without spawning helpers again', async () => {
    const before = [...helperPids(svc, x1.displayNumber), ...helperPids(svc, x2.displayNumber)].sort();
    const connections = api.connections;
    (await api.agent()).terminate();
    await waitFor(() => api.connections > connections, {
      what: 'the agent to reconnect',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    expect((await sessions()).filter((s) => s.helperConnected)).toHaveLength(2);
    expect([...helperPids(svc, x1.displayNumber), ...helperPids(svc, x2.displayNumber)].sort()).toEqual(
      before,
    );
  });

  it('respawns a killed helper, and after the cap marks the session failed', async () => {
    const [first] = helperPids(svc, x2.displayNumber);
    process.kill(first as number, 'SIGKILL');
    const second = await waitFor(
      () => {
        const p = helperPids(svc, x2.displayNumber).find((x) => x !== first);
        return p;
      },
      { what: 'a respawned helper', timeoutMs: 15_000, intervalMs: 100 },
    );
    await waitFor(async () => (await sessionOf(x2.displayNumber))?.helperState === 'ready', {
      what: 'ready again',
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    // Two more kills reach the cap of 3 failures in the window.
    let victim: number | undefined = second;
    for (let i = 0; i < 2; i++) {
      const v = victim as number;
      await waitFor(async () => (await sessionOf(x2.displayNumber))?.helperState === 'ready', {
        what: 'ready',
        timeoutMs: 20_000,
        intervalMs: 100,
      });
      process.kill(v, 'SIGKILL');
      await waitFor(() => !isAlive(v), { what: 'helper to die', timeoutMs: 5000, intervalMs: 100 });
      victim = await waitFor(
        () => helperPids(svc, x2.displayNumber).find((x) => x !== v) ?? (i === 1 ? -1 : undefined),
        { what: 'next helper', timeoutMs: 15_000, intervalMs: 100 },
      );
    }
    const failed = await waitFor(
      async () => {
        const s = await sessionOf(x2.displayNumber);
        return s?.helperState === 'failed' ? s : undefined;
      },
      { what: 'failed state', timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(failed.helperConnected).toBe(false);
    expect(failed.lastError).toMatch(/SIGKILL/);
    expect(helperPids(svc, x2.displayNumber)).toEqual([]);
    // The other session is untouched.
    expect((await sessionOf(x1.displayNumber))?.helperState).toBe('ready');
  }, 90_000);

  it('stops every helper when the service is stopped', async () => {
    const pids = [...helperPids(svc, x1.displayNumber), ...helperPids(svc, x2.displayNumber)];
    expect(pids.length).toBeGreaterThan(0);
    svc.child.kill('SIGTERM');
    const code = await new Promise((r) => svc.child.once('exit', r));
    expect(code).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  }, 20_000);
});

describe('porthole service killed with SIGKILL', () => {
  it('leaves no helper and no encoder behind while a desktop is streaming', async () => {
    // The helper used to log "helper stopping" and keep running, with node-datachannel's threads and
    // ffmpeg alive, for 5 to 20 s and more.
    const svc = startService(baseConfig());
    await waitFor(async () => (await sessionOf(x1.displayNumber))?.helperState === 'ready', {
      what: 'a ready helper',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    let packets = 0;
    const { viewer } = await connectTestOfferer(async (offer, v) => {
      v.onRtp(() => (packets += 1));
      const id = 'desk-kill';
      const r = await api.command({
        id: `start-${id}`,
        type: 'start_desktop',
        payload: { sessionId: id, offer, iceServers: [], targetSessionId: x1.displayNumber },
      });
      if (!r.ok) throw new Error(r.error.message);
      return { answer: (r.result as { answer: string }).answer };
    });
    await waitFor(() => packets > 10, { what: 'video to flow', timeoutMs: 15_000 });
    const helpers = helperPids(svc, x1.displayNumber);
    expect(helpers).toHaveLength(1);
    const encoders = helpers.flatMap(childPids);
    expect(encoders.length).toBeGreaterThan(0);
    svc.child.kill('SIGKILL');
    await waitFor(() => [...helpers, ...encoders].every((p) => !isAlive(p)), {
      what: 'the helper and its encoders to exit (promised within 1 s)',
      timeoutMs: 3000,
      intervalMs: 50,
    });
    viewer.close();
  }, 60_000);

  it('leaves no helper behind: each notices its channel closing and exits', async () => {
    const svc = startService(baseConfig());
    await waitFor(async () => (await sessions()).filter((s) => s.helperConnected).length === 2, {
      what: 'two helpers',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const pids = [...helperPids(svc, x1.displayNumber), ...helperPids(svc, x2.displayNumber)];
    expect(pids).toHaveLength(2);
    svc.child.kill('SIGKILL');
    await waitFor(() => pids.every((p) => !isAlive(p)), {
      what: 'helpers to exit',
      timeoutMs: 5000,
      intervalMs: 100,
    });
  }, 60_000);
});

describe('helper identity', () => {
  it('runs the helper as the session user when the service is root', async () => {
    if (process.getuid?.() !== 0) return; // only root can drop to another user
    const svc = startService({
      sessions: {
        pollMs: 300,
        configured: [{ display: x1.display, username: 'nobody', uid: 65534, gid: 65534 }],
      },
    });
    try {
      await waitFor(async () => (await sessions()).some((s) => s.helperConnected), {
        what: 'a ready helper',
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      const [pid] = helperPids(svc, x1.displayNumber);
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe('65534');
      expect(/^Gid:\s+(\d+)/m.exec(status)?.[1]).toBe('65534');
    } finally {
      svc.child.kill('SIGTERM');
      await new Promise((r) => svc.child.once('exit', r));
    }
  }, 60_000);

  it('refuses to run a helper without a broker secret on stdin', () => {
    const r = spawnSync(process.execPath, [bin, 'helper', '--session', '1', '--helper-id', 'h1'], {
      input: '',
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to run without a broker secret on stdin/);
  });
});

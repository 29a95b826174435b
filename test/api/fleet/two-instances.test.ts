/**
 * Two `porthole api serve` processes on one PostgreSQL database and one Redis, as behind a load
 * balancer: a viewer reaches one instance, the agent is held by the other. Fake agents (real `ws`
 * clients from test/api/harness.ts) answer the commands.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiLinkHeaders } from '../../../src/protocol/api-version.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { ANSWER, OFFER, connectAgent, failed, healthyAgent, ok, type Command } from '../harness.js';
import { call, openFleetDb, startApiProcess, type ApiProcess, type FleetDb } from './instances.js';

const adminUrl = inject('pgAdminUrl');
const redisUrl = inject('redisUrl');
const bin = fileURLToPath(new URL('../../../bin/porthole.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!adminUrl || !redisUrl)('two API instances sharing PostgreSQL and Redis', () => {
  let fleet: FleetDb;
  let a: ApiProcess;
  let b: ApiProcess;
  let viewer: string;
  let device: { id: string; token: string };

  beforeAll(async () => {
    fleet = await openFleetDb(adminUrl);
    const env = { database: fleet.db.url, redis: redisUrl };
    [a, b] = await Promise.all([
      startApiProcess(env, ['--command-timeout', '1000']),
      startApiProcess(env, ['--command-timeout', '1000']),
    ]);
    viewer = (await fleet.backend.store.issueViewerToken('alice')).token;
    const added = await fleet.backend.store.addDevice('front desk');
    device = { id: added.device.id, token: added.token };
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fleet?.close();
  });

  const desktop = () => `/api/devices/${device.id}/desktop`;

  it('relays start_desktop, list_sessions and stop_desktop to the instance holding the agent', async () => {
    // A current agent (it announces its features): the payload keeps the viewer's name.
    const agent = await connectAgent(a, device, healthyAgent, { headers: apiLinkHeaders() });
    try {
      const listed = await call(b.url, viewer, 'GET', '/api/devices');
      expect(listed.body.devices).toMatchObject([{ id: device.id, online: true }]);

      const started = await call(b.url, viewer, 'POST', desktop(), { offer: OFFER });
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      expect(started.body.answer).toBe(ANSWER);
      const sessions = await call(b.url, viewer, 'GET', `/api/devices/${device.id}/sessions`);
      expect(sessions.status).toBe(200);
      expect(sessions.body.sessions[0].username).toBe('alice');
      const stopped = await call(b.url, viewer, 'DELETE', `${desktop()}/${started.body.sessionId}`);
      expect(stopped.body).toEqual({ sessionId: started.body.sessionId, stopped: true });

      // Each command reached the agent once, with the viewer's name, as a local command would.
      expect(agent.commands.map((c) => c.type)).toEqual(['start_desktop', 'list_sessions', 'stop_desktop']);
      expect(new Set(agent.commands.map((c) => c.id)).size).toBe(3);
      expect(agent.commands[0]?.payload).toMatchObject({
        sessionId: started.body.sessionId,
        viewer: { name: 'alice' },
      });
    } finally {
      await agent.close();
    }
  });

  it('answers relayed failures with the same status, code and Retry-After as local ones', async () => {
    const agent = await connectAgent(a, device, (cmd) => ({
      id: cmd.id,
      type: 'result',
      ok: false,
      error: { code: 'too_many_viewers', message: 'two viewers already', retryAfterMs: 4_000 },
    }));
    try {
      const [local, relayed] = await Promise.all([
        call(a.url, viewer, 'POST', desktop(), { offer: OFFER }),
        call(b.url, viewer, 'POST', desktop(), { offer: OFFER }),
      ]);
      for (const r of [local, relayed]) {
        expect(r.status).toBe(503);
        expect(r.headers.get('retry-after')).toBe('4');
        expect(r.body.error).toEqual({ code: 'too_many_viewers', message: 'two viewers already' });
      }
      agent.respond = (cmd) => failed(cmd, 'no_such_session', 'no session 9');
      const missing = await call(b.url, viewer, 'POST', desktop(), { offer: OFFER, targetSessionId: 9 });
      expect([missing.status, missing.body.error.code]).toEqual([404, 'no_such_session']);

      // A silent agent: the owner's deadline (1 s) answers 504 timeout, relayed once.
      agent.respond = () => undefined;
      const silent = await call(b.url, viewer, 'GET', `/api/devices/${device.id}/sessions`);
      expect([silent.status, silent.body.error.code]).toEqual([504, 'timeout']);
    } finally {
      await agent.close();
    }
    // No agent anywhere: 409 device_offline from either instance.
    await waitFor(
      async () => (await call(b.url, viewer, 'GET', '/api/devices')).body.devices[0].online === false,
      {
        what: 'the device to show offline once its agent left',
      },
    );
    for (const base of [a.url, b.url]) {
      const r = await call(base, viewer, 'POST', desktop(), { offer: OFFER });
      expect([r.status, r.body.error.code]).toEqual([409, 'device_offline']);
    }
  });

  it('waits for a consent prompt across instances as long as it does locally', async () => {
    const agent = await connectAgent(a, device, undefined, { headers: apiLinkHeaders() });
    agent.respond = async (cmd: Command) => {
      // The prompt lasts up to 3 s; the person accepts after 2.5 s, past the 1 s command timeout and
      // past the requester's own first deadline (1 s + its 2 s margin).
      agent.ws.send(JSON.stringify({ type: 'waiting', id: cmd.id, for: 'consent', timeoutMs: 3000 }));
      await sleep(3500);
      return ok(cmd, { sessionId: cmd.payload.sessionId, answer: ANSWER });
    };
    try {
      const r = await call(b.url, viewer, 'POST', desktop(), { offer: OFFER });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(agent.commands).toHaveLength(1);
    } finally {
      await agent.close();
    }
  });

  it('lets the newer connection win: the other instance drops its stale one', async () => {
    const first = await connectAgent(a, device, healthyAgent);
    const second = await connectAgent(b, device, healthyAgent);
    try {
      expect(await first.closed).toEqual({ code: 4000, reason: 'replaced' });
      // Through the instance that lost it, a command goes to the agent on the other.
      const r = await call(a.url, viewer, 'GET', `/api/devices/${device.id}/sessions`);
      expect(r.status).toBe(200);
      expect(first.commands).toHaveLength(0);
      expect(second.commands).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('closes a removed device’s agent on its instance at once when the admin command publishes it', async () => {
    const other = await fleet.backend.store.addDevice('to remove');
    const agent = await connectAgent(a, { id: other.device.id, token: other.token }, healthyAgent);
    const cli = spawn(process.execPath, [bin, 'api', 'device', 'remove', other.device.id], {
      env: { ...process.env, PORTHOLE_API_DATABASE: fleet.db.url, PORTHOLE_REDIS_URL: redisUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const status = await new Promise<number | null>((r) => cli.once('close', r));
    expect(status, out).toBe(0);
    expect(out).not.toContain(new URL(redisUrl).password);
    expect(await agent.closed).toEqual({ code: 4001, reason: 'device removed' });
    // The revocation event closed it, not the 15 s heartbeat.
    await waitFor(() => a.output().includes('device removed: closing its agent'), {
      what: 'instance A to log the revocation',
    });
  });

  it('refuses a revoked viewer token on every instance from the next request', async () => {
    const bob = (await fleet.backend.store.issueViewerToken('bob')).token;
    expect((await call(a.url, bob, 'GET', '/api/devices')).status).toBe(200);
    expect((await call(b.url, bob, 'GET', '/api/devices')).status).toBe(200);
    await fleet.backend.store.revokeViewerTokens('bob');
    expect((await call(a.url, bob, 'GET', '/api/devices')).status).toBe(401);
    expect((await call(b.url, bob, 'GET', '/api/devices')).status).toBe(401);
  });

  it('lets a one-time login token sign in once across both instances', async () => {
    const login = await fleet.backend.store.issueViewerToken('carol', { once: true, ttlMs: 600_000 });
    const tries = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fetch(`${(i % 2 ? a : b).url}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token: login.token }),
        }).then((r) => r.status),
      ),
    );
    expect(tries.filter((s) => s === 200)).toHaveLength(1);
    expect(tries.filter((s) => s === 401)).toHaveLength(7);
  });

  it('never shows the Redis or database password in its output', () => {
    for (const p of [a, b]) {
      expect(p.output()).not.toContain(new URL(redisUrl).password);
      expect(p.output()).not.toContain(new URL(fleet.db.url).password);
    }
  });
});

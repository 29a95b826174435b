/**
 * Redis down and back, on a Redis of this file's own (stopping the run's shared one would break the
 * other files): agents held by an instance keep working, a command that needs a relay is answered
 * 503 `routing_unavailable` with Retry-After, and routing resumes by itself when Redis is back (empty,
 * as it restarts without persistence), once the heartbeat has claimed the agents again.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../../src/api/server.js';
import { findRedisServer, startPrivateRedis, type PrivateRedis } from '../../fixtures/redis.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { connectAgent, healthyAgent, type FakeAgent } from '../harness.js';
import { call } from './instances.js';

describe.skipIf(!findRedisServer())('the API instances when Redis goes down and comes back', () => {
  let redis: PrivateRedis;
  let a: ApiServer;
  let b: ApiServer;
  let agent: FakeAgent;
  let viewer: string;
  let path: string;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const dir = mkdtempSync(join(tmpdir(), 'porthole-redis-outage-'));
    const o = { dataDir: dir, redis: redis.url, port: 0, staticDir: join(dir, 'no'), heartbeatMs: 300 };
    [a, b] = await Promise.all([startApiServer(o), startApiServer(o)]);
    const device = await a.addDevice('box');
    viewer = await a.issueViewerToken('hana');
    agent = await connectAgent(a, device, healthyAgent);
    path = `/api/devices/${device.id}/sessions`;
    await waitFor(async () => (await call(b.url, viewer, 'GET', path)).status === 200, {
      what: 'the relay to work before the outage',
    });
  });
  afterAll(async () => {
    await agent?.close();
    await Promise.all([a?.close(), b?.close()]);
    await redis?.destroy();
  });

  it('answers relayed commands 503 routing_unavailable while local agents keep working', async () => {
    await redis.stop();
    const relayed = await call(b.url, viewer, 'GET', path);
    expect([relayed.status, relayed.body.error?.code]).toEqual([503, 'routing_unavailable']);
    expect(relayed.headers.get('retry-after')).toBe('2');
    expect((await call(a.url, viewer, 'GET', path)).status).toBe(200);
    // The device list still answers, from what this instance holds.
    const listed = await call(a.url, viewer, 'GET', '/api/devices');
    expect(listed.body.devices[0].online).toBe(true);
  });

  it('relays again once Redis is back and the heartbeat has claimed the agent again', async () => {
    await redis.start();
    await waitFor(async () => (await call(b.url, viewer, 'GET', path)).status === 200, {
      what: 'the relay to work again after Redis came back',
      timeoutMs: 20_000,
    });
    expect(agent.ws.readyState).toBe(agent.ws.OPEN);
  });
});

/**
 * Two in-process API instances on one JSON data dir with Redis: the one-time login token is spent
 * once through Redis' SET NX (src/api/redis/once-guard.ts) before the store is asked, and a command
 * is relayed between them as on PostgreSQL.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { startApiServer, type ApiServer } from '../../../src/api/server.js';
import { ownerKey } from '../../../src/api/redis/ownership.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { connectAgent, healthyAgent } from '../harness.js';
import { call } from './instances.js';

const redisUrl = inject('redisUrl');

describe.skipIf(!redisUrl)('two instances on a JSON store with Redis', () => {
  let a: ApiServer;
  let b: ApiServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-json-fleet-'));
    // A short heartbeat, so the ownership repairs below happen within the test.
    const o = { dataDir: dir, redis: redisUrl, port: 0, staticDir: join(dir, 'no-viewer'), heartbeatMs: 200 };
    [a, b] = await Promise.all([startApiServer(o), startApiServer(o)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('signs a one-time login token in once across both instances', async () => {
    for (let round = 0; round < 3; round++) {
      const token = await a.issueLoginToken(`carol${round}`);
      const statuses = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          fetch(`${(i % 2 ? a : b).url}/api/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ token }),
          }).then((r) => r.status),
        ),
      );
      expect(statuses.sort()).toEqual([200, 401, 401, 401, 401, 401]);
    }
  });

  it('relays a command to the instance holding the agent', async () => {
    const device = await a.addDevice('json box');
    const viewer = await a.issueViewerToken('dave');
    const agent = await connectAgent(a, device, healthyAgent);
    try {
      const r = await call(b.url, viewer, 'GET', `/api/devices/${device.id}/sessions`);
      expect(r.status).toBe(200);
      expect(agent.commands).toHaveLength(1);
      expect(a.agentCount()).toBe(1);
      expect(b.agentCount()).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it('claims its agents again at the next heartbeat after Redis lost their keys', async () => {
    const device = await a.addDevice('lost key');
    const viewer = await a.issueViewerToken('gina');
    const agent = await connectAgent(a, device, healthyAgent);
    const redis = new Redis(redisUrl);
    try {
      await waitFor(async () => (await redis.get(ownerKey(device.id))) === a.instanceId, {
        what: 'the claim',
      });
      // As after a Redis restart without persistence.
      await redis.del(ownerKey(device.id));
      await waitFor(async () => (await redis.get(ownerKey(device.id))) === a.instanceId, {
        what: 'the heartbeat to claim the device again',
      });
      expect((await call(b.url, viewer, 'GET', `/api/devices/${device.id}/sessions`)).status).toBe(200);
    } finally {
      redis.disconnect();
      await agent.close();
    }
  });

  it('drops an agent whose key names another instance at the next heartbeat (a lost takeover)', async () => {
    const device = await a.addDevice('taken');
    const agent = await connectAgent(a, device, healthyAgent);
    const redis = new Redis(redisUrl);
    try {
      await waitFor(async () => (await redis.get(ownerKey(device.id))) === a.instanceId, {
        what: 'the claim',
      });
      await redis.set(ownerKey(device.id), b.instanceId, 'PX', 60_000);
      expect(await agent.closed).toEqual({ code: 4000, reason: 'replaced' });
      expect(a.agentCount()).toBe(0);
      // B's key stays: A's release is a compare-and-delete.
      expect(await redis.get(ownerKey(device.id))).toBe(b.instanceId);
    } finally {
      redis.disconnect();
    }
  });
});

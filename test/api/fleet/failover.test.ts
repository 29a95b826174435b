/**
 * An API instance killed with SIGKILL: an agent given both instances' URLs (the real ApiLink, with a
 * fake command handler) reconnects to the survivor within its backoff and its commands work there;
 * a command caught in the crash is answered once (504), never run twice; an agent that does not come
 * back is reported offline, and no device is online on two instances.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApiLink } from '../../../src/service/api-link.js';
import type { ApiCommand } from '../../../src/protocol/api.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { ANSWER, OFFER, connectAgent, healthyAgent } from '../harness.js';
import { call, openFleetDb, startApiProcess, type ApiProcess, type FleetDb } from './instances.js';

const adminUrl = inject('pgAdminUrl');
const redisUrl = inject('redisUrl');
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe.skipIf(!adminUrl || !redisUrl)('failover after one instance is killed', () => {
  let fleet: FleetDb;
  let a: ApiProcess;
  let b: ApiProcess;
  let link: ApiLink;
  let viewer: string;

  beforeAll(async () => {
    fleet = await openFleetDb(adminUrl);
    const env = { database: fleet.db.url, redis: redisUrl };
    [a, b] = await Promise.all([
      startApiProcess(env, ['--command-timeout', '1000']),
      startApiProcess(env, ['--command-timeout', '1000']),
    ]);
    viewer = (await fleet.backend.store.issueViewerToken('alice')).token;
  });
  afterAll(async () => {
    await link?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
    await fleet?.close();
  });

  it('moves the agent to the surviving instance and answers every command once', async () => {
    const added = await fleet.backend.store.addDevice('roaming');
    const id = added.device.id;
    // Commands the agent ran, by command id: a command run twice would show up here.
    const runs = new Map<string, number>();
    let hold = false;
    link = new ApiLink({
      url: a.agentUrl,
      urls: [a.agentUrl, b.agentUrl],
      deviceId: id,
      token: added.token,
      log: quiet,
      backoffBaseMs: 200,
      backoffMaxMs: 2000,
      handler: async (cmd: ApiCommand) => {
        runs.set(cmd.id, (runs.get(cmd.id) ?? 0) + 1);
        if (hold) await new Promise(() => {}); // caught in the crash: never answers
        switch (cmd.type) {
          case 'start_desktop':
          case 'add_peer':
            return { sessionId: cmd.payload.sessionId, answer: ANSWER };
          case 'stop_desktop':
            return { sessionId: cmd.payload.sessionId, stopped: true };
          case 'list_sessions':
            return { sessions: [] };
        }
      },
    });
    link.start();
    await waitFor(() => link.connected, { what: 'the agent to connect to instance A' });
    // A second agent that will not reconnect: its device must end up offline, not stuck online.
    const stay = await fleet.backend.store.addDevice('stays down');
    await connectAgent(a, { id: stay.device.id, token: stay.token }, healthyAgent);

    const before = await call(b.url, viewer, 'POST', `/api/devices/${id}/desktop`, { offer: OFFER });
    expect(before.status, JSON.stringify(before.body)).toBe(200);

    // A command relayed through B to A is in flight when A dies.
    hold = true;
    const caught = call(b.url, viewer, 'POST', `/api/devices/${id}/desktop`, { offer: OFFER });
    await waitFor(() => runs.size === 2, { what: 'the second command to reach the agent' });
    const killedAt = Date.now();
    await a.kill();
    hold = false;

    await waitFor(() => link.connected && link.url === b.agentUrl, {
      what: 'the agent to reconnect to instance B',
      timeoutMs: 15_000,
    });
    const reconnectMs = Date.now() - killedAt;
    const lost = await caught;
    expect([lost.status, lost.body.error?.code]).toEqual([504, 'timeout']);

    const after = await call(b.url, viewer, 'POST', `/api/devices/${id}/desktop`, { offer: OFFER });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(runs.size).toBe(3);

    // The agent that stayed down: B finds its owner gone, answers device_offline and forgets the key.
    const offline = await call(b.url, viewer, 'GET', `/api/devices/${stay.device.id}/sessions`);
    expect([offline.status, offline.body.error.code]).toEqual([409, 'device_offline']);
    const listed = await call(b.url, viewer, 'GET', '/api/devices');
    const online = Object.fromEntries(
      (listed.body.devices as { id: string; online: boolean }[]).map((d) => [d.id, d.online]),
    );
    expect(online).toEqual({ [id]: true, [stay.device.id]: false });
    console.log(`fleet failover: agent back on the surviving instance ${reconnectMs} ms after SIGKILL`);
  });
});

/**
 * The agent's API link with several endpoints (API instances without a load balancer): after each
 * failed or closed attempt it waits its usual backoff delay, on a fake clock here, and tries the next
 * endpoint, wrapping around. Real WebSocket servers on loopback play the instances.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiLink } from '../../src/service/api-link.js';
import { FakeClock } from '../fixtures/fake-clock.js';
import { waitFor } from '../fixtures/wait-for.js';
import { recordingLogger } from './sessions/recording-logger.js';

interface Instance {
  url: string;
  name: string;
  sockets: WebSocket[];
  /** Closes the server and cuts its agents, as a killed process would. */
  kill(): Promise<void>;
}

async function startInstance(name: string): Promise<Instance> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => {
      const cmd = JSON.parse(data.toString()) as { id: string };
      // The reply names the instance, so the test sees which one answered.
      ws.send(JSON.stringify({ id: cmd.id, type: 'result', ok: true, result: { sessions: [] }, name }));
    });
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/api/agent`,
    name,
    sockets,
    kill: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

/** A URL on which nothing listens (a dead instance). */
async function deadUrl(): Promise<string> {
  const i = await startInstance('dead');
  await i.kill();
  return i.url;
}

describe('ApiLink rotates through its API URLs within its backoff', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function link(urls: string[], clock: FakeClock, log = recordingLogger()) {
    const l = new ApiLink({
      url: urls[0] ?? '',
      urls,
      deviceId: 'dev-1',
      token: 'token-that-is-long-enough',
      handler: async () => ({ sessions: [] }),
      log,
      backoffBaseMs: 1000,
      backoffMaxMs: 8000,
      stableAfterMs: 10_000,
      timers: clock,
      // Half jitter at its top: each delay is exactly the ceiling.
      random: () => 1,
    });
    cleanups.push(() => l.stop());
    return l;
  }

  it('tries the next URL after the backoff delay when the first instance is down', async () => {
    const dead = await deadUrl();
    const b = await startInstance('b');
    cleanups.push(() => b.kill());
    const clock = new FakeClock();
    const log = recordingLogger();
    const l = link([dead, b.url], clock, log);
    l.start();
    await waitFor(() => clock.pending.includes(1000), { what: 'the failed attempt to schedule the next' });
    const failed = log.entries.find((e) => e.level === 'warn');
    expect(failed?.obj).toMatchObject({ delayMs: 1000, next: b.url });
    // Nothing moves before the delay has passed on the clock.
    await clock.advance(999);
    expect(b.sockets).toHaveLength(0);
    await clock.advance(1);
    await waitFor(() => l.connected, { what: 'the link to connect to the second instance' });
    expect(b.sockets).toHaveLength(1);
    expect(l.url).toBe(b.url);
  });

  it('moves to the other instance when the one it held dies, and wraps around the list', async () => {
    const a = await startInstance('a');
    const b = await startInstance('b');
    cleanups.push(() => b.kill());
    const clock = new FakeClock();
    const log = recordingLogger();
    const l = link([a.url, b.url], clock, log);
    l.start();
    await waitFor(() => l.connected, { what: 'the link to connect to the first instance' });
    expect(a.sockets).toHaveLength(1);
    await clock.advance(10_000); // the link held: the backoff starts again from the base

    await a.kill();
    await waitFor(() => !l.connected && clock.pending.includes(1000), { what: 'the cut to be noticed' });
    await clock.advance(1000);
    await waitFor(() => l.connected, { what: 'the link to fail over to the second instance' });
    expect(b.sockets).toHaveLength(1);

    // The second dies too before the link held: the next attempt goes back to the first URL (dead),
    // then on to the second, each after a longer delay.
    await b.kill();
    await waitFor(() => clock.pending.includes(2000), { what: 'the second cut to be noticed' });
    await clock.advance(2000);
    await waitFor(() => clock.pending.includes(4000), { what: 'the attempt at the dead first URL to fail' });
    const scheduled = log.entries
      .filter((e) => 'delayMs' in (e.obj as object))
      .map((e) => [(e.obj as { delayMs: number }).delayMs, (e.obj as { next?: string }).next]);
    expect(scheduled).toEqual([
      [1000, b.url],
      [2000, a.url],
      [4000, b.url],
    ]);
  });

  it('keeps retrying its only URL when given one', async () => {
    const dead = await deadUrl();
    const clock = new FakeClock();
    const log = recordingLogger();
    const l = link([dead], clock, log);
    l.start();
    await waitFor(() => clock.pending.includes(1000), { what: 'the first failure' });
    await clock.advance(1000);
    await waitFor(() => clock.pending.includes(2000), { what: 'the second failure' });
    expect(l.url).toBe(dead);
    expect(log.entries.filter((e) => e.level === 'warn').every((e) => !('next' in (e.obj as object)))).toBe(
      true,
    );
  });
});

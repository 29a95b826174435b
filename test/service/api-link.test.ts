/**
 * The agent's API link against a real HTTP server on loopback that refuses the upgrade, then accepts
 * it: every refusal leads back to the backoff (the link never gives up), with one log line per attempt.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ApiLink } from '../../src/service/api-link.js';
import {
  API_LINK_FEATURES_HEADER,
  API_LINK_VERSION_HEADER,
  apiLinkHeaders,
} from '../../src/protocol/api-version.js';
import { v1ErrorReply } from '../fixtures/api-link-v1.js';
import { waitFor } from '../fixtures/wait-for.js';
import { recordingLogger } from './sessions/recording-logger.js';

interface Refusal {
  status: number;
  headers?: Record<string, string>;
}

/** Answers the first `refusals` upgrades with those HTTP statuses, then accepts as the API would. */
async function startApi(
  refusals: Refusal[],
): Promise<{ server: Server; url: string; attempts: () => number }> {
  const wss = new WebSocketServer({ noServer: true });
  let attempts = 0;
  const server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket, head) => {
    const refusal = refusals[attempts];
    attempts += 1;
    if (refusal) {
      const headers = Object.entries(refusal.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.end(
        `HTTP/1.1 ${refusal.status} Refused\r\n${headers.join('')}content-length: 0\r\nconnection: close\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data) => {
        const cmd = JSON.parse(data.toString()) as { id: string };
        ws.send(JSON.stringify({ id: cmd.id, type: 'result', ok: true, result: { sessions: [] } }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  server.once('close', () => wss.close());
  return { server, url: `ws://127.0.0.1:${port}/api/agent`, attempts: () => attempts };
}

describe('ApiLink reconnects after every failure', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function link(
    url: string,
    log = recordingLogger(),
    extra: Partial<ConstructorParameters<typeof ApiLink>[0]> = {},
  ) {
    const l = new ApiLink({
      url,
      deviceId: 'dev-1',
      token: 'token-that-is-long-enough',
      handler: async () => ({ sessions: [] }),
      log,
      backoffBaseMs: 5,
      backoffMaxMs: 20,
      refusedBackoffMaxMs: 40,
      ...extra,
    });
    cleanups.push(() => l.stop());
    return l;
  }

  it('keeps retrying after 401 and 503 refusals of its upgrade, then connects', async () => {
    const api = await startApi([{ status: 401 }, { status: 503 }, { status: 401 }, { status: 502 }]);
    cleanups.push(() => new Promise((r) => api.server.close(r)));
    const log = recordingLogger();
    const l = link(api.url, log);
    l.start();
    await waitFor(() => l.connected, { what: 'the link to connect after four refusals' });
    expect(api.attempts()).toBe(5);
    expect(l.connects).toBe(1);
    // One line per failed attempt, naming the status; a refused token is an error, a proxy's 5xx a warning.
    const failures = log.entries.filter((e) => e.level !== 'info');
    expect(failures.map((e) => [e.level, (e.obj as { status?: number }).status])).toEqual([
      ['error', 401],
      ['warn', 503],
      ['error', 401],
      ['warn', 502],
    ]);
  });

  it('keeps retrying a refused token with a growing delay up to its long cap', async () => {
    const api = await startApi(Array.from({ length: 8 }, () => ({ status: 401 })));
    cleanups.push(() => new Promise((r) => api.server.close(r)));
    const log = recordingLogger();
    const l = link(api.url, log, { refusedBackoffMaxMs: 80 });
    l.start();
    await waitFor(() => l.connected, { what: 'the link to connect after eight 401s' });
    const delays = log.entries
      .filter((e) => e.level === 'error')
      .map((e) => (e.obj as { delayMs: number }).delayMs);
    expect(delays).toHaveLength(8);
    // Each ceiling doubles from 5 ms up to the cap; with half jitter the last ones sit in [40, 80].
    for (const d of delays.slice(-3)) {
      expect(d).toBeGreaterThanOrEqual(40);
      expect(d).toBeLessThanOrEqual(80);
    }
  });

  it("waits at least the refusal's Retry-After", async () => {
    const api = await startApi([{ status: 503, headers: { 'retry-after': '1' } }]);
    cleanups.push(() => new Promise((r) => api.server.close(r)));
    const log = recordingLogger();
    const l = link(api.url, log, { refusedBackoffMaxMs: 5_000 });
    l.start();
    await waitFor(() => l.connected, { what: 'the link to connect after a 503 with Retry-After' });
    const warn = log.entries.find((e) => e.level === 'warn');
    expect((warn?.obj as { delayMs: number }).delayMs).toBe(1000);
  });

  it('reconnects when the server is not there yet (connection refused)', async () => {
    const api = await startApi([]);
    const { url } = api;
    await new Promise((r) => api.server.close(r));
    const log = recordingLogger();
    const l = link(url, log);
    l.start();
    await waitFor(() => log.entries.filter((e) => e.level === 'warn').length >= 3, {
      what: 'three failed attempts against a closed port',
    });
    expect(l.connected).toBe(false);
    expect(
      log.entries
        .filter((e) => e.level === 'warn')
        .every((e) => /ECONNREFUSED/.test(String((e.obj as { err?: string }).err))),
    ).toBe(true);
  });

  it('answers busy with retryAfterMs when its commands in flight are at the limit', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    // Today's API: it announces that it reads capacity errors.
    wss.on('headers', (headers) =>
      headers.push(...Object.entries(apiLinkHeaders()).map(([k, v]) => `${k}: ${v}`)),
    );
    await new Promise((r) => wss.once('listening', r));
    cleanups.push(() => new Promise((r) => wss.close(r)));
    const replies: { id: string; ok: boolean; error?: { code: string; retryAfterMs?: number } }[] = [];
    wss.on('connection', (ws) => {
      ws.on('message', (d) => replies.push(JSON.parse(d.toString()) as (typeof replies)[number]));
      for (const id of ['c1', 'c2']) ws.send(JSON.stringify({ id, type: 'list_sessions' }));
    });
    let release = (): void => {};
    const held = new Promise<void>((r) => (release = r));
    const { port } = wss.address() as AddressInfo;
    const l = link(`ws://127.0.0.1:${port}/`, recordingLogger(), {
      maxInFlight: 1,
      handler: async () => {
        await held;
        return { sessions: [] };
      },
    });
    l.start();
    await waitFor(() => replies.length === 1, { what: 'the reply to the command over the limit' });
    expect(replies[0]).toMatchObject({ id: 'c2', ok: false, error: { code: 'busy', retryAfterMs: 1000 } });
    release();
    await waitFor(() => replies.length === 2, { what: 'the held command to complete' });
    expect(replies[1]).toMatchObject({ id: 'c1', ok: true });
  });
});

/**
 * A stand-in for an API released before versioning: it announces nothing on its 101 and validates every
 * reply with the version 1 guard (five error codes, no retryAfterMs, unknown fields refused).
 */
async function startOldApi(announce: Record<string, string> = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('headers', (headers) => headers.push(...Object.entries(announce).map(([k, v]) => `${k}: ${v}`)));
  await new Promise((r) => wss.once('listening', r));
  const replies: unknown[] = [];
  const refused: string[] = [];
  const requestHeaders: Record<string, string | string[] | undefined>[] = [];
  const messages: unknown[] = [];
  wss.on('connection', (ws, req) => {
    requestHeaders.push(req.headers);
    ws.on('message', (d) => {
      const reply: unknown = JSON.parse(d.toString());
      messages.push(reply);
      try {
        v1ErrorReply(reply, '');
        replies.push(reply);
      } catch (err) {
        refused.push((err as Error).message);
      }
    });
    // Two commands at once against an agent that handles one: the second is over its capacity.
    for (const id of ['c1', 'c2']) ws.send(JSON.stringify({ id, type: 'list_sessions' }));
  });
  const { port } = wss.address() as AddressInfo;
  return { wss, url: `ws://127.0.0.1:${port}/`, replies, refused, requestHeaders, messages };
}

describe('ApiLink sends an API only what it announced', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function busyLink(url: string, log = recordingLogger()) {
    const l = new ApiLink({
      url,
      deviceId: 'dev-1',
      token: 'token-that-is-long-enough',
      log,
      maxInFlight: 1,
      // Held until the test ends, so the second command finds the agent at its limit.
      handler: () => new Promise(() => {}),
    });
    cleanups.push(() => l.stop());
    l.start();
    return l;
  }

  it('announces its protocol version and features on the upgrade', async () => {
    const api = await startOldApi();
    cleanups.push(() => new Promise((r) => api.wss.close(r)));
    busyLink(api.url);
    await waitFor(() => api.requestHeaders.length === 1, { what: 'the agent to connect' });
    expect(api.requestHeaders[0]?.[API_LINK_VERSION_HEADER]).toBe('2');
    expect(api.requestHeaders[0]?.[API_LINK_FEATURES_HEADER]).toBe(
      'viewer, capacity_errors, permissions, audit_events, consent, ws_relay, add_peer',
    );
  });

  it('answers an API that announced nothing with a version 1 error: helper_unavailable, no retryAfterMs', async () => {
    const api = await startOldApi();
    cleanups.push(() => new Promise((r) => api.wss.close(r)));
    const l = busyLink(api.url);
    await waitFor(() => api.replies.length + api.refused.length === 1, { what: 'the busy reply' });
    expect(api.refused).toEqual([]);
    expect(api.replies[0]).toEqual({
      id: 'c2',
      type: 'result',
      ok: false,
      error: { code: 'helper_unavailable', message: 'busy: 1 commands are in flight' },
    });
    expect(l.apiPeer).toMatchObject({ version: 1 });
  });

  it('treats a malformed announcement from the API as version 1 and says so once', async () => {
    const api = await startOldApi({
      [API_LINK_VERSION_HEADER]: '2.5',
      [API_LINK_FEATURES_HEADER]: 'capacity_errors',
    });
    cleanups.push(() => new Promise((r) => api.wss.close(r)));
    const log = recordingLogger();
    busyLink(api.url, log);
    await waitFor(() => api.replies.length + api.refused.length === 1, { what: 'the busy reply' });
    expect(api.refused).toEqual([]);
    expect(log.entries.filter((e) => e.msg?.includes('protocol announcement'))).toHaveLength(1);
  });

  it('keeps capacity codes and retryAfterMs for an API that announced capacity_errors', async () => {
    const api = await startOldApi({
      [API_LINK_VERSION_HEADER]: '2',
      [API_LINK_FEATURES_HEADER]: 'capacity_errors',
    });
    cleanups.push(() => new Promise((r) => api.wss.close(r)));
    const l = busyLink(api.url);
    // The version 1 guard refuses it: this API must have said it reads capacity errors.
    await waitFor(() => api.refused.length === 1, { what: 'the busy reply' });
    expect(api.refused[0]).toMatch(/error\.code: must be one of/);
    expect(l.apiPeer?.features.has('capacity_errors')).toBe(true);
  });

  it('sends audit events only to an API that announced audit_events', async () => {
    const msg = {
      type: 'event',
      targetSessionId: 1,
      event: { kind: 'session_cut', desktop: 'desk-1', reason: 'idle' },
    } as const;
    const old = await startOldApi();
    cleanups.push(() => new Promise((r) => old.wss.close(r)));
    const l1 = busyLink(old.url);
    await waitFor(() => l1.apiPeer !== undefined, { what: 'the link to the old API' });
    expect(l1.sendEvent(msg)).toBe(false);

    const api = await startOldApi({
      [API_LINK_VERSION_HEADER]: '2',
      [API_LINK_FEATURES_HEADER]: 'audit_events',
    });
    cleanups.push(() => new Promise((r) => api.wss.close(r)));
    const l2 = busyLink(api.url);
    await waitFor(() => l2.apiPeer !== undefined, { what: 'the link to the new API' });
    expect(l2.sendEvent(msg)).toBe(true);
    await waitFor(() => api.messages.some((m) => (m as { type?: string }).type === 'event'), {
      what: 'the event at the API',
    });
    expect(api.messages.find((m) => (m as { type?: string }).type === 'event')).toEqual(msg);
    expect(old.messages.some((m) => (m as { type?: string }).type === 'event')).toBe(false);
  });
});

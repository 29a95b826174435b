import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { waitFor } from '../fixtures/wait-for.js';
import { OFFER, connectAgent, failed, healthyAgent, ok, startHarness, type Harness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ commandTimeoutMs: 1000 });
});
afterAll(() => h.close());

const sessionsPath = () => `/api/devices/${h.device.id}/sessions`;

describe('agent authentication', () => {
  it('refuses a wrong token with HTTP 401 before upgrading', async () => {
    await expect(connectAgent(h.server, { id: h.device.id, token: 'w'.repeat(43) })).rejects.toThrow(
      'HTTP 401',
    );
  });

  it('refuses an unknown device id and missing headers with HTTP 401', async () => {
    await expect(connectAgent(h.server, { id: 'dev-unknown', token: h.device.token })).rejects.toThrow(
      'HTTP 401',
    );
    const bare = new WebSocket(h.server.agentUrl);
    const status = await new Promise<number | undefined>((resolve) => {
      bare.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      bare.once('open', () => resolve(undefined));
    });
    expect(status).toBe(401);
  });

  it('answers a plain GET on the agent path with 426', async () => {
    const r = await h.request('GET', '/api/agent', undefined, null);
    expect(r.status).toBe(426);
  });
});

describe('one connection per device', () => {
  it('closes the older connection with 4000 replaced when the device connects again', async () => {
    const first = await connectAgent(h.server, h.device, healthyAgent);
    const second = await connectAgent(h.server, h.device, healthyAgent);
    expect(await first.closed).toEqual({ code: 4000, reason: 'replaced' });
    expect((await h.request('GET', sessionsPath())).status).toBe(200);
    expect(second.commands).toHaveLength(1);
    await second.close();
  });
});

describe('command replies', () => {
  it.each([
    ['no_such_session', 404],
    ['helper_unavailable', 503],
    ['bad_request', 400],
    ['timeout', 504],
    ['internal', 502],
  ])('passes the agent’s %s error through as HTTP %i with its message', async (code, status) => {
    const agent = await connectAgent(h.server, h.device, (cmd) => failed(cmd, code, `agent says ${code}`));
    const r = await h.request('POST', `/api/devices/${h.device.id}/desktop`, { offer: OFFER });
    expect(r.status).toBe(status);
    expect(r.body.error).toEqual({ code, message: `agent says ${code}` });
    await agent.close();
  });

  it.each([
    ['too_many_viewers', 503, 5_000, '5'],
    ['busy', 503, 1_000, '1'],
    ['rate_limited', 429, 2_500, '3'],
  ])(
    'answers a capacity error %s as HTTP %i with Retry-After from retryAfterMs',
    async (code, status, ms, header) => {
      const agent = await connectAgent(h.server, h.device, (cmd) => ({
        id: cmd.id,
        type: 'result',
        ok: false,
        error: { code, message: `agent says ${code}`, retryAfterMs: ms },
      }));
      const r = await h.request('POST', `/api/devices/${h.device.id}/desktop`, { offer: OFFER });
      expect(r.status).toBe(status);
      expect(r.headers.get('retry-after')).toBe(header);
      expect(r.body.error).toEqual({ code, message: `agent says ${code}` });
      await agent.close();
    },
  );

  it('answers 504 timeout when the agent stays silent past the command timeout', async () => {
    const agent = await connectAgent(h.server, h.device, () => undefined);
    const r = await h.request('GET', sessionsPath());
    expect(r.status).toBe(504);
    expect(r.body.error.code).toBe('timeout');
    await agent.close();
  });

  it('answers 502 bad_agent_reply, naming the field, when the reply fails validation', async () => {
    const agent = await connectAgent(h.server, h.device, (cmd) =>
      ok(cmd, { sessions: [{ sessionId: -1, username: 'x' }] }),
    );
    const r = await h.request('GET', sessionsPath());
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe('bad_agent_reply');
    expect(r.body.error.message).toContain('result.sessions[0].sessionId');
    await agent.close();
  });

  it('answers 502 when the result has the wrong shape for the command', async () => {
    const agent = await connectAgent(h.server, h.device, (cmd) =>
      ok(cmd, { sessionId: 'desk-x', stopped: true }),
    );
    const r = await h.request('GET', sessionsPath());
    expect(r.status).toBe(502);
    await agent.close();
  });

  it('answers 502 when start_desktop is answered for another desktop session', async () => {
    const agent = await connectAgent(h.server, h.device, (cmd) =>
      ok(cmd, { sessionId: 'desk-other', answer: 'v=0\r\n' }),
    );
    const r = await h.request('POST', `/api/devices/${h.device.id}/desktop`, { offer: OFFER });
    expect(r.status).toBe(502);
    await agent.close();
  });

  it('ignores junk and replies to unknown ids, still answering the real reply', async () => {
    const agent = await connectAgent(h.server, h.device, (cmd) => {
      agent.ws.send('not json');
      agent.ws.send(Buffer.from([1, 2, 3]));
      agent.ws.send(JSON.stringify(ok({ ...cmd, id: 'someone-else' }, { sessions: [] })));
      return ok(cmd, { sessions: [] });
    });
    const r = await h.request('GET', sessionsPath());
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ sessions: [] });
    await agent.close();
  });

  it('fails a pending command with 502 when the agent disconnects before replying', async () => {
    const agent = await connectAgent(h.server, h.device, () => {
      agent.ws.close();
      return undefined;
    });
    const r = await h.request('GET', sessionsPath());
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe('agent_disconnected');
  });
});

describe('liveness', () => {
  let live: Harness;
  beforeAll(async () => {
    live = await startHarness({ heartbeatMs: 100 });
  });
  afterAll(() => live.close());

  it('drops an agent that stops answering pings and audits heartbeat_timeout', async () => {
    const agent = await connectAgent(live.server, live.device, healthyAgent, { autoPong: false });
    const closed = await agent.closed;
    expect(closed.code).toBe(1006);
    await waitFor(
      async () =>
        (await live.audit()).some((l) => l.action === 'agent_disconnected' && l.code === 'heartbeat_timeout'),
      { what: 'heartbeat audit line', timeoutMs: 5000, intervalMs: 100 },
    );
  });

  it('disconnects an agent whose device is removed from the store', async () => {
    const extra = await live.server.addDevice('short-lived');
    const agent = await connectAgent(live.server, extra, healthyAgent);
    await live.server.store.removeDevice(extra.id);
    expect(await agent.closed).toEqual({ code: 4001, reason: 'device removed' });
  });

  it('rejects an agent message over 1 MiB by closing the connection', async () => {
    const agent = await connectAgent(h.server, h.device, healthyAgent);
    agent.ws.send('x'.repeat(1024 * 1024 + 1));
    expect((await agent.closed).code).toBe(1009);
  });
});

/**
 * Versions and features on the agent link, at the API: the API announces itself on the 101, records
 * what each agent announced, and sends an agent only the fields it understands, so an agent that
 * predates a field (and, like every porthole guard, refuses unknown fields) keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_LINK_FEATURES_HEADER,
  API_LINK_VERSION,
  API_LINK_VERSION_HEADER,
  apiLinkHeaders,
} from '../../src/protocol/api-version.js';
import { ProtocolError } from '../../src/protocol/validate.js';
import { recordingLogger } from '../service/sessions/recording-logger.js';
import { v1Command, v1StartDesktop } from '../fixtures/api-link-v1.js';
import {
  ANSWER,
  OFFER,
  connectAgent,
  failed,
  healthyAgent,
  startHarness,
  type Command,
  type Harness,
  type Responder,
} from './harness.js';
import type { Logger } from '../../src/log/logger.js';

let h: Harness;
const recorder = recordingLogger();
const log: Logger = { ...recorder, child: () => log };

beforeAll(async () => {
  h = await startHarness({ commandTimeoutMs: 2000, log });
});
afterAll(() => h.close());

const desktopPath = () => `/api/devices/${h.device.id}/desktop`;

/**
 * An agent as released before versioning: it announces nothing and validates each command with the
 * version 1 guards, answering bad_request naming the field it does not know, as today's agent would.
 */
const oldAgent: Responder = (cmd: Command) => {
  try {
    v1Command(cmd, '');
    if (cmd.type === 'start_desktop') v1StartDesktop(cmd.payload, 'payload');
  } catch (err) {
    if (err instanceof ProtocolError) return failed(cmd, 'bad_request', err.message);
    throw err;
  }
  return healthyAgent(cmd);
};

describe('the API on the agent link', () => {
  it('announces its protocol version and features on the 101', async () => {
    const agent = await connectAgent(h.server, h.device, healthyAgent);
    expect(agent.upgradeHeaders[API_LINK_VERSION_HEADER]).toBe(String(API_LINK_VERSION));
    expect(agent.upgradeHeaders[API_LINK_FEATURES_HEADER]).toBe(
      'viewer, capacity_errors, permissions, audit_events, consent, ws_relay, add_peer',
    );
    await agent.close();
  });

  it('sends an agent that announced nothing a start_desktop without the viewer, which it accepts', async () => {
    const agent = await connectAgent(h.server, h.device, oldAgent);
    const r = await h.request('POST', desktopPath(), { offer: OFFER, targetSessionId: 7 });
    expect(r.status).toBe(200);
    expect(r.body.answer).toBe(ANSWER);
    expect(agent.commands[0]?.payload).not.toHaveProperty('viewer');
    expect(Object.keys(agent.commands[0]?.payload ?? {}).sort()).toEqual([
      'iceServers',
      'offer',
      'sessionId',
      'targetSessionId',
    ]);
    await agent.close();
  });

  it('would break that agent with the viewer: its guard refuses the field (why the API leaves it out)', () => {
    const payload = { sessionId: 'desk-x', offer: OFFER, iceServers: [], viewer: { name: 'alice' } };
    expect(() => v1StartDesktop(payload, 'payload')).toThrow(/payload\.viewer: is not a known field/);
  });

  it('sends an agent that announced the viewer feature the viewer’s token name', async () => {
    const agent = await connectAgent(h.server, h.device, healthyAgent, { headers: apiLinkHeaders() });
    const r = await h.request('POST', desktopPath(), { offer: OFFER });
    expect(r.status).toBe(200);
    expect(agent.commands[0]?.payload.viewer).toEqual({ name: 'alice' });
    await agent.close();
  });

  it('ignores features it does not know and treats a version 2 agent without `viewer` as lacking it', async () => {
    const agent = await connectAgent(h.server, h.device, oldAgent, {
      headers: { [API_LINK_VERSION_HEADER]: '7', [API_LINK_FEATURES_HEADER]: 'audio, tickets' },
    });
    const r = await h.request('POST', desktopPath(), { offer: OFFER });
    expect(r.status).toBe(200);
    expect(agent.commands[0]?.payload).not.toHaveProperty('viewer');
    await agent.close();
  });

  it.each([
    ['a version that is not a number', 'two', 'viewer'],
    ['a version 0', '0', 'viewer'],
    ['a feature token with spaces', '2', 'viewer, view er'],
  ])('treats an agent announcing %s as version 1 and logs why once', async (_what, version, list) => {
    const before = recorder.entries.length;
    const agent = await connectAgent(h.server, h.device, oldAgent, {
      headers: { [API_LINK_VERSION_HEADER]: version, [API_LINK_FEATURES_HEADER]: list },
    });
    const r = await h.request('POST', desktopPath(), { offer: OFFER });
    expect(r.status).toBe(200);
    expect(agent.commands[0]?.payload).not.toHaveProperty('viewer');
    const warnings = recorder.entries.slice(before).filter((e) => e.msg?.includes('protocol announcement'));
    expect(warnings).toHaveLength(1);
    await agent.close();
  });

  it('records what each agent announced in its connection log line', async () => {
    const before = recorder.entries.length;
    const agent = await connectAgent(h.server, h.device, healthyAgent, { headers: apiLinkHeaders() });
    const line = recorder.entries.slice(before).find((e) => e.msg === 'agent connected');
    expect(line?.obj).toMatchObject({
      protocol: 2,
      features: [
        'viewer',
        'capacity_errors',
        'permissions',
        'audit_events',
        'consent',
        'ws_relay',
        'add_peer',
      ],
    });
    await agent.close();
  });

  it('still reads a capacity error with retryAfterMs from any agent', async () => {
    const agent = await connectAgent(h.server, h.device, (cmd) => ({
      id: cmd.id,
      type: 'result',
      ok: false,
      error: { code: 'busy', message: 'full', retryAfterMs: 2000 },
    }));
    const r = await h.request('POST', desktopPath(), { offer: OFFER });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('2');
    await agent.close();
  });
});

describe('view-only tokens on the agent link', () => {
  let viewOnlyToken: string;
  beforeAll(async () => {
    viewOnlyToken = await h.server.issueViewerToken('watcher', { viewOnly: true });
  });

  it('sends a view-only viewer’s start_desktop with permissions {control: false, files: false}', async () => {
    const agent = await connectAgent(h.server, h.device, healthyAgent, { headers: apiLinkHeaders() });
    const r = await h.request('POST', desktopPath(), { offer: OFFER }, viewOnlyToken);
    expect(r.status).toBe(200);
    expect(agent.commands[0]?.payload.permissions).toEqual({ control: false, files: false });
    expect(agent.commands[0]?.payload.viewer).toEqual({ name: 'watcher' });
    await agent.close();
  });

  it('GET /api/me says who a token is and whether it is view-only', async () => {
    expect((await h.request('GET', '/api/me', undefined, viewOnlyToken)).body).toEqual({
      name: 'watcher',
      viewOnly: true,
    });
    expect((await h.request('GET', '/api/me')).body).toEqual({ name: 'alice', viewOnly: false });
    expect((await h.request('GET', '/api/me', undefined, null)).status).toBe(401);
    expect((await h.request('POST', '/api/me', {})).status).toBe(405);
  });

  it('keeps a view-only login view-only: the session token it gives sends the same permissions', async () => {
    const login = await h.request(
      'POST',
      '/api/login',
      { token: await h.server.issueLoginToken('w2', { viewOnly: true }) },
      null,
    );
    expect(login.body).toMatchObject({ name: 'w2', viewOnly: true });
    const fromNamed = await h.request('POST', '/api/login', { token: viewOnlyToken }, null);
    expect(fromNamed.body).toMatchObject({ name: 'watcher', viewOnly: true });
    const agent = await connectAgent(h.server, h.device, healthyAgent, { headers: apiLinkHeaders() });
    for (const token of [login.body.token as string, fromNamed.body.token as string]) {
      expect((await h.request('POST', desktopPath(), { offer: OFFER }, token)).status).toBe(200);
    }
    expect(agent.commands.map((c) => c.payload.permissions)).toEqual([
      { control: false, files: false },
      { control: false, files: false },
    ]);
    await agent.close();
  });

  it('sends no permissions for a full-control viewer (absent means full control)', async () => {
    const agent = await connectAgent(h.server, h.device, healthyAgent, { headers: apiLinkHeaders() });
    const r = await h.request('POST', desktopPath(), { offer: OFFER });
    expect(r.status).toBe(200);
    expect(agent.commands[0]?.payload).not.toHaveProperty('permissions');
    await agent.close();
  });

  it('refuses a view-only viewer with 409 agent_outdated on an agent that would not enforce it', async () => {
    const agent = await connectAgent(h.server, h.device, oldAgent);
    const r = await h.request('POST', desktopPath(), { offer: OFFER }, viewOnlyToken);
    expect(r.status).toBe(409);
    expect((r.body.error as { code: string }).code).toBe('agent_outdated');
    expect(agent.commands).toHaveLength(0);
    // The same agent still serves a full-control viewer.
    expect((await h.request('POST', desktopPath(), { offer: OFFER })).status).toBe(200);
    await agent.close();
  });

  it('refuses it too on a version 2 agent that announced `viewer` but not `permissions`', async () => {
    const agent = await connectAgent(h.server, h.device, healthyAgent, {
      headers: { [API_LINK_VERSION_HEADER]: '2', [API_LINK_FEATURES_HEADER]: 'viewer, capacity_errors' },
    });
    const r = await h.request('POST', desktopPath(), { offer: OFFER }, viewOnlyToken);
    expect(r.status).toBe(409);
    expect(agent.commands).toHaveLength(0);
    await agent.close();
  });
});

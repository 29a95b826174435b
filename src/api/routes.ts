/**
 * The viewer API under /api: login, devices, ICE servers, and the commands relayed to agents
 * (list_sessions, start_desktop, stop_desktop, add_peer), each audited with the viewer's token name.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.js';
import { desktopSessionId, displayIndex, h264Offer, osSessionId } from '../protocol/common.js';
import { fail, object, oneOf, optional, str } from '../protocol/validate.js';
import { TRANSPORTS } from '../protocol/relay.js';
import type { RelayHub } from './relay/relay-hub.js';
import { VIEW_ONLY } from '../protocol/ipc.js';
import type { AgentHub } from './agent-hub.js';
import type { AgentTarget } from './redis/fleet.js';
import type { AuditAction, AuditSink } from './audit-log.js';
import { HttpError, readJsonBody, sendJson, validateBody } from './http-json.js';
import { iceServersFor, type IceConfig } from './turn-credentials.js';
import { DEVICE_ID_PATTERN, type ApiStore } from './store.js';
import { randomId } from './tokens.js';
import { applyCors } from './cors.js';
import type { Viewer, ViewerAuth } from './viewer-auth.js';
import type { EnrollEndpoint } from './enroll-route.js';

export interface ApiContext {
  store: ApiStore;
  hub: AgentHub;
  auth: ViewerAuth;
  audit: AuditSink;
  ice: IceConfig;
  log: Logger;
  /** Origins given CORS access (`--allow-origin`); empty: same origin only, no CORS headers. */
  allowedOrigins: ReadonlySet<string>;
  /** `POST /api/enroll` (src/api/enroll-route.ts). */
  enroll: EnrollEndpoint;
  /** The WebSocket relay of this instance (relay/relay-hub.ts). */
  relay: RelayHub;
  /** `ws[s]://…/api/relay/agent` of this instance, for `start_desktop.relay.url`. */
  relayAgentUrl(): string;
  /**
   * Where the viewer opens its socket: `/api/relay/viewer`, which it resolves against the API's address
   * as it knows it (through a reverse proxy, too), or this instance's configured relay origin.
   */
  relayViewerUrl(): string;
}

const loginBody = object({ token: str({ min: 1, max: 512 }) });
const desktopFields = object({
  offer: optional(h264Offer),
  /** `websocket`: no WebRTC, the desktop goes over this API's relay (no offer then). */
  transport: optional(oneOf(TRANSPORTS)),
  targetSessionId: optional(osSessionId),
  displayIndex: optional(displayIndex),
});
/** `POST …/desktop/:desktopId/peer`: a new peer connection for a running desktop (network change). */
const peerBody = object({ offer: h264Offer });
const desktopBody = (v: unknown, path: string): ReturnType<typeof desktopFields> => {
  const body = desktopFields(v, path);
  const relayed = body.transport === 'websocket';
  if (relayed && body.offer !== undefined) fail('offer', 'must be absent with transport "websocket"');
  if (!relayed && body.offer === undefined) fail('offer', 'is required');
  return body;
};

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  /** The client's address: the TCP peer, or what a `--trusted-proxy` peer says it forwarded. */
  remote: string;
  /** Whether the TCP peer is a `--trusted-proxy` (its X-Forwarded-* headers count). */
  viaTrustedProxy?: boolean;
}

/** Routes one /api request; every failure arrives here as an HttpError (see server.ts). */
export async function handleApiRequest(ctx: ApiContext, r: Request, path: string): Promise<void> {
  const method = r.req.method ?? 'GET';
  // Before authentication: a browser's preflight never carries the bearer token.
  if (applyCors(r.req, r.res, ctx.allowedOrigins)) return;
  if (path === '/api/login') {
    allow(method, 'POST');
    return login(ctx, r);
  }
  if (path === '/api/enroll') {
    // An enrolling machine has no token yet: the enrollment key in the body is its credential.
    allow(method, 'POST');
    return ctx.enroll.handle(r.req, r.res, r.remote, r.viaTrustedProxy === true);
  }
  if (path === '/api/agent') {
    throw new HttpError(426, 'upgrade_required', 'agents connect here with a WebSocket upgrade');
  }
  const viewer = await ctx.auth.authenticate(r.req.headers.authorization);
  if (path === '/api/devices') {
    allow(method, 'GET');
    return listDevices(ctx, r);
  }
  if (path === '/api/me') {
    // Who this token is and whether it is view-only: a viewer signed in with a long-lived token (no
    // login answer) learns it here and shows a view-only UI. The helper enforces it regardless.
    allow(method, 'GET');
    return sendJson(r.res, 200, { name: viewer.name, viewOnly: viewer.viewOnly });
  }
  if (path === '/api/ice-servers') {
    allow(method, 'GET');
    return sendJson(r.res, 200, iceServersFor(ctx.ice, viewer.name));
  }
  const m = /^\/api\/devices\/([^/]+)\/(sessions|desktop)(?:\/([^/]+))?$/.exec(path);
  if (m?.[1] && m[2]) {
    const deviceId = decodePart(m[1]);
    if (m[2] === 'sessions' && m[3] === undefined) {
      allow(method, 'GET');
      return listSessions(ctx, r, viewer, deviceId);
    }
    if (m[2] === 'desktop' && m[3] === undefined) {
      allow(method, 'POST');
      return startDesktop(ctx, r, viewer, deviceId);
    }
    if (m[2] === 'desktop' && m[3] !== undefined) {
      allow(method, 'DELETE');
      return stopDesktop(ctx, r, viewer, deviceId, decodePart(m[3]));
    }
  }
  const peer = /^\/api\/devices\/([^/]+)\/desktop\/([^/]+)\/peer$/.exec(path);
  if (peer?.[1] && peer[2]) {
    allow(method, 'POST');
    return addPeer(ctx, r, viewer, decodePart(peer[1]), decodePart(peer[2]));
  }
  throw new HttpError(404, 'not_found', `no such route: ${method} ${path}`);
}

async function login(ctx: ApiContext, r: Request): Promise<void> {
  const { token } = validateBody(loginBody, await readJsonBody(r.req));
  try {
    const result = await ctx.auth.login(token);
    ctx.audit.record({ viewer: result.name, device: null, action: 'login', ok: true, remote: r.remote });
    sendJson(r.res, 200, result);
  } catch (err) {
    if (err instanceof HttpError) {
      ctx.audit.record({
        viewer: null,
        device: null,
        action: 'login',
        ok: false,
        code: err.code,
        remote: r.remote,
      });
    }
    throw err;
  }
}

async function listDevices(ctx: ApiContext, r: Request): Promise<void> {
  const records = await ctx.store.devices();
  // Online on any instance (the fleet's ownership keys); lastSeen is what this instance saw.
  const online = await ctx.hub.online(records.map((d) => d.id));
  const devices = records.map((d) => {
    const lastSeen = ctx.hub.lastSeen(d.id);
    return {
      id: d.id,
      name: d.name,
      online: online.has(d.id),
      ...(lastSeen !== undefined ? { lastSeen: new Date(lastSeen).toISOString() } : {}),
    };
  });
  sendJson(r.res, 200, { devices });
}

async function listSessions(ctx: ApiContext, r: Request, viewer: Viewer, deviceId: string): Promise<void> {
  await audited(ctx, r, viewer, { device: deviceId, action: 'list_sessions' }, async () => {
    const agent = await onlineAgent(ctx, deviceId);
    sendJson(r.res, 200, await agent.command('list_sessions', {}));
  });
}

async function startDesktop(ctx: ApiContext, r: Request, viewer: Viewer, deviceId: string): Promise<void> {
  await knownDevice(ctx, deviceId);
  const { transport, ...body } = validateBody(desktopBody, await readJsonBody(r.req));
  const sessionId = randomId('desk');
  const audit = {
    device: deviceId,
    action: 'start_desktop' as const,
    desktopSessionId: sessionId,
    ...(body.targetSessionId !== undefined ? { targetSessionId: body.targetSessionId } : {}),
    ...(viewer.viewOnly ? { viewOnly: true } : {}),
  };
  await audited(ctx, r, viewer, audit, async () => {
    const agent = await onlineAgent(ctx, deviceId);
    // The helper gets the same STUN/TURN (fresh credentials) the viewer gets, so both can meet at
    // the relay when no direct path exists; of the TURN URLs only the UDP ones, the only kind its
    // ICE agent (libjuice) can use.
    const { iceServers } = iceServersFor(ctx.ice, viewer.name, Date.now(), 'agent');
    // Remembered before the command: the device reports a consent answer (an audit event) before it
    // replies, and a refused desktop's event must name its viewer too.
    ctx.hub.rememberDesktop(deviceId, sessionId, viewer.name);
    // `viewer` lets the agent limit each viewer's unconnected desktops; an agent without the feature
    // does not get it (AgentConnection leaves it out). `permissions` goes only with a restricted
    // viewer (absent means full control), and an agent that would not enforce it is refused
    // (409 agent_outdated) rather than sent a command it would read as full control.
    // A relayed desktop: the helper gets one ticket for its socket, the viewer the other (design/API.md
    // "WebSocket relay"); both name this instance, where the two sockets meet.
    const tickets = transport === 'websocket' ? ctx.relay.open(sessionId, viewer.name) : undefined;
    let result;
    try {
      result = await agent.command('start_desktop', {
        sessionId,
        iceServers,
        ...body,
        viewer: { name: viewer.name },
        ...(viewer.viewOnly ? { permissions: VIEW_ONLY } : {}),
        ...(tickets ? { relay: { url: ctx.relayAgentUrl(), ticket: tickets.agent } } : {}),
      });
    } catch (err) {
      if (tickets) ctx.relay.end(sessionId);
      throw err;
    }
    if (result.sessionId !== sessionId) {
      throw new HttpError(502, 'bad_agent_reply', 'the device answered for a different desktop session');
    }
    ctx.log.info(
      { viewer: viewer.name, deviceId, sessionId, transport: transport ?? 'webrtc' },
      'desktop started',
    );
    if (tickets) {
      if (result.transport !== 'websocket') {
        ctx.relay.end(sessionId);
        throw new HttpError(
          502,
          'bad_agent_reply',
          'the device answered a relayed desktop with an SDP answer',
        );
      }
      const url = ctx.relayViewerUrl();
      ctx.relay.answered(sessionId);
      sendJson(r.res, 200, { sessionId, transport: 'websocket', relay: { url, ticket: tickets.viewer } });
      return;
    }
    if (result.answer === undefined) {
      throw new HttpError(502, 'bad_agent_reply', 'the device answered an offer without an SDP answer');
    }
    sendJson(r.res, 200, { sessionId, answer: result.answer });
  });
}

/**
 * A second peer connection for desktop `sessionId`, which must be this viewer's (design/API.md,
 * "Network change"). A desktop this instance remembers as another viewer's is refused here; the
 * helper, which knows every desktop's viewer whichever API instance started it, checks again. Both
 * answer 404 `no_such_desktop`, the same as for an id that never existed.
 */
async function addPeer(
  ctx: ApiContext,
  r: Request,
  viewer: Viewer,
  deviceId: string,
  sessionId: string,
): Promise<void> {
  await knownDevice(ctx, deviceId);
  validateBody((v) => desktopSessionId(v, 'sessionId'), sessionId);
  const { offer } = validateBody(peerBody, await readJsonBody(r.req));
  const audit = { device: deviceId, action: 'add_peer' as const, desktopSessionId: sessionId };
  await audited(ctx, r, viewer, audit, async () => {
    const owner = ctx.hub.desktopViewer(deviceId, sessionId);
    if (owner !== undefined && owner !== viewer.name) {
      throw new HttpError(404, 'no_such_desktop', `no desktop '${sessionId}' of yours on this device`);
    }
    const agent = await onlineAgent(ctx, deviceId);
    const { iceServers } = iceServersFor(ctx.ice, viewer.name, Date.now(), 'agent');
    const result = await agent.command('add_peer', {
      sessionId,
      offer,
      iceServers,
      viewer: { name: viewer.name },
    });
    if (result.sessionId !== sessionId) {
      throw new HttpError(502, 'bad_agent_reply', 'the device answered for a different desktop session');
    }
    ctx.log.info({ viewer: viewer.name, deviceId, sessionId }, 'desktop peer added');
    sendJson(r.res, 200, { sessionId, answer: result.answer });
  });
}

async function stopDesktop(
  ctx: ApiContext,
  r: Request,
  viewer: Viewer,
  deviceId: string,
  sessionId: string,
): Promise<void> {
  await knownDevice(ctx, deviceId);
  validateBody((v) => desktopSessionId(v, 'sessionId'), sessionId);
  const audit = { device: deviceId, action: 'stop_desktop' as const, desktopSessionId: sessionId };
  await audited(ctx, r, viewer, audit, async () => {
    const agent = await onlineAgent(ctx, deviceId);
    const result = await agent.command('stop_desktop', { sessionId });
    ctx.relay.end(sessionId);
    sendJson(r.res, 200, { sessionId: result.sessionId, stopped: result.stopped });
  });
}

/** Runs one relayed command and writes its audit line, success or failure. */
async function audited(
  ctx: ApiContext,
  r: Request,
  viewer: Viewer,
  event: {
    device: string;
    action: AuditAction;
    desktopSessionId?: string;
    targetSessionId?: number;
    viewOnly?: boolean;
  },
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
    ctx.audit.record({ viewer: viewer.name, ...event, ok: true, remote: r.remote });
  } catch (err) {
    const code = err instanceof HttpError ? err.code : 'internal';
    ctx.audit.record({ viewer: viewer.name, ...event, ok: false, code, remote: r.remote });
    throw err;
  }
}

async function knownDevice(ctx: ApiContext, deviceId: string): Promise<void> {
  if (!DEVICE_ID_PATTERN.test(deviceId) || !(await ctx.store.device(deviceId))) {
    throw new HttpError(404, 'unknown_device', `no device with id '${deviceId.slice(0, 128)}'`);
  }
}

/** The agent's connection on this instance, or a relay to the instance holding it (src/api/redis/). */
async function onlineAgent(ctx: ApiContext, deviceId: string): Promise<AgentTarget> {
  await knownDevice(ctx, deviceId);
  const agent = await ctx.hub.target(deviceId);
  if (!agent) {
    throw new HttpError(409, 'device_offline', `device '${deviceId}' is not connected to the API right now`);
  }
  return agent;
}

function allow(method: string, expected: string): void {
  if (method !== expected) {
    throw new HttpError(405, 'method_not_allowed', `use ${expected} here`, undefined, { allow: expected });
  }
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, 'bad_request', 'malformed percent-encoding in the path');
  }
}

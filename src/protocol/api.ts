/**
 * API ⇄ service messages (JSON over the agent's WebSocket). Field names follow Breeze's agent so an API
 * built for it can drive porthole: in `start_desktop`/`stop_desktop`, `sessionId` names the desktop
 * connection (a string the API picks) and `targetSessionId` the OS session; in `list_sessions`,
 * `sessionId` is the OS session number.
 */
import {
  desktopSessionId,
  displayIndex,
  errorBody,
  iceServerList,
  osSessionId,
  h264Offer,
  sdp,
  type ErrorBody,
  type IceServer,
} from './common.js';
import {
  arrayOf,
  bool,
  fail,
  int,
  isRecord,
  join,
  literal,
  object,
  oneOf,
  optional,
  str,
  type Guard,
} from './validate.js';
import { viewerIdentity, viewerPermissions, type ViewerIdentity, type ViewerPermissions } from './ipc.js';
import { relayTarget, type RelayTarget } from './relay.js';

export const SESSION_STATES = ['active', 'connected', 'disconnected', 'idle', 'locked'] as const;
export const SESSION_TYPES = ['console', 'rdp', 'x11', 'services'] as const;
export const HELPER_STATES = ['none', 'starting', 'ready', 'failed'] as const;
export type SessionState = (typeof SESSION_STATES)[number];
export type SessionType = (typeof SESSION_TYPES)[number];
export type HelperState = (typeof HELPER_STATES)[number];

export interface SessionInfo {
  sessionId: number;
  username: string;
  state: SessionState;
  type: SessionType;
  helperConnected: boolean;
  helperState: HelperState;
  lastError?: string;
}
export const sessionInfo: Guard<SessionInfo> = object({
  sessionId: osSessionId,
  username: str({ max: 256 }),
  state: oneOf(SESSION_STATES),
  type: oneOf(SESSION_TYPES),
  helperConnected: bool,
  helperState: oneOf(HELPER_STATES),
  lastError: optional(str({ max: 2000 })),
});

export interface StartDesktop {
  sessionId: string;
  /** The viewer's SDP offer; absent exactly when `relay` is present (the desktop goes over the relay). */
  offer?: string;
  iceServers: IceServer[];
  displayIndex?: number;
  targetSessionId?: number;
  /**
   * Who asks (the API fills it from the viewer's token name). Feature `viewer` (api-version.ts): sent
   * only to an agent that announced it; the helper limits each viewer's unconnected desktops with it.
   */
  viewer?: ViewerIdentity;
  /**
   * What the viewer may do beyond watching (ipc.ts, ViewerPermissions); absent: full control. Feature
   * `permissions`: the API sends it only for a restricted viewer, and refuses (409 `agent_outdated`)
   * to send it to an agent that did not announce the feature, which would not enforce it.
   */
  permissions?: ViewerPermissions;
  /**
   * Feature `ws_relay` (relay.ts): no WebRTC for this desktop; the helper opens a WebSocket to
   * `relay.url` with the one-time `relay.ticket` and streams over it. Refused (409 `agent_outdated`)
   * for an agent without the feature, which could not serve a desktop without an offer.
   */
  relay?: RelayTarget;
}
const startDesktopFields = object({
  sessionId: desktopSessionId,
  offer: optional(h264Offer),
  iceServers: iceServerList,
  displayIndex: optional(displayIndex),
  targetSessionId: optional(osSessionId),
  viewer: optional(viewerIdentity),
  permissions: optional(viewerPermissions),
  relay: optional(relayTarget),
});
export const startDesktop: Guard<StartDesktop> = (v, path) => {
  const out = startDesktopFields(v, path);
  if ((out.offer === undefined) === (out.relay === undefined)) {
    fail(join(path, 'offer'), out.relay ? 'must be absent with relay' : 'is required');
  }
  return out;
};

/**
 * Feature `add_peer`: a second peer connection for desktop connection `sessionId`, which runs and
 * belongs to `viewer` (the viewer's network changed: design/VIEWER.md, "Network change"). The helper
 * answers `offer` with a new peer fed by the same display pipeline, swaps it in for the old one once it
 * connects, and asks nobody's consent again: it is the same desktop moving. `no_such_desktop` when the
 * machine serves no such desktop, or serves it to another viewer.
 */
export interface AddPeer {
  sessionId: string;
  offer: string;
  iceServers: IceServer[];
  viewer: ViewerIdentity;
}
export const addPeer: Guard<AddPeer> = object({
  sessionId: desktopSessionId,
  offer: h264Offer,
  iceServers: iceServerList,
  viewer: viewerIdentity,
});

export interface StopDesktop {
  sessionId: string;
}
export const stopDesktop: Guard<StopDesktop> = object({ sessionId: desktopSessionId });

/** A command id: the API's correlation key, echoed in the reply. */
export const commandId = str({ min: 1, max: 128, pattern: /^[A-Za-z0-9._:-]+$/ });

export type ApiCommand =
  | { id: string; type: 'list_sessions'; payload: Record<string, never> }
  | { id: string; type: 'start_desktop'; payload: StartDesktop }
  | { id: string; type: 'stop_desktop'; payload: StopDesktop }
  | { id: string; type: 'add_peer'; payload: AddPeer };
export type ApiCommandType = ApiCommand['type'];
export const API_COMMAND_TYPES = ['list_sessions', 'start_desktop', 'stop_desktop', 'add_peer'] as const;

const payloadGuards = {
  list_sessions: object({}),
  start_desktop: startDesktop,
  stop_desktop: stopDesktop,
  add_peer: addPeer,
} satisfies Record<ApiCommandType, Guard<unknown>>;

/** Validates one command from the API. Throws ProtocolError naming the first bad field. */
export function parseApiCommand(raw: unknown): ApiCommand {
  if (!isRecord(raw)) fail('', 'command must be a JSON object');
  const id = commandId(raw.id, 'id');
  const type = oneOf(API_COMMAND_TYPES)(raw.type, 'type');
  for (const key of Object.keys(raw)) {
    if (key !== 'id' && key !== 'type' && key !== 'payload') fail(key, 'is not a known field');
  }
  const payload = payloadGuards[type](raw.payload ?? {}, 'payload');
  return { id, type, payload } as ApiCommand;
}

/** The id of a command too broken to parse, if it has a usable one, so its error can be correlated. */
export function salvageCommandId(raw: unknown): string | null {
  if (!isRecord(raw)) return null;
  try {
    return commandId(raw.id, 'id');
  } catch {
    return null;
  }
}

export interface ListSessionsResult {
  sessions: SessionInfo[];
}
export interface StartDesktopResult {
  sessionId: string;
  /** The SDP answer; absent for a relayed desktop (`start_desktop.relay`), which has no offer. */
  answer?: string;
  /** `websocket` for a relayed desktop, whose helper is connecting to the relay (feature `ws_relay`). */
  transport?: 'websocket';
}
export interface StopDesktopResult {
  sessionId: string;
  stopped: boolean;
}
/** The new peer's SDP answer, for the desktop connection the command named. */
export interface AddPeerResult {
  sessionId: string;
  answer: string;
}
export interface ResultByType {
  list_sessions: ListSessionsResult;
  start_desktop: StartDesktopResult;
  stop_desktop: StopDesktopResult;
  add_peer: AddPeerResult;
}

export const listSessionsResult: Guard<ListSessionsResult> = object({
  sessions: arrayOf(sessionInfo, { max: 1024 }),
});
export const startDesktopResult: Guard<StartDesktopResult> = (v, path) => {
  const out = object({
    sessionId: desktopSessionId,
    answer: optional(sdp),
    transport: optional(literal('websocket')),
  })(v, path);
  if ((out.answer === undefined) === (out.transport === undefined)) {
    fail(path, 'must carry either an answer or transport "websocket"');
  }
  return out;
};
export const addPeerResult: Guard<AddPeerResult> = object({ sessionId: desktopSessionId, answer: sdp });
export const stopDesktopResult: Guard<StopDesktopResult> = object({
  sessionId: desktopSessionId,
  stopped: bool,
});

/**
 * Agent → API while a command is still being handled (feature `consent`; no reply): it waits for the
 * person at the machine to answer a consent prompt for at most `timeoutMs`. The API then waits that
 * long plus its own command timeout before it gives up on the command (design/API.md).
 */
export interface CommandWaiting {
  type: 'waiting';
  id: string;
  for: 'consent';
  timeoutMs: number;
}
/** The longest consent prompt a service may announce (the config's bound). */
export const MAX_CONSENT_TIMEOUT_MS = 300_000;
export const commandWaiting: Guard<CommandWaiting> = object({
  type: literal('waiting'),
  id: commandId,
  for: literal('consent'),
  timeoutMs: int(0, MAX_CONSENT_TIMEOUT_MS),
});

/** The agent's reply to one command, correlated by `id`. */
export type AgentReply =
  | { id: string; type: 'result'; ok: true; result: ResultByType[ApiCommandType] }
  | { id: string | null; type: 'result'; ok: false; error: ErrorBody };

export const agentReply: Guard<AgentReply> = (v, path) => {
  if (!isRecord(v)) fail(path, 'reply must be an object');
  if (v.ok === false) {
    return object({
      id: (x, p) => (x === null ? null : commandId(x, p)),
      type: literal('result'),
      ok: bool,
      error: errorBody,
    })(v, path) as AgentReply;
  }
  return object({
    id: commandId,
    type: literal('result'),
    ok: (x, p) => (x === true ? true : fail(p, 'must be true or false')),
    result: (x, p) => {
      if (!isRecord(x)) fail(p, 'must be an object');
      if ('sessions' in x) return listSessionsResult(x, p);
      if ('answer' in x || 'transport' in x) return startDesktopResult(x, p);
      return stopDesktopResult(x, p);
    },
  })(v, path) as AgentReply;
};

/**
 * service ⇄ helper message bodies carried by the IPC channel (src/ipc). The channel itself owns the
 * handshake, request/response correlation and keep-alive ping/pong; these are the bodies inside.
 */
import {
  desktopSessionId,
  displayIndex,
  displayList,
  iceServerList,
  osSessionId,
  sdp,
  type DisplayInfo,
  type IceServer,
} from './common.js';
import { bool, fail, int, isRecord, object, oneOf, optional, str, type Guard } from './validate.js';
import { desktopAuditEvent, type DesktopAuditEvent } from './audit-event.js';
import { relayTarget, type RelayTarget } from './relay.js';

/** Helper → service, once after the handshake: what this helper can do in its session. */
export interface Capabilities {
  type: 'capabilities';
  sessionId: number;
  canCapture: boolean;
  displays: DisplayInfo[];
  pid: number;
  platform: string;
  /** Why capture is unavailable, when canCapture is false. */
  reason?: string;
}

/** Who asks for a desktop, as the API knows them (from the viewer's token). */
export interface ViewerIdentity {
  /** Stable per viewer; the helper limits each viewer's desktops that have not connected yet. */
  name: string;
}
export const viewerIdentity: Guard<ViewerIdentity> = object({ name: str({ min: 1, max: 256 }) });

/**
 * What a viewer may do beyond watching, from its token (`porthole api token issue NAME --view-only`).
 * Absent from `start_desktop`/`desktop_start` means full control: what every viewer had before
 * permissions existed, and what an older API sends. The helper enforces it (channel-permissions.ts):
 * without `control` the `input` channel (pointer, keys, text, clipboard) and Ctrl+Alt+Del are refused,
 * without `files` the `files` channel.
 */
export interface ViewerPermissions {
  control: boolean;
  files: boolean;
}
export const viewerPermissions: Guard<ViewerPermissions> = object({ control: bool, files: bool });
/** A view-only viewer's permissions. */
export const VIEW_ONLY: ViewerPermissions = Object.freeze({ control: false, files: false });
/** What a viewer without `permissions` may do. */
export const FULL_CONTROL: ViewerPermissions = Object.freeze({ control: true, files: true });

/**
 * Limits of one desktop connection from the service's policy (consent-policy.ts): the helper cuts the
 * connection `maxSessionMs` after it connected, or after `idleMs` without the viewer's input, and
 * warns the viewer `warnMs` before either. Absent: no limit.
 */
export interface DesktopLimits {
  maxSessionMs?: number;
  idleMs?: number;
  warnMs: number;
}
/** Limits are at most a day; a warning at most an hour before the cut. */
export const MAX_DESKTOP_LIMIT_MS = 86_400_000;
export const desktopLimits: Guard<DesktopLimits> = object({
  maxSessionMs: optional(int(1000, MAX_DESKTOP_LIMIT_MS)),
  idleMs: optional(int(1000, MAX_DESKTOP_LIMIT_MS)),
  warnMs: int(0, 3_600_000),
});

/** A flag that is present only when set: `true`, nothing else. */
const onlyTrue: Guard<true> = (v, path) => {
  if (v !== true) fail(path, 'must be true when present');
  return true;
};

/** A flag that is present only to turn something off: `false`, nothing else. */
const onlyFalse: Guard<false> = (v, path) => {
  if (v !== false) fail(path, 'must be false when present');
  return false;
};

/** Service → helper request: answer this viewer's offer. */
export interface DesktopStart {
  type: 'desktop_start';
  sessionId: string;
  /** The viewer's offer; absent exactly when `relay` is present. */
  offer?: string;
  /**
   * The API's `start_desktop.relay` (relay.ts): the helper streams this desktop over its own WebSocket
   * to that URL instead of answering an offer. Media never crosses this pipe either way.
   */
  relay?: RelayTarget;
  iceServers: IceServer[];
  displayIndex: number;
  /** Absent when the API did not say (an older API, `--direct`): no per-viewer limit applies then. */
  viewer?: ViewerIdentity;
  /** Absent: full control (FULL_CONTROL). */
  permissions?: ViewerPermissions;
  /** Absent: no session length or idle limit. */
  limits?: DesktopLimits;
  /**
   * `access.blockLocalInput`, sent only for a viewer allowed to control: while this desktop is
   * connected the helper keeps the session's own keyboard and mouse from reaching applications
   * (Windows BlockInput; elsewhere the helper logs that it cannot). Absent: not blocked.
   */
  blockLocalInput?: true;
  /**
   * `audio.enabled: false` in the service's config: this desktop carries no sound (its audio section is
   * answered inactive). Absent: sound is allowed, as from a service older than audio.
   */
  audio?: false;
}
/**
 * Service → helper request (the API's `add_peer`): answer this offer with a second peer for desktop
 * `sessionId`, which must be `viewer`'s; answered `desktop_started` with the new peer's SDP answer, or
 * `no_such_desktop`. The desktop keeps its permissions, limits and sound choice.
 */
export interface DesktopAddPeer {
  type: 'desktop_add_peer';
  sessionId: string;
  offer: string;
  iceServers: IceServer[];
  viewer: ViewerIdentity;
}
/** Helper → service response to desktop_start (and to desktop_add_peer). */
export interface DesktopStarted {
  type: 'desktop_started';
  sessionId: string;
  /** Absent for a relayed desktop (no offer, no answer). */
  answer?: string;
}
export interface DesktopStop {
  type: 'desktop_stop';
  sessionId: string;
}
export interface DesktopStopped {
  type: 'desktop_stopped';
  sessionId: string;
  /** False when no desktop connection had that id. */
  existed: boolean;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** Helper → service: one structured log line, forwarded into the service's log. */
export interface HelperLog {
  type: 'log';
  level: (typeof LOG_LEVELS)[number];
  msg: string;
  fields?: Record<string, string | number | boolean | null>;
}

export const HELPER_EVENTS = [
  'viewer_connected',
  'viewer_disconnected',
  'desktop_closed',
  'display_changed',
] as const;
/** Helper → service: something the broker may act on or report (e.g. a viewer's peer connection ended). */
export interface HelperEvent {
  type: 'event';
  name: (typeof HELPER_EVENTS)[number];
  sessionId?: string;
  detail?: string;
}

/**
 * Helper → service: something that happened inside a desktop session, for the API's audit log
 * (metadata only; audit-event.ts). The service adds the session it spawned this helper into.
 */
export interface HelperAudit {
  type: 'audit';
  event: DesktopAuditEvent;
}

/** Service → helper: finish and exit (the service is stopping or the session ended). */
export interface Shutdown {
  type: 'shutdown';
  reason: string;
}

/**
 * Helper → service request: a viewer asked for Ctrl+Alt+Del. The one input action that passes through
 * the service (Windows lets only a service send the secure attention sequence, SendSAS). It names no
 * session: the service sends it to the session it spawned this helper into, at most once per
 * SECURE_ATTENTION_INTERVAL_MS per session.
 */
export interface SecureAttentionRequest {
  type: 'secure_attention';
}
export const SECURE_ATTENTION_OUTCOMES = ['sent', 'unsupported', 'rate_limited', 'failed'] as const;
export type SecureAttentionOutcome = (typeof SECURE_ATTENTION_OUTCOMES)[number];
/**
 * Service → helper response to secure_attention. `reason` (for every outcome but `sent`) is meant for
 * the viewer: e.g. which policy is missing and how to set it.
 */
export interface SecureAttentionResult {
  type: 'secure_attention_result';
  outcome: SecureAttentionOutcome;
  reason?: string;
  /** With `rate_limited`: when the next one will be accepted. */
  retryAfterMs?: number;
}
/** The shortest time between two Ctrl+Alt+Del of one session. */
export const SECURE_ATTENTION_INTERVAL_MS = 5000;
/** Longest `reason` of a secure_attention_result: it must fit a viewer's error message. */
export const MAX_SECURE_ATTENTION_REASON = 1000;

/**
 * Service → helper request (X11): ask the person at this session whether `viewer` may connect, with a
 * prompt the helper shows as the session's user, answered within `timeoutMs`. What the viewer asks:
 * always to watch, and `control`/`files` when its permissions allow them.
 */
export interface ConsentPrompt {
  type: 'consent_prompt';
  /** The name the prompt shows (the API's token name); "a viewer" when the API sent none. */
  viewer: string;
  asks: ViewerPermissions;
  timeoutMs: number;
  /**
   * `consent: when-user-present`: before showing anything, the helper reads the X server's input idle
   * time and screen saver state; idle this long or more, or the screen saver on, means nobody is there
   * and it answers `absent` without a prompt. Absent: always ask.
   */
  absentAfterIdleMs?: number;
}
/** `absent`: nobody at the session (only in answer to `absentAfterIdleMs`); no prompt was shown. */
export const CONSENT_ANSWERS = ['accepted', 'denied', 'timed_out', 'unavailable', 'absent'] as const;
export type ConsentAnswerOutcome = (typeof CONSENT_ANSWERS)[number];
/** Helper → service response: the button pressed, or `unavailable` (no way to ask; `reason` says why). */
export interface ConsentAnswer {
  type: 'consent_answer';
  outcome: ConsentAnswerOutcome;
  reason?: string;
}

export type ServiceToHelper =
  DesktopStart | DesktopAddPeer | DesktopStop | Shutdown | SecureAttentionResult | ConsentPrompt;
export type HelperToService =
  | Capabilities
  | DesktopStarted
  | DesktopStopped
  | HelperLog
  | HelperEvent
  | HelperAudit
  | SecureAttentionRequest
  | ConsentAnswer;
export type IpcBody = ServiceToHelper | HelperToService;

const logFields: Guard<Record<string, string | number | boolean | null>> = (v, path) => {
  if (!isRecord(v)) fail(path, 'expected an object');
  const entries = Object.entries(v);
  if (entries.length > 32) fail(path, 'must have at most 32 fields');
  for (const [k, x] of entries) {
    if (k.length > 64) fail(`${path}.${k.slice(0, 64)}`, 'field name too long');
    const ok = x === null || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x));
    if (!ok && !(typeof x === 'string' && x.length <= 2000)) fail(`${path}.${k}`, 'must be a short scalar');
  }
  return v as Record<string, string | number | boolean | null>;
};

/** A desktop_start carries an offer (WebRTC) or a relay target (WebSocket), never both or neither. */
function offerXorRelay<T extends { offer?: string; relay?: RelayTarget }>(guard: Guard<T>): Guard<T> {
  return (v, path) => {
    const out = guard(v, path);
    if ((out.offer === undefined) === (out.relay === undefined)) {
      fail('offer', out.relay ? 'must be absent with relay' : 'is required');
    }
    return out;
  };
}

const guards: { [K in IpcBody['type']]: Guard<Extract<IpcBody, { type: K }>> } = {
  capabilities: object({
    type: oneOf(['capabilities']),
    sessionId: osSessionId,
    canCapture: bool,
    displays: displayList,
    pid: int(1, 0x7fff_ffff),
    platform: str({ max: 32 }),
    reason: optional(str({ max: 2000 })),
  }),
  desktop_start: offerXorRelay(
    object({
      type: oneOf(['desktop_start']),
      sessionId: desktopSessionId,
      offer: optional(sdp),
      relay: optional(relayTarget),
      iceServers: iceServerList,
      displayIndex,
      viewer: optional(viewerIdentity),
      permissions: optional(viewerPermissions),
      limits: optional(desktopLimits),
      blockLocalInput: optional(onlyTrue),
      audio: optional(onlyFalse),
    }),
  ),
  desktop_add_peer: object({
    type: oneOf(['desktop_add_peer']),
    sessionId: desktopSessionId,
    offer: sdp,
    iceServers: iceServerList,
    viewer: viewerIdentity,
  }),
  desktop_started: object({
    type: oneOf(['desktop_started']),
    sessionId: desktopSessionId,
    answer: optional(sdp),
  }),
  desktop_stop: object({ type: oneOf(['desktop_stop']), sessionId: desktopSessionId }),
  desktop_stopped: object({ type: oneOf(['desktop_stopped']), sessionId: desktopSessionId, existed: bool }),
  log: object({
    type: oneOf(['log']),
    level: oneOf(LOG_LEVELS),
    msg: str({ max: 2000 }),
    fields: optional(logFields),
  }),
  event: object({
    type: oneOf(['event']),
    name: oneOf(HELPER_EVENTS),
    sessionId: optional(desktopSessionId),
    detail: optional(str({ max: 2000 })),
  }),
  audit: object({ type: oneOf(['audit']), event: desktopAuditEvent }),
  shutdown: object({ type: oneOf(['shutdown']), reason: str({ max: 500 }) }),
  secure_attention: object({ type: oneOf(['secure_attention']) }),
  secure_attention_result: object({
    type: oneOf(['secure_attention_result']),
    outcome: oneOf(SECURE_ATTENTION_OUTCOMES),
    reason: optional(str({ max: MAX_SECURE_ATTENTION_REASON })),
    retryAfterMs: optional(int(0, 3_600_000)),
  }),
  consent_prompt: object({
    type: oneOf(['consent_prompt']),
    viewer: str({ min: 1, max: 256 }),
    asks: viewerPermissions,
    timeoutMs: int(1000, 600_000),
    absentAfterIdleMs: optional(int(1000, 86_400_000)),
  }),
  consent_answer: object({
    type: oneOf(['consent_answer']),
    outcome: oneOf(CONSENT_ANSWERS),
    reason: optional(str({ max: 1000 })),
  }),
};

const SERVICE_TO_HELPER = [
  'desktop_start',
  'desktop_add_peer',
  'desktop_stop',
  'shutdown',
  'secure_attention_result',
  'consent_prompt',
] as const;
const HELPER_TO_SERVICE = [
  'capabilities',
  'desktop_started',
  'desktop_stopped',
  'log',
  'event',
  'audit',
  'secure_attention',
  'consent_answer',
] as const;

function parseBody<T extends IpcBody>(allowed: readonly T['type'][], v: unknown): T {
  if (!isRecord(v)) fail('', 'message must be an object');
  const type = oneOf(allowed)(v.type, 'type');
  return guards[type](v, '') as unknown as T;
}

/** Validates a body the helper received from the service. */
export const parseServiceToHelper = (v: unknown): ServiceToHelper => parseBody(SERVICE_TO_HELPER, v);
/** Validates a body the service received from a helper. */
export const parseHelperToService = (v: unknown): HelperToService => parseBody(HELPER_TO_SERVICE, v);

/**
 * Versioning of the API ⇄ service link. Both sides' guards refuse unknown fields (fail closed), so a
 * field added to a command or a reply would break an older peer in a mixed fleet. Each side therefore
 * announces, in headers of the WebSocket upgrade (the agent on its request, the API on its 101), the
 * protocol version it speaks and the optional features it understands, and sends the other only the
 * fields that one announced. A peer that announces nothing is version 1: the link as first released.
 * design/PROTOCOL.md ("Versions and features") says why headers and not a hello message.
 */
import { PortholeError } from '../errors/porthole-error.js';
import type { ErrorBody } from './common.js';

/** Agent → API on the upgrade request, API → agent on the 101: the version spoken (a decimal integer). */
export const API_LINK_VERSION_HEADER = 'x-porthole-protocol';
/** The features understood, comma-separated (`viewer, capacity_errors`). */
export const API_LINK_FEATURES_HEADER = 'x-porthole-features';

/**
 * 1: no announcement; `start_desktop {sessionId, offer, iceServers, displayIndex?, targetSessionId?}`,
 *    error replies `{code, message}` with the five original codes.
 * 2: each side announces its features; everything beyond version 1 is one of them.
 */
export const API_LINK_VERSION = 2;

/**
 * What a peer can understand beyond version 1. Each side announces every feature it understands and
 * sends a gated field only to a peer that announced its feature:
 * - `viewer`: `start_desktop.payload.viewer {name}` (API → agent);
 * - `permissions`: `start_desktop.payload.permissions {control, files}` (API → agent), enforced by
 *   the agent's helper;
 * - `audit_events`: `{type: "event", targetSessionId, event}` messages (agent → API, audit-event.ts),
 *   sent only to an API that announced it;
 * - `capacity_errors`: the error codes `too_many_viewers`, `busy`, `rate_limited` and
 *   `error.retryAfterMs` (agent → API);
 * - `consent`: the error codes `consent_denied` and `consent_timeout`, and the `waiting` message that
 *   tells the API a command waits for the person at the machine (agent → API; api.ts, CommandWaiting).
 * - `ws_relay`: `start_desktop.payload.relay {url, ticket}` without an offer (API → agent), answered
 *   `{sessionId, transport: "websocket"}` (relay.ts, design/API.md "WebSocket relay").
 * - `add_peer`: the command `add_peer` (API → agent), a second peer connection for a desktop that runs
 *   (the viewer's network changed), and the error code `no_such_desktop` (agent → API).
 */
export const API_LINK_FEATURES = [
  'viewer',
  'capacity_errors',
  'permissions',
  'audit_events',
  'consent',
  'ws_relay',
  'add_peer',
] as const;
export type ApiLinkFeature = (typeof API_LINK_FEATURES)[number];

/** What the other end of one connection announced. */
export interface ApiLinkPeer {
  version: number;
  features: ReadonlySet<ApiLinkFeature>;
  /** Why an announcement was ignored (the peer then counts as version 1), for one log line. */
  malformed?: string;
}

export const API_LINK_V1: ApiLinkPeer = { version: 1, features: new Set() };

/** This side's announcement, as headers for the upgrade request or the 101. */
export function apiLinkHeaders(): Record<string, string> {
  return {
    [API_LINK_VERSION_HEADER]: String(API_LINK_VERSION),
    [API_LINK_FEATURES_HEADER]: API_LINK_FEATURES.join(', '),
  };
}

/** Bounds on what a peer may announce: a header is read, never trusted with memory. */
const MAX_FEATURES_HEADER = 1024;
const MAX_FEATURES = 64;
const FEATURE_TOKEN = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * What the peer announced in these (request or response) headers. No version header: version 1.
 * A malformed announcement (a version that is not an integer 1–65535, a repeated header, a features
 * list too long or with a token that is not `[a-z][a-z0-9_]*`) also counts as version 1, with
 * `malformed` saying why: sending only version-1 fields is always safe, and refusing the connection
 * would leave an agent retrying forever. Unknown features are ignored (a newer peer's).
 */
export function parseApiLinkPeer(headers: Record<string, string | string[] | undefined>): ApiLinkPeer {
  const version = headers[API_LINK_VERSION_HEADER];
  if (version === undefined) return API_LINK_V1;
  const malformed = (why: string): ApiLinkPeer => ({ ...API_LINK_V1, malformed: why });
  if (typeof version !== 'string' || !/^[1-9]\d{0,4}$/.test(version.trim()) || Number(version) > 65_535) {
    return malformed(`${API_LINK_VERSION_HEADER} is not an integer from 1 to 65535`);
  }
  const n = Number(version);
  if (n === 1) return API_LINK_V1;
  const list = headers[API_LINK_FEATURES_HEADER] ?? '';
  if (typeof list !== 'string') return malformed(`${API_LINK_FEATURES_HEADER} is repeated`);
  if (list.length > MAX_FEATURES_HEADER) {
    return malformed(`${API_LINK_FEATURES_HEADER} is longer than ${MAX_FEATURES_HEADER} characters`);
  }
  const tokens = list
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (tokens.length > MAX_FEATURES) {
    return malformed(`${API_LINK_FEATURES_HEADER} names more than ${MAX_FEATURES} features`);
  }
  if (!tokens.every((t) => FEATURE_TOKEN.test(t))) {
    return malformed(`${API_LINK_FEATURES_HEADER} holds a token that is not [a-z][a-z0-9_]*`);
  }
  const known = new Set<ApiLinkFeature>(
    tokens.filter((t): t is ApiLinkFeature => (API_LINK_FEATURES as readonly string[]).includes(t)),
  );
  return { version: n, features: known };
}

/**
 * A field beyond version 1 and what happens for a peer without its feature: `omit` for a field the
 * peer may go without (it behaves as before the field existed), `refuse` for one whose absence would
 * change what the request means (e.g. a restriction the peer would not apply).
 */
export interface GatedField {
  feature: ApiLinkFeature;
  without: 'omit' | 'refuse';
}

/** The fields of each command's payload that need a feature. */
export const COMMAND_GATES: Readonly<Record<string, Readonly<Record<string, GatedField>>>> = {
  start_desktop: {
    // The agent's helper limits each viewer's unconnected desktops; an older agent has its global cap.
    viewer: { feature: 'viewer', without: 'omit' },
    // A restriction: an agent that would drop it would hand a view-only viewer full control.
    permissions: { feature: 'permissions', without: 'refuse' },
    // Without an offer an older agent could only refuse the command as malformed.
    relay: { feature: 'ws_relay', without: 'refuse' },
  },
};

/**
 * Commands beyond version 1 and the feature each needs: an agent without it would refuse the command
 * as unknown, so the API refuses it first (409 `agent_outdated`).
 */
export const COMMAND_FEATURES: Readonly<Record<string, ApiLinkFeature>> = {
  add_peer: 'add_peer',
};

/** Throws MissingFeatureError when command `type` needs a feature this peer did not announce. */
export function assertCommandSupported(
  type: string,
  peer: ApiLinkPeer,
  features: Readonly<Record<string, ApiLinkFeature>> = COMMAND_FEATURES,
): void {
  const feature = Object.hasOwn(features, type) ? features[type] : undefined;
  if (feature !== undefined && !peer.features.has(feature))
    throw new MissingFeatureError(feature, type, peer);
}

/** A request needs a feature the agent did not announce (the API answers 409 `agent_outdated`). */
export class MissingFeatureError extends PortholeError<'agent_outdated'> {
  override name = 'MissingFeatureError';
  constructor(
    readonly feature: ApiLinkFeature,
    readonly field: string,
    peer: ApiLinkPeer,
  ) {
    super(
      'agent_outdated',
      `the device's agent (protocol ${peer.version}) does not support '${feature}' (needed for ${field}); ` +
        'update porthole on the device',
    );
  }
}

/**
 * The payload of command `type` as this peer can read it: each gated field the peer lacks is left out
 * (`omit`) or refused with MissingFeatureError (`refuse`). Other fields pass unchanged.
 */
export function payloadForPeer<P extends object>(
  type: string,
  payload: P,
  peer: ApiLinkPeer,
  gates: Readonly<Record<string, Readonly<Record<string, GatedField>>>> = COMMAND_GATES,
): P {
  const gated = gates[type];
  if (!gated) return payload;
  let out: Record<string, unknown> | undefined;
  for (const [field, gate] of Object.entries(gated)) {
    if (!Object.hasOwn(payload, field) || peer.features.has(gate.feature)) continue;
    if (gate.without === 'refuse') throw new MissingFeatureError(gate.feature, `${type}.${field}`, peer);
    out ??= { ...(payload as Record<string, unknown>) };
    delete out[field];
  }
  return (out ?? payload) as P;
}

const CAPACITY_CODES: readonly string[] = ['too_many_viewers', 'busy', 'rate_limited'];
const CONSENT_CODES: readonly string[] = ['consent_denied', 'consent_timeout'];
const ADD_PEER_CODES: readonly string[] = ['no_such_desktop'];

/**
 * An error body as this peer can read it. An API without `capacity_errors` knows neither the capacity
 * codes nor `retryAfterMs`, one without `consent` not the consent codes: it hears
 * `helper_unavailable` (its 503), the message prefixed with the real code, and no `retryAfterMs`.
 */
export function errorBodyForPeer(body: ErrorBody, peer: ApiLinkPeer): ErrorBody {
  const unknownCode =
    (CAPACITY_CODES.includes(body.code) && !peer.features.has('capacity_errors')) ||
    (CONSENT_CODES.includes(body.code) && !peer.features.has('consent')) ||
    (ADD_PEER_CODES.includes(body.code) && !peer.features.has('add_peer'));
  if (unknownCode) {
    return { code: 'helper_unavailable', message: `${body.code}: ${body.message}`.slice(0, 2000) };
  }
  if (peer.features.has('capacity_errors')) return body;
  return { code: body.code, message: body.message };
}

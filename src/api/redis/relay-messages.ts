/**
 * The messages API instances exchange over Redis pub/sub, one channel per instance
 * (`porthole:instance:<id>`). Redis sits inside the deployment's trust boundary, but a message is still
 * validated before it is acted on: a wrong shape is logged and dropped, never thrown into the hub.
 *
 * - `cmd`: run a command on an agent held by the receiving instance; `rid` is the request id, `from`
 *   the requester's instance id (where `waiting` and `reply` go).
 * - `waiting`: the agent waits for the person at the machine; the requester moves its deadline once.
 * - `reply`: the command's outcome, exactly once per `rid` (the requester ignores any later one).
 * - `takeover`: the sender now holds the device's agent; the receiver drops its stale connection.
 */
import { API_COMMAND_TYPES, type ApiCommandType } from '../../protocol/api.js';
import {
  int,
  isRecord,
  literal,
  object,
  oneOf,
  optional,
  str,
  bool,
  fail,
  type Guard,
} from '../../protocol/validate.js';
import { DEVICE_ID_PATTERN } from '../store.js';

export const INSTANCE_ID_PATTERN = /^[a-f0-9]{12}$/;
const instanceId = str({ max: 12, pattern: INSTANCE_ID_PATTERN });
const requestId = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ });
const deviceId = str({ max: 128, pattern: DEVICE_ID_PATTERN });

export interface CmdMessage {
  t: 'cmd';
  rid: string;
  from: string;
  deviceId: string;
  type: ApiCommandType;
  payload: unknown;
}
export interface WaitingMessage {
  t: 'waiting';
  rid: string;
  timeoutMs: number;
}
export interface ReplyMessage {
  t: 'reply';
  rid: string;
  ok: boolean;
  result?: unknown;
  error?: { status: number; code: string; message: string; retryAfter?: string };
}
export interface TakeoverMessage {
  t: 'takeover';
  deviceId: string;
  by: string;
}
export type RelayMessage = CmdMessage | WaitingMessage | ReplyMessage | TakeoverMessage;

const cmd = object({
  t: literal('cmd'),
  rid: requestId,
  from: instanceId,
  deviceId,
  type: oneOf(API_COMMAND_TYPES),
  // The payload is checked by the command's own guard when the owner runs it (parseApiCommand).
  payload: (v: unknown, path: string) => (isRecord(v) ? v : fail(path, 'expected an object')),
});
const waiting = object({ t: literal('waiting'), rid: requestId, timeoutMs: int(0, 3_600_000) });
const reply = object({
  t: literal('reply'),
  rid: requestId,
  ok: bool,
  result: optional((v: unknown) => v),
  error: optional(
    object({
      status: int(400, 599),
      code: str({ min: 1, max: 64, pattern: /^[a-z_]+$/ }),
      message: str({ max: 2000 }),
      retryAfter: optional(str({ max: 16, pattern: /^\d+$/ })),
    }),
  ),
});
const takeover = object({ t: literal('takeover'), deviceId, by: instanceId });

const guards: Record<RelayMessage['t'], Guard<unknown>> = { cmd, waiting, reply, takeover };

/** Parses one message from an instance channel; throws ProtocolError naming the bad field. */
export function parseRelayMessage(text: string): RelayMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    fail('', 'not JSON');
  }
  if (!isRecord(raw) || typeof raw.t !== 'string' || !Object.hasOwn(guards, raw.t)) {
    fail('t', 'is not a known relay message');
  }
  const message = guards[raw.t as RelayMessage['t']](raw, '') as RelayMessage;
  if (message.t === 'reply' && message.ok === (message.error !== undefined)) {
    fail('error', message.ok ? 'is not allowed on a success' : 'is required on a failure');
  }
  return message;
}

export function instanceChannel(id: string): string {
  return `porthole:instance:${id}`;
}

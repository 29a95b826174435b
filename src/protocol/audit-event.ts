/**
 * Audit events from inside a desktop session. The API never sees DataChannel traffic, so what
 * happens there (a file moved, later a consent answer or a session cut by policy) is reported by the
 * helper as metadata only — never a file's contents or a chat's text — helper → service (`audit` on
 * the pipe) → API (`event` on the agent link, feature `audit_events`) → the API's audit log.
 *
 * Each hop validates the event with `desktopAuditEvent` and admits at most AUDIT_EVENTS_PER_WINDOW per
 * AUDIT_EVENT_WINDOW_MS from its source (`AuditEventBudget`); beyond it events are dropped and counted,
 * so a hostile helper or agent cannot flood a log. The helper emits `file_transfer`, `session_cut`
 * and `chat` (that chat was used on a desktop, never what was said); the service emits `consent`.
 */
import { desktopSessionId, osSessionId } from './common.js';
import { fail, int, isRecord, object, oneOf, str, type Guard } from './validate.js';

export const FILE_DIRECTIONS = ['upload', 'download'] as const;
export const CONSENT_OUTCOMES = ['accepted', 'denied', 'timed_out'] as const;
/** `user`: the person at the machine pressed Disconnect on the being-viewed indicator. */
export const SESSION_CUT_REASONS = ['max_length', 'idle', 'user'] as const;

export type DesktopAuditEvent =
  | {
      kind: 'file_transfer';
      /** The desktop connection (start_desktop's sessionId). */
      desktop: string;
      /** upload: viewer → machine; download: machine → viewer. */
      direction: (typeof FILE_DIRECTIONS)[number];
      /** The file's name as stored (upload) or read (download); never a path. */
      name: string;
      size: number;
      /** `complete`, `cancelled`, or the failure's code (`bad_name`, `too_large`, `checksum_mismatch`…). */
      outcome: string;
    }
  | { kind: 'consent'; desktop: string; outcome: (typeof CONSENT_OUTCOMES)[number] }
  | { kind: 'session_cut'; desktop: string; reason: (typeof SESSION_CUT_REASONS)[number] }
  /** Chat was used on this desktop connection (once per connection; never the text). */
  | { kind: 'chat'; desktop: string };

export const AUDIT_EVENT_KINDS = ['file_transfer', 'consent', 'session_cut', 'chat'] as const;

/** A file name within the files protocol's bound (255 UTF-8 bytes ≤ 255 UTF-16 units × 3). */
const fileName = str({ min: 1, max: 255 });
const outcome = str({ min: 1, max: 32, pattern: /^[a-z][a-z_]*$/ });
/** Sizes up to 2^53 - 1: JSON carries them exactly. */
const size = int(0, Number.MAX_SAFE_INTEGER);

const guards: { [K in DesktopAuditEvent['kind']]: Guard<Extract<DesktopAuditEvent, { kind: K }>> } = {
  file_transfer: object({
    kind: oneOf(['file_transfer']),
    desktop: desktopSessionId,
    direction: oneOf(FILE_DIRECTIONS),
    name: fileName,
    size,
    outcome,
  }),
  consent: object({ kind: oneOf(['consent']), desktop: desktopSessionId, outcome: oneOf(CONSENT_OUTCOMES) }),
  session_cut: object({
    kind: oneOf(['session_cut']),
    desktop: desktopSessionId,
    reason: oneOf(SESSION_CUT_REASONS),
  }),
  chat: object({ kind: oneOf(['chat']), desktop: desktopSessionId }),
};

/** Validates one event (every hop calls it: the pipe, the agent link). */
export const desktopAuditEvent: Guard<DesktopAuditEvent> = (v, path) => {
  if (!isRecord(v)) fail(path, 'expected an object');
  const kind = oneOf(AUDIT_EVENT_KINDS)(v.kind, path ? `${path}.kind` : 'kind');
  return guards[kind](v, path) as DesktopAuditEvent;
};

/** Agent → API on the link (feature `audit_events`): no id, no reply. */
export interface AgentEventMessage {
  type: 'event';
  /** The OS session of the helper that reported it, as the service knows it (never the helper's word). */
  targetSessionId: number;
  event: DesktopAuditEvent;
}

export const agentEventMessage: Guard<AgentEventMessage> = object({
  type: oneOf(['event']),
  targetSessionId: osSessionId,
  event: desktopAuditEvent,
});

export const AUDIT_EVENT_WINDOW_MS = 60_000;
/** Per source and window: a few per file moved, far above any real use, far below a flood. */
export const AUDIT_EVENTS_PER_WINDOW = 120;

/**
 * A fixed-window counter on an injected clock: `admit()` is true for the first `max` calls of each
 * window; `droppedThisWindow` counts the refusals since the window began (log the first only).
 */
export class AuditEventBudget {
  private windowStart: number;
  private used = 0;
  private dropped = 0;

  get droppedThisWindow(): number {
    return this.dropped;
  }

  constructor(
    private readonly now: () => number,
    private readonly max = AUDIT_EVENTS_PER_WINDOW,
    private readonly windowMs = AUDIT_EVENT_WINDOW_MS,
  ) {
    this.windowStart = now();
  }

  admit(): boolean {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t;
      this.used = 0;
      this.dropped = 0;
    }
    if (this.used >= this.max) {
      this.dropped += 1;
      return false;
    }
    this.used += 1;
    return true;
  }
}

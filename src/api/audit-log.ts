/**
 * The audit trail: who (viewer token name) did what to which device and desktop, from where, and
 * whether it worked. Never holds a token. With the JSON store: one JSON object per line in
 * `audit.jsonl` in the data dir, mode 0600, appended synchronously so lines from concurrent requests
 * never interleave (AuditLog). With PostgreSQL: the `audit_log` table every instance shares
 * (postgres/pg-audit.ts).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../errors/error-text.js';

export const AUDIT_FILE = 'audit.jsonl';

export type AuditAction =
  | 'login'
  | 'list_sessions'
  | 'start_desktop'
  | 'stop_desktop'
  | 'add_peer'
  | 'agent_connected'
  | 'agent_disconnected'
  | 'enroll'
  | 'enroll_key_created'
  | 'enroll_key_revoked'
  | 'device_renamed'
  // Reported by the device's helper (metadata only; protocol/audit-event.ts):
  | 'file_transfer'
  | 'consent'
  | 'session_cut'
  | 'chat';

export interface AuditEvent {
  /** The viewer token's name; null for agent events and failed logins with an unknown token. */
  viewer: string | null;
  device: string | null;
  action: AuditAction;
  desktopSessionId?: string;
  targetSessionId?: number;
  ok: boolean;
  /** The error code when `ok` is false (e.g. `device_offline`, `no_such_session`). */
  code?: string;
  /** The peer's IP address (the client's, behind a `--trusted-proxy`); `cli` for admin commands. */
  remote: string;
  /** The enrollment key's id (never the key) for enrollment events. */
  enrollKey?: string;
  /** The device's name after `enroll` or `device_renamed`, the key's label for `enroll_key_created`. */
  name?: string;
  /** A start_desktop of a view-only viewer (its permissions went to the device). */
  viewOnly?: boolean;
  /** file_transfer: upload (viewer → device) or download (device → viewer). */
  direction?: 'upload' | 'download';
  /** file_transfer: the file's name as stored or read (never a path, never its contents). */
  file?: string;
  /** file_transfer: its size in bytes. */
  size?: number;
}

export interface AuditLine extends AuditEvent {
  time: string;
}

/** Where audit lines go. `record` never throws and never waits: a failing sink reports to the log. */
export interface AuditSink {
  record(event: AuditEvent): void;
  /** Resolves once every line recorded so far is stored (or given up on and logged). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export class AuditLog implements AuditSink {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {
    this.fd = openSync(file, 'a', 0o600);
  }

  static open(dir: string, log: Logger): AuditLog {
    return new AuditLog(join(dir, AUDIT_FILE), log);
  }

  record(event: AuditEvent): void {
    if (this.fd === undefined) return;
    const line: AuditLine = { time: new Date().toISOString(), ...event };
    try {
      writeSync(this.fd, `${JSON.stringify(line)}\n`);
    } catch (err) {
      // A full disk must not take the API down; the operator sees the failure in the log.
      this.log.error({ err: errorMessage(err), action: event.action }, 'cannot write the audit log');
    }
  }

  async flush(): Promise<void> {
    // Every line was written synchronously by record().
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

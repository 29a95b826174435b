/**
 * The audit log on PostgreSQL: the `audit_log` table, shared by every API instance (a local
 * audit.jsonl per instance would scatter one fleet's trail over several machines).
 *
 * `record()` must not make a request wait for the database, nor fail it: lines go to a bounded
 * in-memory queue that one writer drains in batches (a multi-row INSERT). While the database is down
 * the writer retries every `retryMs` and keeps up to `maxQueued` lines; a line beyond that is written
 * to the process log at error level instead (audit lines hold no secret), so the trail survives in
 * the journal. `close()` waits up to `closeWaitMs` for the queue to drain, then logs what is left the
 * same way. Lines of one instance keep their order; across instances, order by `time`.
 */
import type { Pool } from 'pg';
import type { Logger } from '../../log/logger.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import { errorMessage } from '../../errors/error-text.js';
import type { AuditEvent, AuditLine, AuditSink } from '../audit-log.js';

export interface PgAuditOptions {
  /** Lines held while the database is unreachable (default 10 000). */
  maxQueued?: number;
  /** Lines per INSERT (default 500). */
  batch?: number;
  /** Pause before retrying a failed INSERT (default 2 s). */
  retryMs?: number;
  /** How long close() waits for the queue to drain (default 5 s). */
  closeWaitMs?: number;
  timers?: Timers;
  /** Removes the database password from an error text. */
  scrub?: (text: string) => string;
}

export class PgAuditLog implements AuditSink {
  private readonly queue: AuditLine[] = [];
  private writing: Promise<void> | undefined;
  private retry: { handle: TimerHandle; wake: () => void } | undefined;
  private failing = false;
  private closed = false;
  private readonly o: Required<PgAuditOptions>;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    options: PgAuditOptions = {},
  ) {
    this.o = {
      maxQueued: options.maxQueued ?? 10_000,
      batch: options.batch ?? 500,
      retryMs: options.retryMs ?? 2000,
      closeWaitMs: options.closeWaitMs ?? 5000,
      timers: options.timers ?? realTimers,
      scrub: options.scrub ?? ((t) => t),
    };
  }

  /** Lines waiting to be written. */
  get pending(): number {
    return this.queue.length;
  }

  record(event: AuditEvent): void {
    const line: AuditLine = { time: new Date().toISOString(), ...event };
    if (this.closed || this.queue.length >= this.o.maxQueued) {
      this.log.error({ audit: line }, 'audit line not stored in the database (queue full or closed)');
      return;
    }
    this.queue.push(line);
    this.writing ??= this.drain().finally(() => (this.writing = undefined));
  }

  async flush(): Promise<void> {
    while (this.writing) {
      // A flush during an outage retries at once rather than after the pause.
      this.retry?.wake();
      await this.writing;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    let timer: TimerHandle | undefined;
    const waited = await Promise.race([
      this.flush().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = this.o.timers.setTimeout(() => resolve(false), this.o.closeWaitMs);
      }),
    ]);
    this.o.timers.clearTimeout(timer);
    if (!waited || this.queue.length > 0) {
      for (const line of this.queue.splice(0)) {
        this.log.error({ audit: line }, 'audit line not stored in the database (API stopping)');
      }
      this.retry?.wake();
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.o.batch);
      try {
        await this.insert(batch);
        this.queue.splice(0, batch.length);
        if (this.failing) this.log.info({ pending: this.queue.length }, 'audit log writes resumed');
        this.failing = false;
      } catch (err) {
        if (!this.failing) {
          this.log.error(
            { err: this.o.scrub(errorMessage(err)), pending: this.queue.length },
            'cannot write the audit log to the database; keeping lines in memory and retrying',
          );
        }
        this.failing = true;
        if (this.closed) return;
        await new Promise<void>((resolve) => {
          const wake = () => {
            this.o.timers.clearTimeout(handle);
            this.retry = undefined;
            resolve();
          };
          const handle = this.o.timers.setTimeout(wake, this.o.retryMs);
          handle.unref();
          this.retry = { handle, wake };
        });
      }
    }
  }

  private async insert(lines: readonly AuditLine[]): Promise<void> {
    await this.pool.query(
      `INSERT INTO audit_log (time, action, viewer, device, ok, line)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::jsonb[])`,
      [
        lines.map((l) => l.time),
        lines.map((l) => l.action),
        lines.map((l) => l.viewer),
        lines.map((l) => l.device),
        lines.map((l) => l.ok),
        lines.map((l) => JSON.stringify(l)),
      ],
    );
  }
}

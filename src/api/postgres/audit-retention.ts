/**
 * Keeps the `audit_log` table to its retention (`porthole api serve --audit-retention-days`, default
 * 365): lines older than that are deleted when the API starts and then once a day, in batches so one
 * prune never holds a long transaction. Every instance prunes; the deletes are idempotent, so two
 * instances pruning at once only share the work. The JSON store's audit.jsonl is not pruned here
 * (rotate it with logrotate, design/DEPLOY.md).
 */
import type { Pool } from 'pg';
import type { Logger } from '../../log/logger.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import { errorMessage } from '../../errors/error-text.js';

export const DEFAULT_AUDIT_RETENTION_DAYS = 365;
export const PRUNE_EVERY_MS = 86_400_000;
const BATCH = 10_000;

export interface AuditRetentionOptions {
  days: number;
  log: Logger;
  timers?: Timers;
  /** Wall-clock ms (the cut-off is a date). */
  now?: () => number;
  scrub?: (text: string) => string;
}

export class AuditRetention {
  private timer: TimerHandle | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  private readonly timers: Timers;

  constructor(
    private readonly pool: Pool,
    private readonly o: AuditRetentionOptions,
  ) {
    this.timers = o.timers ?? realTimers;
  }

  /** Prunes now (not awaited by the caller's start-up) and every day after. */
  start(): void {
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    this.running = this.pruneOnce().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      this.timer = this.timers.setTimeout(() => this.tick(), PRUNE_EVERY_MS);
      this.timer.unref();
    });
  }

  /** Deletes the lines older than the retention; returns how many. Failures are logged, not thrown. */
  async pruneOnce(): Promise<number> {
    const cutoff = new Date((this.o.now ?? Date.now)() - this.o.days * 86_400_000);
    let total = 0;
    try {
      for (;;) {
        const { rowCount } = await this.pool.query(
          'DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE time < $1 LIMIT $2)',
          [cutoff, BATCH],
        );
        total += rowCount ?? 0;
        if (this.stopped || (rowCount ?? 0) < BATCH) break;
      }
      if (total > 0)
        this.o.log.info({ deleted: total, before: cutoff.toISOString() }, 'pruned the audit log');
    } catch (err) {
      const why = (this.o.scrub ?? ((t: string) => t))(errorMessage(err));
      this.o.log.warn({ err: why }, 'cannot prune the audit log; trying again tomorrow');
    }
    return total;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    await this.running;
  }
}

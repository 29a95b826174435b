/**
 * Where the service logs when the SCM runs it: a service has no console, so its JSON lines go to
 * `%ProgramData%\porthole\logs\service.log`, rotated by size (service.log → service.log.1 → … →
 * service.log.N, the oldest dropped), and its start, stop and failure also go to the Windows Event Log,
 * where an administrator looks first.
 */
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { EVENTLOG_ERROR_TYPE, EVENTLOG_INFORMATION_TYPE, reportEvent } from '../../native/win32/event-log.js';
import type { Logger, LogLevel } from '../../log/logger.js';
import { errorMessage } from '../../errors/error-text.js';

export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_FILES = 5;

/** `%ProgramData%\porthole\logs`, where the SCM-run service writes service.log (and helpers theirs). */
export function defaultServiceLogDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.ProgramData ?? env.PROGRAMDATA ?? env.ALLUSERSPROFILE ?? 'C:\\ProgramData';
  return join(base, 'porthole', 'logs');
}

/**
 * Appends lines to `file` synchronously (a service's log rate is low, and a crash must not lose the
 * lines before it) and rotates once the file would pass `maxBytes`.
 */
export class RotatingLogFile {
  readonly file: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  #size: number;

  constructor(file: string, opts: { maxBytes?: number; keep?: number } = {}) {
    this.file = file;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_MAX_LOG_BYTES;
    this.#keep = opts.keep ?? DEFAULT_LOG_FILES;
    if (!(this.#maxBytes > 0) || !(Number.isInteger(this.#keep) && this.#keep >= 1)) {
      throw new RangeError('maxBytes must be > 0 and keep an integer >= 1');
    }
    try {
      this.#size = statSync(file).size;
    } catch {
      this.#size = 0;
    }
  }

  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.#size > 0 && this.#size + bytes > this.#maxBytes) this.#rotate();
    appendFileSync(this.file, line);
    this.#size += bytes;
  }

  #rotate(): void {
    rmSync(`${this.file}.${this.#keep}`, { force: true });
    for (let i = this.#keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      } catch {
        // that generation does not exist yet
      }
    }
    renameSync(this.file, `${this.file}.1`);
    this.#size = 0;
  }
}

/** A pino logger writing JSON lines to `<dir>/service.log` with rotation. Creates the folder. */
export function createServiceFileLogger(
  dir: string,
  level: LogLevel,
  opts: { maxBytes?: number; keep?: number } = {},
): { log: Logger; file: RotatingLogFile } {
  mkdirSync(dir, { recursive: true });
  const file = new RotatingLogFile(join(dir, 'service.log'), opts);
  const log = pino(
    { name: 'porthole-service', level, base: { pid: process.pid } },
    { write: (l: string) => file.write(l) },
  );
  return { log, file };
}

/** Event ids in the Application log (source "porthole"). */
export const SERVICE_EVENT_IDS = { started: 1, stopped: 2, failed: 3 } as const;

/**
 * Reports a service event to the Event Log; a failure to do so is logged, never thrown (the service
 * must not stop because the event log is full or unavailable).
 */
export function reportServiceEvent(
  source: string,
  kind: keyof typeof SERVICE_EVENT_IDS,
  text: string,
  log: Logger,
): boolean {
  try {
    reportEvent(
      source,
      kind === 'failed' ? EVENTLOG_ERROR_TYPE : EVENTLOG_INFORMATION_TYPE,
      SERVICE_EVENT_IDS[kind],
      text,
    );
    return true;
  } catch (err) {
    log.warn({ err: errorMessage(err), kind }, 'event log write failed');
    return false;
  }
}

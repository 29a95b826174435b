import type { Logger } from '../../../src/log/logger.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string | undefined;
}

/** A logger that keeps what it is given, for tests that check what gets logged and how often. */
export function recordingLogger(): Pick<Logger, 'debug' | 'info' | 'warn' | 'error'> & {
  entries: LogEntry[];
} {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj, msg });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

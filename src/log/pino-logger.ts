import pino from 'pino';
import type { Logger, LogLevel } from './logger.js';

/** Structured JSON lines on stderr (stdout stays free for command output). */
export function createLogger(name: string, level: LogLevel = 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

import { FakeSessionDetector } from './fake-session-detector.js';
import type { DetectedSession, SessionDetector } from './session-detector.js';
import { Win32SessionDetector } from './win32-session-detector.js';
import { X11SessionDetector, type X11SessionDetectorOptions } from './x11-session-detector.js';

export type {
  DetectedSession,
  SessionDetector,
  SessionEvent,
  SessionEventKind,
  X11SessionInfo,
} from './session-detector.js';
export { SESSION_EVENTS } from './session-detector.js';
export { diffSessions } from './session-diff.js';
export { FakeSessionDetector } from './fake-session-detector.js';
export {
  X11SessionDetector,
  type ConfiguredDisplay,
  type X11SessionDetectorOptions,
} from './x11-session-detector.js';

/** `auto` (the default) picks the platform's detector; `x11` asks for it explicitly. */
export type PlatformSessionDetectorConfig = { kind?: 'auto' | 'x11' } & X11SessionDetectorOptions;
export interface FakeSessionDetectorConfig {
  kind: 'fake';
  sessions?: DetectedSession[];
}
export type SessionDetectorConfig = PlatformSessionDetectorConfig | FakeSessionDetectorConfig;

/** The session detector for this machine, or the fake one when the configuration asks for it. */
export function createSessionDetector(
  config: FakeSessionDetectorConfig,
  platform?: NodeJS.Platform,
): FakeSessionDetector;
export function createSessionDetector(
  config?: SessionDetectorConfig,
  platform?: NodeJS.Platform,
): SessionDetector;
export function createSessionDetector(
  config: SessionDetectorConfig = {},
  platform: NodeJS.Platform = process.platform,
): SessionDetector {
  if (config.kind === 'fake') return new FakeSessionDetector(config.sessions);
  const { kind: _kind, ...x11Options } = config;
  if (config.kind === 'x11' || platform === 'linux') return new X11SessionDetector(x11Options);
  if (platform === 'win32')
    return new Win32SessionDetector({ pollMs: x11Options.pollMs, log: x11Options.log });
  throw new Error(`no session detector for platform '${platform}'`);
}

/**
 * Viewer ⇄ helper messages on the WebRTC DataChannels, JSON text, one message per DataChannel message.
 * - `input` (viewer → helper): pointer, buttons, wheel, keys by KeyboardEvent.code, text, clipboard.
 * - `control` (both ways): heartbeat, Ctrl+Alt+Del, display switch, keyframe, rate, audio on/off; the
 *   helper answers with display lists, clipboard text and errors.
 * - `cursor` (helper → viewer): cursor position and shape, drawn by the viewer.
 * - `files` (both ways, reliable and ordered): file transfer and browsing; its messages are in files.ts.
 * - `chat` (both ways, reliable and ordered): text with the person at the machine; chat.ts.
 * Everything from the viewer is untrusted: sizes are bounded and numbers range-checked.
 */
import { displayIndex, displayList, type DisplayInfo } from './common.js';
import { bool, fail, int, isRecord, num, object, oneOf, optional, str, type Guard } from './validate.js';

export const DATA_CHANNELS = {
  input: 'input',
  control: 'control',
  cursor: 'cursor',
  files: 'files',
  /** Text with the person at the machine (both ways; reliable, ordered): chat.ts. */
  chat: 'chat',
} as const;

/**
 * Largest JSON text accepted on a DataChannel. Chromium refuses SCTP messages over 256 KiB, so nothing
 * larger may be sent either way. Clipboard text dominates: 40 000 characters stay under that bound
 * even when JSON escapes every one of them (\uXXXX, 6 bytes).
 */
export const MAX_DATACHANNEL_MESSAGE = 256 * 1024;
export const MAX_CLIPBOARD_TEXT = 40_000;
/** Longest `text` message, in UTF-16 code units (longer input is split by the viewer). */
export const MAX_TEXT = 4096;

/**
 * A viewer sends `heartbeat` on `control` this often. Once the helper has seen one, HEARTBEAT_TIMEOUT_MS
 * without another releases every key and button that viewer holds (the stream stays up for its
 * return): a viewer that vanished cannot send its key-ups, and ICE takes ~30 s to notice it is gone.
 */
export const HEARTBEAT_INTERVAL_MS = 1000;
/** Two heartbeats may be late or lost before the viewer's input is released. */
export const HEARTBEAT_TIMEOUT_MS = 3000;

export const POINTER_BUTTONS = ['left', 'middle', 'right', 'back', 'forward'] as const;
export type PointerButton = (typeof POINTER_BUTTONS)[number];

/**
 * Position on the chosen display, normalised: 0 is the left/top edge, 1 the right/bottom edge. Any
 * finite number is accepted and clamped to [0, 1], as a local pointer stops at the screen's edge (a
 * drag that leaves the video, a rounding error of -0.0001); anything else is not a position and fails.
 */
const unit: Guard<number> = (v, path) => Math.min(1, Math.max(0, num(-Infinity, Infinity)(v, path)));
/** Largest wheel delta of one message on either axis: 100 notches. */
export const MAX_WHEEL_DELTA = 12_000;
/** Wheel delta in Windows' unit: 120 is one notch; negative dy scrolls up, negative dx left. */
const wheelDelta = num(-MAX_WHEEL_DELTA, MAX_WHEEL_DELTA);
/** KeyboardEvent.code values are short ASCII identifiers (KeyA, Digit1, ShiftLeft, NumpadEnter, F13). */
const keyCode = str({ min: 2, max: 32, pattern: /^[A-Za-z][A-Za-z0-9]*$/ });

export type InputMessage =
  | { type: 'pointer_move'; x: number; y: number }
  | { type: 'pointer_button'; button: PointerButton; down: boolean; x?: number; y?: number }
  | { type: 'wheel'; dx: number; dy: number }
  | { type: 'key'; code: string; down: boolean }
  | { type: 'text'; text: string }
  | { type: 'clipboard'; text: string };

export type ControlMessage =
  | { type: 'heartbeat' }
  | { type: 'ctrl_alt_del' }
  | { type: 'select_display'; index: number }
  | { type: 'keyframe' }
  | { type: 'rate'; bitrate?: number; fps?: number }
  /**
   * Whether this viewer wants the session's sound (default on when the answer has an audio track):
   * `off` stops sending it to this viewer, and the capture stops when no viewer listens.
   */
  | { type: 'audio'; state: AudioState };

export const AUDIO_STATES = ['on', 'off'] as const;
export type AudioState = (typeof AUDIO_STATES)[number];

export const HELPER_ERROR_CODES = ['unsupported', 'bad_message', 'failed', 'rate_limited'] as const;

export interface CursorShape {
  type: 'cursor_shape';
  /** Changes whenever the shape changes, so the viewer can cache shapes it has seen. */
  serial: number;
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  /** Straight (non-premultiplied) RGBA pixels, base64. */
  rgba: string;
}

/** Why a desktop connection is (about to be) cut by the machine's policy. */
export const SESSION_LIMIT_REASONS = ['max_length', 'idle'] as const;
export type SessionLimitReason = (typeof SESSION_LIMIT_REASONS)[number];
export const ENDED_REASONS = ['user'] as const;

export type HelperToViewer =
  | { type: 'displays'; displays: DisplayInfo[]; current: number }
  /** The connection will be cut in `remainingMs` (0: now) for `reason`; input from the viewer resets `idle`. */
  | { type: 'session_limit'; reason: SessionLimitReason; remainingMs: number }
  /**
   * This desktop ends now and should not be reconnected by itself: `user`, the person at the machine
   * pressed Disconnect on the being-viewed indicator.
   */
  | { type: 'ended'; reason: (typeof ENDED_REASONS)[number] }
  | { type: 'clipboard'; text: string }
  | { type: 'error'; code: (typeof HELPER_ERROR_CODES)[number]; message: string; about?: string }
  | { type: 'cursor'; x: number; y: number; visible: boolean; serial: number }
  | CursorShape;

type Guards<U extends { type: string }> = { [K in U['type']]: Guard<Extract<U, { type: K }>> };

const inputGuards: Guards<InputMessage> = {
  pointer_move: object({ type: oneOf(['pointer_move']), x: unit, y: unit }),
  pointer_button: object({
    type: oneOf(['pointer_button']),
    button: oneOf(POINTER_BUTTONS),
    down: bool,
    x: optional(unit),
    y: optional(unit),
  }),
  wheel: object({ type: oneOf(['wheel']), dx: wheelDelta, dy: wheelDelta }),
  key: object({ type: oneOf(['key']), code: keyCode, down: bool }),
  text: object({ type: oneOf(['text']), text: str({ min: 1, max: MAX_TEXT }) }),
  clipboard: object({ type: oneOf(['clipboard']), text: str({ max: MAX_CLIPBOARD_TEXT }) }),
};

const controlGuards: Guards<ControlMessage> = {
  heartbeat: object({ type: oneOf(['heartbeat']) }),
  ctrl_alt_del: object({ type: oneOf(['ctrl_alt_del']) }),
  select_display: object({ type: oneOf(['select_display']), index: displayIndex }),
  keyframe: object({ type: oneOf(['keyframe']) }),
  rate: object({
    type: oneOf(['rate']),
    bitrate: optional(int(100_000, 100_000_000)),
    fps: optional(int(1, 120)),
  }),
  audio: object({ type: oneOf(['audio']), state: oneOf(AUDIO_STATES) }),
};

/** Cursor images above 128×128 would not fit a DataChannel message as base64; real cursors are ≤ 64. */
const MAX_CURSOR = 128;
const helperGuards: Guards<HelperToViewer> = {
  displays: object({ type: oneOf(['displays']), displays: displayList, current: displayIndex }),
  clipboard: object({ type: oneOf(['clipboard']), text: str({ max: MAX_CLIPBOARD_TEXT }) }),
  session_limit: object({
    type: oneOf(['session_limit']),
    reason: oneOf(SESSION_LIMIT_REASONS),
    remainingMs: int(0, 86_400_000),
  }),
  ended: object({ type: oneOf(['ended']), reason: oneOf(ENDED_REASONS) }),
  error: object({
    type: oneOf(['error']),
    code: oneOf(HELPER_ERROR_CODES),
    message: str({ max: 2000 }),
    about: optional(str({ max: 64 })),
  }),
  cursor: object({
    type: oneOf(['cursor']),
    x: int(-65_536, 65_536),
    y: int(-65_536, 65_536),
    visible: bool,
    serial: int(0, 0xffff_ffff),
  }),
  cursor_shape: (v, path) => {
    const shape = object({
      type: oneOf(['cursor_shape']),
      serial: int(0, 0xffff_ffff),
      width: int(1, MAX_CURSOR),
      height: int(1, MAX_CURSOR),
      hotX: int(0, MAX_CURSOR - 1),
      hotY: int(0, MAX_CURSOR - 1),
      rgba: str({ max: Math.ceil((MAX_CURSOR * MAX_CURSOR * 4) / 3) * 4 + 4, pattern: /^[A-Za-z0-9+/]*=*$/ }),
    })(v, path);
    if (base64Length(shape.rgba) !== shape.width * shape.height * 4) {
      fail(`${path ? `${path}.` : ''}rgba`, 'length does not match width × height × 4');
    }
    if (shape.hotX >= shape.width || shape.hotY >= shape.height)
      fail(path || 'hotX', 'hotspot outside the cursor');
    return shape;
  },
};

/** Decoded byte length of base64 text (no Buffer: this module is also bundled into the viewer). */
function base64Length(b64: string): number {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return (b64.length / 4) * 3 - pad;
}

function parseWith<U extends { type: string }>(guards: Guards<U>, v: unknown): U {
  if (!isRecord(v)) fail('', 'message must be a JSON object');
  const type = oneOf(Object.keys(guards) as U['type'][])(v.type, 'type');
  return (guards[type] as Guard<U>)(v, '');
}

/** Parses DataChannel text: bounded size, valid JSON, then the per-type validator. */
export function parseDataChannelText<U>(text: unknown, parse: (v: unknown) => U): U {
  if (typeof text !== 'string') fail('', 'DataChannel messages must be text');
  if (text.length > MAX_DATACHANNEL_MESSAGE)
    fail('', `message longer than ${MAX_DATACHANNEL_MESSAGE} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('', 'message is not valid JSON');
  }
  return parse(value);
}

export const parseInputMessage = (v: unknown): InputMessage => parseWith(inputGuards, v);
export const parseControlMessage = (v: unknown): ControlMessage => parseWith(controlGuards, v);
export const parseHelperToViewer = (v: unknown): HelperToViewer => parseWith(helperGuards, v);

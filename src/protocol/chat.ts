/**
 * The `chat` DataChannel (reliable, ordered): text between the viewer and the person at the machine.
 * One JSON object per DataChannel message, like the other channels; bounded, validated, and rate-limited
 * by the helper (src/helper/webrtc/desktop-peer.ts, 1 line a second, bursts of 5). The text is never logged or audited: the audit log
 * only learns that chat was used (`{kind: "chat"}`, once per desktop connection).
 *
 * - both ways: `message {text}`: one line, 1 … MAX_CHAT_TEXT UTF-16 code units, without control or
 *   format characters (a line break or a bidi override could forge a line of someone else's in the
 *   session's chat window, where each line starts with its sender's name);
 * - helper → viewer: `error {code, message}`: `rate_limited` (messages were dropped), `unavailable`
 *   (the session cannot show a chat window, e.g. zenity is missing).
 */
import { fail, isRecord, object, oneOf, str, type Guard } from './validate.js';

/** Longest chat message: a few sentences; the session's window shows the last lines. */
export const MAX_CHAT_TEXT = 1000;
/**
 * What a line may not contain: control, format (bidi overrides, zero-width), line and paragraph
 * separators, and half a surrogate pair (JSON can carry one; it is no character, and each window shows
 * it differently or not at all).
 */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

export const CHAT_ERROR_CODES = ['rate_limited', 'unavailable'] as const;

export type ChatMessage = { type: 'message'; text: string };
export type ChatFromHelper =
  ChatMessage | { type: 'error'; code: (typeof CHAT_ERROR_CODES)[number]; message: string };

const chatText: Guard<string> = (v, path) => {
  const text = str({ min: 1, max: MAX_CHAT_TEXT })(v, path);
  if (FORBIDDEN.test(text)) fail(path, 'must not contain control or format characters');
  if (text.trim() === '') fail(path, 'must not be blank');
  return text;
};

const message: Guard<ChatMessage> = object({ type: oneOf(['message']), text: chatText });
const error: Guard<Extract<ChatFromHelper, { type: 'error' }>> = object({
  type: oneOf(['error']),
  code: oneOf(CHAT_ERROR_CODES),
  message: str({ max: 500 }),
});

/** Viewer → helper. */
export const parseChatMessage = (v: unknown): ChatMessage => {
  if (!isRecord(v)) fail('', 'message must be a JSON object');
  oneOf(['message'])(v.type, 'type');
  return message(v, '');
};

/** Helper → viewer. */
export const parseChatFromHelper = (v: unknown): ChatFromHelper => {
  if (!isRecord(v)) fail('', 'message must be a JSON object');
  const type = oneOf(['message', 'error'] as const)(v.type, 'type');
  return type === 'message' ? message(v, '') : error(v, '');
};

/**
 * Text typed somewhere else (the viewer's input box, the session's chat window) as a valid chat line:
 * forbidden characters become spaces, runs of spaces one, cut to MAX_CHAT_TEXT; undefined when nothing
 * is left.
 */
export function chatLine(text: string): string | undefined {
  const clean = text.replace(new RegExp(FORBIDDEN.source, 'gu'), ' ').replace(/\s+/g, ' ').trim();
  if (clean === '') return undefined;
  // Cut on a code point boundary: half a surrogate pair is not text.
  let cut = clean.slice(0, MAX_CHAT_TEXT);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut;
}

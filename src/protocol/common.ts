/** Shapes shared by several boundaries: error codes, displays, ICE servers, SDP. */
import { REPLY_ERROR_CODES, type ReplyErrorCode } from '../errors/reply-codes.js';
import { arrayOf, bool, fail, int, object, oneOf, optional, str, type Guard } from './validate.js';

/** Stable error codes every reply may carry (API link and IPC alike): src/errors/reply-codes.ts. */
export const ERROR_CODES = REPLY_ERROR_CODES;
export type ErrorCode = ReplyErrorCode;
export const errorCode = oneOf(ERROR_CODES);

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** With a capacity code (`too_many_viewers`, `busy`, `rate_limited`): when to try again. */
  retryAfterMs?: number;
}
export const errorBody: Guard<ErrorBody> = object({
  code: errorCode,
  message: str({ max: 2000 }),
  retryAfterMs: optional(int(0, 3_600_000)),
});

/** An OS session number: a WTS session id on Windows, an X display number on Linux. */
export const osSessionId = int(0, 0x7fff_ffff);

/** The id the API gives one desktop connection (Breeze's `sessionId` in start/stop_desktop). */
export const desktopSessionId = str({ min: 1, max: 128, pattern: /^[A-Za-z0-9._:-]+$/ });

export const MAX_DISPLAYS = 16;
export const displayIndex = int(0, MAX_DISPLAYS - 1);

export interface DisplayInfo {
  index: number;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  primary: boolean;
}
export const displayInfo: Guard<DisplayInfo> = object({
  index: displayIndex,
  name: str({ max: 128 }),
  x: int(-65_536, 65_536),
  y: int(-65_536, 65_536),
  width: int(1, 16_384),
  height: int(1, 16_384),
  primary: bool,
});
export const displayList = arrayOf(displayInfo, { max: MAX_DISPLAYS });

/** SDP text of an offer or answer. 64 KiB is far above any real desktop offer (~5 KiB). */
export const MAX_SDP_LENGTH = 65_536;
export const sdp: Guard<string> = (v, path) => {
  const s = str({ min: 3, max: MAX_SDP_LENGTH })(v, path);
  if (!s.startsWith('v=0')) fail(path, "is not SDP (must start with 'v=0')");
  return s;
};

/**
 * A viewer's offer porthole can answer: SDP with a video section offering H.264, the only codec a
 * helper sends. Checked where the offer enters (the API, the agent link) so that a viewer without
 * H.264 hears `bad_request` naming `offer` at once; the helper still picks the exact format.
 */
export const h264Offer: Guard<string> = (v, path) => {
  const s = sdp(v, path);
  if (!/^m=video /m.test(s)) fail(path, 'has no video section (m=video): the desktop is sent as video');
  if (!/^a=rtpmap:\d+ H264\/90000/im.test(s))
    fail(path, 'offers no H.264 video, the codec the desktop is sent in');
  return s;
};

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}
const iceUrl = str({ min: 5, max: 512, pattern: /^(stun|stuns|turn|turns):[^\s]+$/ });
export const iceServer: Guard<IceServer> = object({
  urls: (v, path) => (Array.isArray(v) ? arrayOf(iceUrl, { min: 1, max: 8 })(v, path) : iceUrl(v, path)),
  username: optional(str({ max: 512 })),
  credential: optional(str({ max: 512 })),
});
export const iceServerList = arrayOf(iceServer, { max: 8 });

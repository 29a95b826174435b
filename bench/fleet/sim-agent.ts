/**
 * What a simulated agent of `npm run bench:fleet` answers: the real service's replies to the API's
 * commands, minus the desktop. Commands are read with the protocol's own parser (parseApiCommand), so
 * the simulator refuses what a real agent refuses; `start_desktop` gets a fixed answer SDP (no media
 * ever flows), `list_sessions` one console session with a ready helper.
 */
import {
  parseApiCommand,
  salvageCommandId,
  type AgentReply,
  type SessionInfo,
} from '../../src/protocol/api.js';
import { ProtocolError } from '../../src/protocol/validate.js';

/** A well-formed H.264 answer: what a helper's answer looks like to the API (it only checks `v=0`). */
export const CANNED_ANSWER_SDP = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 102',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=sendonly',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=setup:active',
  'a=ice-ufrag:benc',
  'a=ice-pwd:benchfleetbenchfleetbench',
  'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':'),
  '',
].join('\r\n');

/** A viewer's offer the API accepts (h264Offer: a video section offering H.264). */
export const CANNED_OFFER_SDP = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 102',
  'a=mid:0',
  'a=recvonly',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 packetization-mode=1;profile-level-id=42e01f',
  '',
].join('\r\n');

export const CANNED_SESSIONS: SessionInfo[] = [
  {
    sessionId: 1,
    username: 'bench',
    state: 'active',
    type: 'console',
    helperConnected: true,
    helperState: 'ready',
  },
];

/** The reply to one command frame, as the real ApiLink would send it (no consent, no capacity limit). */
export function answerCommand(text: string): AgentReply {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return refusal(null, 'not JSON');
  }
  let cmd;
  try {
    cmd = parseApiCommand(raw);
  } catch (err) {
    return refusal(salvageCommandId(raw), err instanceof ProtocolError ? err.message : 'invalid command');
  }
  switch (cmd.type) {
    case 'list_sessions':
      return { id: cmd.id, type: 'result', ok: true, result: { sessions: CANNED_SESSIONS } };
    case 'start_desktop':
      return {
        id: cmd.id,
        type: 'result',
        ok: true,
        result: { sessionId: cmd.payload.sessionId, answer: CANNED_ANSWER_SDP },
      };
    case 'stop_desktop':
      return {
        id: cmd.id,
        type: 'result',
        ok: true,
        result: { sessionId: cmd.payload.sessionId, stopped: true },
      };
    case 'add_peer':
      return {
        id: cmd.id,
        type: 'result',
        ok: true,
        result: { sessionId: cmd.payload.sessionId, answer: CANNED_ANSWER_SDP },
      };
  }
}

function refusal(id: string | null, message: string): AgentReply {
  return { id, type: 'result', ok: false, error: { code: 'bad_request', message: message.slice(0, 2000) } };
}
